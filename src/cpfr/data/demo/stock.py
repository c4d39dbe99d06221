r"""Inventory behind the demo's sales: periodic review, lead times and lost sales.

Every selling (SKU, location) series is replenished by a weekly
order-up-to policy (review period *R* = 7 days, lead time *L* of the serving
FDC): on each Monday the planner orders up to

.. math::

    S_t = c \, \varepsilon_t \, F_t + z \sqrt{F_t + F_t^2 / (r (L + R))},
    \qquad F_t = \sum_{j=0}^{L+R-1} \mu_{t+j}

where *F* is the true mean demand over the protection interval, *ε* a
lognormal forecast error, *c* the coverage (below one for hot launches, so
they sell out), *z* the safety factor and *r* the negative-binomial shape
(Silver, Pyke & Thomas 2017, *Inventory and Production Management in Supply
Chains*, 4th ed., ch. 6, periodic-review order-up-to). Demand not met from
stock on hand is lost: recorded sales are ``min(demand, on hand)``, so they
are censored on stockout days.

The simulation loops over days (about 1,100) and is vectorised across all
series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REVIEW_PERIOD_DAYS = 7
REVIEW_WEEKDAY = 0  # Monday, in numpy's Monday=0 convention after the shift below
SAFETY_FACTOR = 1.0
FORECAST_ERROR_SIGMA = 0.3
HOT_LAUNCH_COVERAGE = 0.3  # allocation caps hold a hot launch far below its demand
HOT_LAUNCH_WINDOW_DAYS = (-14, 30)  # orders from two weeks before to a month after launch


@dataclass(frozen=True)
class StockResult:
    """Daily outcome of the inventory simulation, each ``(n_days, n_series)``.

    Attributes
    ----------
    sales : numpy.ndarray
        Units sold: ``min(demand, stock available)``.
    on_hand : numpy.ndarray
        Units on hand at the end of the day.
    in_transit : numpy.ndarray
        Units ordered and not yet received at the end of the day.
    stockout : numpy.ndarray
        True where demand exceeded the stock available (sales are censored).
    order_quantity : numpy.ndarray
        Units ordered that day (review days only).
    """

    sales: np.ndarray
    on_hand: np.ndarray
    in_transit: np.ndarray
    stockout: np.ndarray
    order_quantity: np.ndarray


def policy_parameters() -> dict[str, object]:
    """Return the replenishment policy's constants, JSON-serialisable, for the truth file."""
    return {
        "review_period_days": REVIEW_PERIOD_DAYS,
        "review_weekday": "Monday",
        "safety_factor": SAFETY_FACTOR,
        "forecast_error_sigma": FORECAST_ERROR_SIGMA,
        "hot_launch_coverage": HOT_LAUNCH_COVERAGE,
        "hot_launch_window_days": list(HOT_LAUNCH_WINDOW_DAYS),
    }


