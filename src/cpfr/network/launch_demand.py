"""Demand per point of sale for a SKU about to launch, from the store, as it was known before launch.

The method, in three honest steps, using only sales dated before the launch day:

1. **How much in all.** The launch forecast of :func:`cpfr.forecast.launch.analogue_forecast`:
   the similarity-weighted launch curve of the SKU's category peers that launched earlier
   (of any earlier launch when its category has none in the sales history), summed over the
   first ``days`` days.
2. **Where.** Each analogue's sales per location over its own first ``days`` days, as shares of
   its total, averaged with the analogue weights; blended with the category's recent share per
   location (``CATEGORY_BLEND``) so that a store where the category sells, but no analogue did,
   is not certain to sell nothing. A point's mean is the total times its share.
3. **How uncertain.** Negative binomial demand per point, variance mu + mu^2 / k, with the
   dispersion k = 1 / CV^2 from the spread of the analogues' own launch totals around their
   weighted mean: a launch total is as uncertain as its analogues are different.

With ``history`` (:func:`past_launches`), the launches whose first ``days`` days ended before
this launch — at least ``HISTORY_MIN_LAUNCHES`` of them — replace step 3 and correct step 1
(:mod:`cpfr.network.launch_calibration`): each point's demand is zero-inflated negative binomial,
its channel's presence pi and the dispersion k fitted by maximum likelihood on those launches'
realised sales per point, and the total is the forecast corrected by their forecast errors and
conditioned on selling out the planner's ``quantity`` (E[T | T >= Q]). Replayed on the demo's
launches this beats pro-rata-to-forecast where step 3 alone lost to it
(``benchmarks/network_allocation.py``).

Points are the locations open on the launch day that sell to anyone (no partner) or belong to
the SKU's partner (its brand stores), and where the category sold in the look-back window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.forecast.launch import analogue_forecast
from cpfr.network.allocation import (
    AllocationPoint,
    negative_binomial,
    zero_inflated_negative_binomial,
)
from cpfr.network.launch_calibration import ZeroInflatedDispersion, conditional_total

CATEGORY_BLEND = 0.2
"""Weight of the category's recent share per location against the analogues' launch shares: a
prior of one part in five, so analogues decide where demand is but do not rule a store out."""
CATEGORY_WINDOW_DAYS = 90
"""Days before the launch whose category sales give the blended share (one quarter)."""
DISPERSION_RANGE = (0.5, 50.0)
"""Bounds of the fitted dispersion k: below 0.5 the analogues disagree wildly (a CV above 1.4),
above 50 the negative binomial is a Poisson to a percent."""
ANALOGUES = 5
HISTORY_MIN_LAUNCHES = 3
"""Fewest earlier launches to fit presence, dispersion and the total's error from: with fewer,
the analogue spread of step 3 stays (a standard deviation needs two errors; three is the least
that says anything about a channel)."""
PRESENCE_FLOOR = 0.02
"""Lowest presence pi used: a point whose channel never sold an earlier launch keeps a chance."""


@dataclass(frozen=True)
class PastLaunch:
    """An earlier launch: what was forecast per point before it, and what it sold.

    Attributes
    ----------
    sku_id : str
        The SKU.
    launch_date, window_end : datetime.date
        Its launch day and the last day of its first ``days`` days.
    expected_total : float
        The analogue forecast of its total, made before it launched.
    locations : pandas.DataFrame
        ``point_id, channel, mean`` per point, as forecast before it launched.
    sold : pandas.Series
        Units it sold per point over its first ``days`` days (the store's sales, by ``point_id``).
    """

    sku_id: str
    launch_date: dt.date
    window_end: dt.date
    expected_total: float
    locations: pd.DataFrame
    sold: pd.Series


@dataclass(frozen=True)
class LaunchDemand:
    """What a launch is expected to sell, point by point.

    Attributes
    ----------
    sku_id : str
        The SKU.
    launch_date : datetime.date
        Its launch day (the day of the first unit sold).
    expected_total : float
        Units expected over the first ``days`` days, all points (with history: conditioned on
        selling out the quantity).
    dispersion : float
        k of every point's negative binomial.
    points : list of AllocationPoint
        One per point of sale, channel and tier as in the store.
    locations : pandas.DataFrame
        ``point_id, name, channel, channel_name, tier, region, share, mean`` per point.
    analogues : list of str
        The peers the forecast came from.
    analogue_total : float
        The analogue forecast of the total, before any correction.
    presence : dict of str to float or None
        pi per channel when the demand was fitted on earlier launches, else None.
    launches_learnt_from : int
        Earlier launches the fit used (0: the analogue spread).
    """

    sku_id: str
    launch_date: dt.date
    expected_total: float
    dispersion: float
    points: list[AllocationPoint]
    locations: pd.DataFrame
    analogues: list[str]
    analogue_total: float = 0.0
    presence: dict[str, float] | None = None
    launches_learnt_from: int = 0


def launch_demand(
    store: Store,
    sku_id: str,
    *,
    days: int = 28,
    quantity: int = 0,
    history: Sequence[PastLaunch] = (),
    log: Callable[[str], None] | None = None,
) -> LaunchDemand:
    """Demand per point over the first ``days`` days of ``sku_id``, from sales before its launch.

    ``quantity`` is what the planner ships and expects to sell out; ``history`` holds earlier
    launches (:func:`past_launches`): only those whose window ended before this launch are used,
    whatever else it holds.

    Raises
    ------
    InputError
        An unknown SKU, one without a launch date, or one whose category has no earlier launch.
    """
    say = log or (lambda message: None)
    products = store.read_table("products")
    row = products[products["sku_id"] == sku_id]
    if row.empty:
        raise InputError(f"--sku {sku_id}: no such SKU in the store's products")
    product = row.iloc[0]
    if pd.isna(product["launch_date"]):
        raise InputError(f"SKU {sku_id} has no launch_date: a launch allocation needs one")
    launch = pd.Timestamp(product["launch_date"])
    # analogues: earlier launches with `days` days of sales (same category first, any category
    # when it has none, as analogue_forecast falls back); the category's SKUs for the recent shares
    first_day, _ = store.date_range("sales")
    launched = pd.to_datetime(products["launch_date"])
    earlier = products[
        (launched >= pd.Timestamp(first_day or launch)) & (launched + pd.Timedelta(days=days) <= launch)
    ]
    in_category = products["category_id"] == product["category_id"]
    wanted = products[in_category | products["sku_id"].isin(earlier["sku_id"])]
    before = (launch - pd.Timedelta(days=1)).date()
    sales = store.read_table("sales", where={"sku_id": list(wanted["sku_id"])}, end=before)
    sales = sales.assign(ds=pd.to_datetime(sales["date"]))
    say(f"read {len(sales):,} sales rows of {len(wanted):,} SKUs before {launch.date()}")
    forecast = analogue_forecast(
        row, wanted, sales[["sku_id", "ds", "units"]], days=days, analogues=ANALOGUES
    )
    links = forecast.analogues
    if links.empty or forecast.forecast.empty:
        raise InputError(
            f"SKU {sku_id}: no SKU launched with {days} days of sales before {launch.date()}: nothing "
            "to forecast its launch from"
        )
    expected_total = float(forecast.forecast["mean"].sum())
    shares, dispersion = _analogue_shares(sales, products, links, days)
    category_sales = sales[sales["sku_id"].isin(products.loc[in_category, "sku_id"])]
    recent = category_sales[category_sales["ds"] > launch - pd.Timedelta(days=CATEGORY_WINDOW_DAYS)]
    category = recent.groupby("location_id")["units"].sum()
    category = category / category.sum() if category.sum() > 0 else category
    locations = _eligible(store, product, launch.date())
    share = (1 - CATEGORY_BLEND) * shares.reindex(locations.index, fill_value=0.0) + CATEGORY_BLEND * (
        category.reindex(locations.index, fill_value=0.0)
    )
    locations = locations.assign(share=share)[share > 0]
    locations = locations.assign(share=locations["share"] / locations["share"].sum())
    locations = locations.assign(mean=locations["share"] * expected_total)
    locations = locations[locations["mean"] > 1e-6]
    say(f"launch forecast {expected_total:,.0f} units over {days} days from {len(links)} analogues")
    analogue_total = expected_total
    ended_before = [past for past in history if past.window_end < launch.date()]
    presence: dict[str, float] | None = None
    learnt = _learn(ended_before) if len(ended_before) >= HISTORY_MIN_LAUNCHES else None
    if learnt is not None:
        model, errors = learnt
        dispersion = float(np.clip(model.dispersion_, *DISPERSION_RANGE))
        expected_total = conditional_total(analogue_total, errors, quantity)
        locations = locations.assign(mean=locations["share"] * expected_total)
        presence = {
            str(channel): max(model.presence(str(channel)), PRESENCE_FLOOR)
            for channel in locations["channel"].unique()
        }
        demands = [
            zero_inflated_negative_binomial(
                float(mean), presence[str(channel)], dispersion, lump_above=quantity or None
            )
            for channel, mean in zip(locations["channel"], locations["mean"], strict=True)
        ]
        say(
            f"from {len(ended_before)} earlier launches: total {expected_total:,.0f} given "
            f"{quantity:,} sell out, "
            f"dispersion k = {dispersion:.2f}, presence by channel "
            + ", ".join(f"{channel} {value:.2f}" for channel, value in sorted(presence.items()))
        )
    else:
        demands = [negative_binomial(float(mean), dispersion) for mean in locations["mean"]]
        say(
            f"dispersion k = {dispersion:.2f} from the analogues' spread "
            f"({len(ended_before)} earlier launches)"
        )
    points = [
        AllocationPoint(str(point_id), str(channel), str(tier), demand)
        for point_id, channel, tier, demand in zip(
            locations.index, locations["channel"], locations["tier"], demands, strict=True
        )
    ]
    return LaunchDemand(
        sku_id,
        launch.date(),
        expected_total,
        dispersion,
        points,
        locations.rename_axis("point_id").reset_index(),
        [str(item) for item in links["analogue_id"]],
        analogue_total,
        presence,
        len(ended_before) if presence is not None else 0,
    )


def past_launches(
    store: Store, *, before: dt.date, days: int = 28, log: Callable[[str], None] | None = None
) -> list[PastLaunch]:
    """Every launch whose first ``days`` days ended before ``before``: its forecast and its sales.

    Each forecast is :func:`launch_demand` without history, so it uses only sales before that
    launch; launches with nothing to forecast from are left out. Sales are the store's (what was
    sold, not the demand a stock-out turned away).
    """
    say = log or (lambda message: None)
    products = store.read_table("products")
    first_day, _ = store.date_range("sales")
    launched = pd.to_datetime(products["launch_date"])
    window = pd.Timedelta(days=days)
    chosen = products[
        launched.notna()
        & (launched >= pd.Timestamp(first_day or before))
        & (launched + window <= pd.Timestamp(before))
    ].sort_values("launch_date")
    sales = store.read_table("sales", where={"sku_id": list(chosen["sku_id"])}, end=before)
    sales = sales.assign(ds=pd.to_datetime(sales["date"]))
    result = []
    for sku in chosen["sku_id"]:
        try:
            demand = launch_demand(store, str(sku), days=days)
        except InputError:
            continue
        start = pd.Timestamp(demand.launch_date)
        first = sales[(sales["sku_id"] == sku) & (sales["ds"] >= start) & (sales["ds"] < start + window)]
        result.append(
            PastLaunch(
                str(sku),
                demand.launch_date,
                (start + window - pd.Timedelta(days=1)).date(),
                demand.expected_total,
                demand.locations[["point_id", "channel", "mean"]],
                first.groupby("location_id")["units"].sum().rename_axis("point_id"),
            )
        )
    say(f"{len(result)} earlier launches with {days} days of sales before {before}")
    return result


def _learn(earlier: Sequence[PastLaunch]) -> tuple[ZeroInflatedDispersion, list[float]] | None:
    """Presence and dispersion fitted on earlier launches' sales per point, and their total errors.

    None when fewer than two of them sold anything.

    Each launch's forecast shares are scaled to what it sold in all, so the fit measures where it
    sold given how much, and the total's error is measured apart (log realised / forecast).
    """
    units, means, errors = [], [], []
    groups: list[str] = []
    for past in earlier:
        sold = past.sold.reindex(past.locations["point_id"], fill_value=0.0).to_numpy(dtype=float)
        if sold.sum() <= 0 or past.expected_total <= 0:
            continue
        shares = past.locations["mean"].to_numpy(dtype=float)
        units.append(sold)
        means.append(shares / shares.sum() * sold.sum())
        groups.extend(str(channel) for channel in past.locations["channel"])
        errors.append(float(np.log(sold.sum() / past.expected_total)))
    if len(errors) < 2:
        return None
    model = ZeroInflatedDispersion().fit(np.concatenate(units), np.concatenate(means), groups)
    return model, errors


def _analogue_shares(
    sales: pd.DataFrame, products: pd.DataFrame, links: pd.DataFrame, days: int
) -> tuple[pd.Series, float]:
    """Weighted launch shares per location of the analogues, and k from the spread of their totals."""
    launches = pd.to_datetime(products.set_index("sku_id")["launch_date"])
    shares, totals, weights = [], [], []
    for analogue, weight in zip(links["analogue_id"], links["weight"], strict=True):
        start = launches[analogue]
        first = sales[
            (sales["sku_id"] == analogue)
            & (sales["ds"] >= start)
            & (sales["ds"] < start + pd.Timedelta(days=days))
        ]
        by_location = first.groupby("location_id")["units"].sum()
        if by_location.sum() <= 0:
            continue
        shares.append(by_location / by_location.sum() * float(weight))
        totals.append(float(by_location.sum()))
        weights.append(float(weight))
    if not shares:
        return pd.Series(dtype=float), DISPERSION_RANGE[0]
    share = pd.concat(shares, axis=1).fillna(0.0).sum(axis=1) / sum(weights)
    total, weight = np.asarray(totals), np.asarray(weights) / sum(weights)
    mean = float(total @ weight)
    variance = float(((total - mean) ** 2) @ weight)
    dispersion = mean**2 / variance if variance > 0 else DISPERSION_RANGE[1]
    return share, float(np.clip(dispersion, *DISPERSION_RANGE))


def _eligible(store: Store, product: pd.Series, launch: dt.date) -> pd.DataFrame:
    """Locations open on ``launch`` that sell the SKU's partner's goods, with channel names."""
    locations = store.read_table("locations")
    channels = store.read_table("channels").set_index("channel_id")["name"]
    open_on_day = pd.to_datetime(locations["open_date"]).dt.date <= launch
    partner = locations["partner_id"].isna() | (locations["partner_id"] == product["partner_id"])
    kept = locations[open_on_day & partner]
    return pd.DataFrame(
        {
            "name": kept["name"].to_numpy(),
            "channel": kept["channel_id"].to_numpy(),
            "channel_name": kept["channel_id"].map(channels).fillna(kept["channel_id"]).to_numpy(),
            "tier": kept["city_tier"].astype(str).to_numpy(),
            "region": kept["region"].to_numpy(),
        },
        index=pd.Index(kept["location_id"].to_numpy(), name="point_id"),
    )
