"""The demo's calendar: 618, Double 11, Spring Festival, launches, trade-in subsidies.

The calendar is the platform-shared ``events`` table. The demand model reads
its windows (event ids starting ``618-``, ``D11-``, ``SF-``, ``SUBSIDY-``)
to place spikes, dips and subsidy uplifts, so the table and the truth behind
the sales always agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from cpfr.data.demo.catalog import TOP_CATEGORIES

# Spring Festival (lunar new year's day) by year; the event covers the official holiday.
SPRING_FESTIVAL: dict[int, str] = {
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
}
# Day JD's Double 11 pre-sale opened, by year (later years: 20 October).
DOUBLE11_START: dict[int, str] = {2023: "2023-10-23", 2024: "2024-10-14", 2025: "2025-10-15"}

# Trade-in subsidy programmes: (event id, category, first day, last day). Provinces open and
# close them on their own days (cpfr.data.demo.subsidy); the gaps between programmes show the
# pull-forward dip.
SUBSIDY_PERIODS: tuple[tuple[str, str, str, str], ...] = (
    ("SUBSIDY-2024-CAR", "CAR", "2024-04-26", "2024-12-31"),
    ("SUBSIDY-2024-HA", "HA", "2024-09-01", "2024-12-31"),
    ("SUBSIDY-2025-CAR", "CAR", "2025-01-01", "2025-12-31"),
    ("SUBSIDY-2025-PHONE", "PHONE", "2025-01-20", "2025-08-31"),
    ("SUBSIDY-2025-TABLET", "TABLET", "2025-01-20", "2025-08-31"),
    ("SUBSIDY-2025-WEAR", "WEAR", "2025-01-20", "2025-08-31"),
    ("SUBSIDY-2025-HA", "HA", "2025-03-01", "2025-12-31"),
    ("SUBSIDY-2026-HA", "HA", "2026-01-01", "2026-12-31"),
    ("SUBSIDY-2026-PHONE", "PHONE", "2026-01-01", "2026-12-31"),
)


def build_events(products: pd.DataFrame, horizon_start: dt.date, horizon_end: dt.date) -> pd.DataFrame:
    """Return the ``events`` table for every event that touches the horizon.

    618 and Double 11 (kind ``promotion``), Spring Festival (``holiday``),
    one ``launch`` per SKU launched inside the horizon and the trade-in
    ``subsidy`` periods, one row per subsidised category.

    Parameters
    ----------
    products : pandas.DataFrame
        The ``products`` table (for launches).
    horizon_start, horizon_end : datetime.date
        First and last day modelled.

    Returns
    -------
    pandas.DataFrame
        The ``events`` table, ordered by start date.
    """
    rows: list[dict[str, object]] = []
    for year in range(horizon_start.year, horizon_end.year + 1):
        rows.append(
            _event(
                f"618-{year}",
                f"618 shopping festival {year}",
                "promotion",
                f"{year}-06-01",
                f"{year}-06-18",
                f"{year}-06-18",
            )
        )
        rows.append(
            _event(
                f"D11-{year}",
                f"Double 11 {year}",
                "promotion",
                DOUBLE11_START.get(year, f"{year}-10-20"),
                f"{year}-11-11",
                f"{year}-11-11",
            )
        )
        if year in SPRING_FESTIVAL:
            new_year = pd.Timestamp(SPRING_FESTIVAL[year])
            rows.append(
                _event(
                    f"SF-{year}",
                    f"Spring Festival {year}",
                    "holiday",
                    new_year - pd.Timedelta(days=1),
                    new_year + pd.Timedelta(days=6),
                    new_year,
                )
            )
    for event_id, category_id, first, last in SUBSIDY_PERIODS:
        name = f"Trade-in subsidy {first[:4]} ({TOP_CATEGORIES.get(category_id, category_id)})"
        rows.append(_event(event_id, name, "subsidy", first, last, None, category_id=category_id))
    launch = products["launch_date"]
    launched = products[(launch >= pd.Timestamp(horizon_start)) & (launch <= pd.Timestamp(horizon_end))]
    for sku in launched.to_dict("records"):
        rows.append(
            _event(
                f"LAUNCH-{sku['sku_id']}",
                f"Launch of {sku['name']}",
                "launch",
                sku["launch_date"],
                sku["launch_date"] + pd.Timedelta(days=13),
                sku["launch_date"],
                category_id=sku["category_id"],
                partner_id=sku["partner_id"],
            )
        )
    events = pd.DataFrame(rows)
    overlaps = (events["end_date"] >= pd.Timestamp(horizon_start)) & (
        events["start_date"] <= pd.Timestamp(horizon_end)
    )
    return events[overlaps].sort_values(["start_date", "event_id"], ignore_index=True)


def _event(
    event_id: str,
    name: str,
    kind: str,
    start: Any,
    end: Any,
    peak: Any,
    *,
    category_id: str | None = None,
    partner_id: str | None = None,
) -> dict[str, object]:
    return {
        "event_id": event_id,
        "name": name,
        "kind": kind,
        "start_date": pd.Timestamp(start),
        "end_date": pd.Timestamp(end),
        "peak_date": pd.Timestamp(peak) if peak is not None else pd.NaT,
        "category_id": category_id,
        "partner_id": partner_id,
    }


def build_promotions(
    rng: np.random.Generator,
    products: pd.DataFrame,
    events: pd.DataFrame,
    days: np.ndarray,
    history_end: dt.date,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw the price cuts: festival promotions and short flash sales.

    Most SKUs on sale during 618 or Double 11 take part with a 5-20% cut (EVs
    2-6%); each SKU also runs a few flash sales of 3-10 days during the
    history, half of them on JD online only.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    products : pandas.DataFrame
        The ``products`` table.
    events : pandas.DataFrame
        The ``events`` table.
    days : numpy.ndarray
        The modelled days (``datetime64[D]``), consecutive.
    history_end : datetime.date
        Flash sales are only drawn up to this day; festivals are planned ahead.

    Returns
    -------
    promotions : pandas.DataFrame
        The ``promotions`` table.
    discount : numpy.ndarray
        Shape ``(n_days, n_skus, 2)``: the deepest discount on each day for
        each SKU, online (index 0) and in stores (index 1).
    """
    n_skus = len(products)
    first_day = days[0]
    launch = products["launch_date"].to_numpy().astype("datetime64[D]")
    end = products["end_date"].to_numpy().astype("datetime64[D]")
    last_sale = np.where(np.isnat(end), days[-1], end)
    is_car = (products["category_id"] == "CAR_EV").to_numpy()

    festivals = events[events["event_id"].str.match(r"^(618|D11)-")]
    parts = []
    for festival in festivals.to_dict("records"):
        start = np.datetime64(festival["start_date"], "D")
        stop = np.datetime64(festival["end_date"], "D")
        on_sale = (launch <= stop) & (last_sale >= start)
        takes_part = on_sale & (rng.random(n_skus) < 0.8)
        depth = np.where(is_car, rng.uniform(0.02, 0.06, n_skus), rng.uniform(0.05, 0.20, n_skus))
        parts.append(
            pd.DataFrame(
                {
                    "promotion_id": f"PROMO-{festival['event_id']}",
                    "sku_index": np.flatnonzero(takes_part),
                    "channel_id": None,
                    "start": start,
                    "end": stop,
                    "discount": depth[takes_part].round(2),
                    "event_id": festival["event_id"],
                }
            )
        )

    history_years = (np.datetime64(history_end, "D") - first_day).astype(int) / 365.25
    flash_count = rng.poisson(4.0 * history_years, n_skus)
    sku_index = np.repeat(np.arange(n_skus), flash_count)
    window_start = np.maximum(launch, first_day)[sku_index]
    window_end = np.minimum(last_sale, np.datetime64(history_end, "D"))[sku_index] - np.timedelta64(10, "D")
    span = np.maximum((window_end - window_start).astype(int), 0)
    start = window_start + (rng.random(sku_index.size) * span).astype("timedelta64[D]")
    length = rng.integers(3, 11, sku_index.size)
    online_only = rng.random(sku_index.size) < 0.5
    flash = pd.DataFrame(
        {
            "promotion_id": [f"FLASH-{number:06d}" for number in range(1, sku_index.size + 1)],
            "sku_index": sku_index,
            "channel_id": pd.Series(online_only).map({True: "JD_ONLINE", False: None}),
            "start": start,
            "end": start + (length - 1).astype("timedelta64[D]"),
            "discount": rng.uniform(0.05, 0.15, sku_index.size).round(2),
            "event_id": None,
        }
    )
    # Flash sales only where the SKU had room for one (span > 0).
    parts.append(flash[span > 0])
    plan = pd.concat(parts, ignore_index=True)
    discount = _discount_array(plan, days, n_skus)
    promotions = pd.DataFrame(
        {
            "promotion_id": plan["promotion_id"],
            "sku_id": products["sku_id"].to_numpy()[plan["sku_index"].to_numpy()],
            "partner_id": products["partner_id"].to_numpy()[plan["sku_index"].to_numpy()],
            "channel_id": plan["channel_id"],
            "start_date": pd.to_datetime(plan["start"].to_numpy()),
            "end_date": pd.to_datetime(plan["end"].to_numpy()),
            "discount": plan["discount"].astype("float64"),
            "event_id": plan["event_id"],
        }
    )
    return promotions, discount


def _discount_array(plan: pd.DataFrame, days: np.ndarray, n_skus: int) -> np.ndarray:
    # Expand every promotion into its days at once, then keep the deepest cut
    # per (day, SKU, channel group) where promotions overlap.
    discount = np.zeros((days.size, n_skus, 2))
    first = ((plan["start"].to_numpy().astype("datetime64[D]") - days[0]).astype(int)).clip(0, days.size)
    last = ((plan["end"].to_numpy().astype("datetime64[D]") - days[0]).astype(int) + 1).clip(0, days.size)
    length = np.maximum(last - first, 0)
    row = np.repeat(np.arange(len(plan)), length)
    offset = np.arange(row.size) - np.repeat(np.cumsum(length) - length, length)
    day_index = first[row] + offset
    sku_index = plan["sku_index"].to_numpy()[row]
    depth = plan["discount"].to_numpy(dtype=float)[row]
    all_channels = plan["channel_id"].isna().to_numpy()[row]
    np.maximum.at(discount[:, :, 0], (day_index, sku_index), depth)
    np.maximum.at(discount[:, :, 1], (day_index[all_channels], sku_index[all_channels]), depth[all_channels])
    return discount