def simulate_stock(
    rng: np.random.Generator,
    demand: np.ndarray,
    mean: np.ndarray,
    days: np.ndarray,
    lead_time_days: np.ndarray,
    dispersion: np.ndarray,
    hot_launch_day: np.ndarray,
) -> StockResult:
    """Run the weekly order-up-to policy with lost sales over all series at once.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the planner's forecast errors.
    demand : numpy.ndarray
        ``(n_days, n_series)`` units demanded each day.
    mean : numpy.ndarray
        ``(n_days + lookahead, n_series)`` true mean demand from the first
        simulated day on; rows past ``n_days`` let the planner look ahead.
    days : numpy.ndarray
        The simulated days, ``datetime64[D]``.
    lead_time_days : numpy.ndarray
        ``(n_series,)`` replenishment lead time *L*.
    dispersion : numpy.ndarray
        ``(n_series,)`` negative-binomial shape *r* of demand.
    hot_launch_day : numpy.ndarray
        ``(n_series,)`` day index of the SKU's launch for hot launches, and a
        large negative number for every other series.

    Returns
    -------
    StockResult
        Sales, stock, stockouts and orders per day and series.
    """
    n_days, n_series = demand.shape
    horizon = mean.shape[0]
    protection = lead_time_days + REVIEW_PERIOD_DAYS
    longest = int(protection.max())
    columns = np.arange(n_series)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday -> 0

    def order_up_to(day: int) -> np.ndarray:
        window = mean[day : min(day + longest, horizon)]
        covered = np.arange(window.shape[0])[:, None] < protection[None, :]
        forecast = (window * covered).sum(axis=0)
        error = rng.lognormal(-0.5 * FORECAST_ERROR_SIGMA**2, FORECAST_ERROR_SIGMA, n_series)
        since_launch = day - hot_launch_day
        capped = (since_launch >= HOT_LAUNCH_WINDOW_DAYS[0]) & (since_launch <= HOT_LAUNCH_WINDOW_DAYS[1])
        safety = SAFETY_FACTOR * np.sqrt(forecast + forecast**2 / (dispersion * protection))
        level = np.where(capped, HOT_LAUNCH_COVERAGE * forecast, error * forecast + safety)
        return np.ceil(level).astype(np.int64)

    sales = np.zeros((n_days, n_series), dtype=np.int32)
    on_hand_record = np.zeros((n_days, n_series), dtype=np.int32)
    in_transit_record = np.zeros((n_days, n_series), dtype=np.int32)
    stockout = np.zeros((n_days, n_series), dtype=bool)
    order_quantity = np.zeros((n_days, n_series), dtype=np.int32)
    pipeline = np.zeros((n_days + longest + 1, n_series), dtype=np.int64)
    # Start in steady state: each series holds its order-up-to level on day one.
    on_hand = order_up_to(0)
    in_transit = np.zeros(n_series, dtype=np.int64)
    for day in range(n_days):
        arriving = pipeline[day]
        on_hand += arriving
        in_transit -= arriving
        if weekday[day] == REVIEW_WEEKDAY:
            quantity = np.maximum(order_up_to(day) - on_hand - in_transit, 0)
            pipeline[day + lead_time_days, columns] += quantity
            in_transit += quantity
            order_quantity[day] = quantity
        today = demand[day]
        sold = np.minimum(today, on_hand)
        stockout[day] = today > on_hand
        on_hand -= sold
        sales[day] = sold
        on_hand_record[day] = on_hand
        in_transit_record[day] = in_transit
    return StockResult(sales, on_hand_record, in_transit_record, stockout, order_quantity)


def purchase_orders(
    order_quantity: np.ndarray,
    days: np.ndarray,
    series_sku: np.ndarray,
    series_warehouse: np.ndarray,
    products: pd.DataFrame,
    warehouses: pd.DataFrame,
    history_end: np.datetime64,
) -> pd.DataFrame:
    """Aggregate the series' weekly orders into purchase orders per SKU and FDC.

    Parameters
    ----------
    order_quantity : numpy.ndarray
        ``(n_days, n_series)`` units ordered, from :func:`simulate_stock`.
    days : numpy.ndarray
        The simulated days.
    series_sku, series_warehouse : numpy.ndarray
        Row index into ``products`` and ``warehouses`` of each series.
    products, warehouses : pandas.DataFrame
        The reference tables.
    history_end : numpy.datetime64
        Orders due after it are still shipping.

    Returns
    -------
    pandas.DataFrame
        The ``orders`` table (kind ``purchase``, shipped by the partner to the FDC).
    """
    day_index, series = np.nonzero(order_quantity)
    lines = pd.DataFrame(
        {
            "day": day_index,
            "sku": series_sku[series],
            "warehouse": series_warehouse[series],
            "quantity": order_quantity[day_index, series].astype(np.int64),
        }
    )
    orders = lines.groupby(["day", "sku", "warehouse"], as_index=False, sort=True)["quantity"].sum()
    order_date = days[orders["day"].to_numpy()]
    lead = warehouses["lead_time_days"].to_numpy()[orders["warehouse"].to_numpy()]
    due_date = order_date + lead.astype("timedelta64[D]")
    sku_id = products["sku_id"].to_numpy()[orders["sku"].to_numpy()]
    warehouse_id = warehouses["warehouse_id"].to_numpy()[orders["warehouse"].to_numpy()]
    date_text = pd.to_datetime(order_date).strftime("%Y%m%d").to_numpy()
    return pd.DataFrame(
        {
            "order_id": "PO-" + date_text + "-" + warehouse_id + "-" + sku_id,
            "kind": "purchase",
            "sku_id": sku_id,
            "partner_id": products["partner_id"].to_numpy()[orders["sku"].to_numpy()],
            "from_site_id": None,
            "to_site_id": warehouse_id,
            "order_date": pd.to_datetime(order_date),
            "due_date": pd.to_datetime(due_date),
            "quantity": orders["quantity"].to_numpy(),
            "status": np.where(due_date <= history_end, "received", "shipped"),
        }
    )
