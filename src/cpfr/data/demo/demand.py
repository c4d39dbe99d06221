r"""The true demand behind the demo's sales: a multiplicative model per SKU, location and day.

The mean daily demand of SKU *k* at location *l* on day *d* is

.. math::

    \mu_{k,l,d} = b_k \, a_l \, g_{c,d} \, w_{c,d} \, y_{c,d} \, e_{c,d} \, h_{c,d}
    \, \tau_{t,d} \, L_{k,d} \, (1 - \delta_{k,l,d})^{\varepsilon_c} \, S_{k,r,d} \, m_k

with base rate *b* (category, price and popularity), location scale *a*,
category trend *g*, weekly *w* and yearly *y* seasonality, festival spikes
and pull-forward dips *e*, the Spring Festival dip *h*, city-tier growth
*τ*, the launch curve *L* (zero before launch and after the end date), the
price effect of discount *δ* with elasticity *ε*, the trade-in subsidy
factor *S* of the location's region *r* (uplift, cannibalisation and
pull-forward dip: :mod:`cpfr.data.demo.subsidy`) and the C2M uplift *m*. Realised demand is negative binomial
(Poisson-gamma) around the mean, so slow SKUs are intermittent.

Every parameter drawn here is returned in ``parameters`` so tests and
forecast evaluations can compare what a model learns with the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpfr.data.demo.catalog import LEAF_BY_ID, LEAF_CATEGORIES, Catalog
from cpfr.data.demo.network import CHANNELS
from cpfr.data.demo.subsidy import SUBSIDY_RULES, SubsidyPlan, build_subsidy_plan

LEAVES: tuple[str, ...] = tuple(leaf.category_id for leaf in LEAF_CATEGORIES)

# Mean daily units of a typical SKU in an average online zone.
BASE_UNITS: dict[str, float] = {
    "PHONE": 3.0, "TABLET": 1.2, "LAPTOP": 1.0, "TV": 0.8, "AC": 1.0, "FRIDGE": 0.6,
    "WASHER": 0.8, "WATCH": 1.2, "BAND": 2.5, "CAR_EV": 0.03, "TOILET": 0.25, "SHOWER": 0.8,
}  # fmt: skip
# Negative-binomial shape: small values give lumpy, intermittent demand.
DISPERSION: dict[str, float] = {
    "PHONE": 2.0, "TABLET": 1.5, "LAPTOP": 1.5, "TV": 1.2, "AC": 1.0, "FRIDGE": 1.2,
    "WASHER": 1.2, "WATCH": 1.5, "BAND": 2.0, "CAR_EV": 0.5, "TOILET": 0.8, "SHOWER": 1.2,
}  # fmt: skip
# Log-growth per year: EVs and smart wear grow, TVs shrink.
TREND_PER_YEAR: dict[str, float] = {
    "PHONE": 0.03, "TABLET": 0.05, "LAPTOP": 0.02, "TV": -0.02, "AC": 0.04, "FRIDGE": 0.03,
    "WASHER": 0.03, "WATCH": 0.10, "BAND": 0.06, "CAR_EV": 0.35, "TOILET": 0.12, "SHOWER": 0.06,
}  # fmt: skip
# Yearly seasonality: (amplitude of exp(amplitude * cos), peak day of year).
YEARLY: dict[str, tuple[float, int]] = {
    "PHONE": (0.10, 260), "TABLET": (0.12, 235), "LAPTOP": (0.20, 235), "TV": (0.20, 20),
    "AC": (0.60, 185), "FRIDGE": (0.20, 200), "WASHER": (0.10, 200), "WATCH": (0.10, 300),
    "BAND": (0.10, 300), "CAR_EV": (0.15, 340), "TOILET": (0.15, 330), "SHOWER": (0.10, 330),
}  # fmt: skip
# Weekly profile Monday..Sunday by top-level category: appliances and cars are weekend buys.
WEEKLY: dict[str, tuple[float, ...]] = {
    "3C": (0.95, 0.93, 0.93, 0.95, 1.00, 1.12, 1.12),
    "HA": (0.90, 0.88, 0.88, 0.90, 0.97, 1.22, 1.25),
    "WEAR": (0.97, 0.95, 0.95, 0.97, 1.02, 1.07, 1.07),
    "CAR": (0.80, 0.80, 0.80, 0.85, 0.95, 1.40, 1.40),
    "BATH": (0.92, 0.90, 0.90, 0.92, 0.98, 1.18, 1.20),
}
# Depth of the Spring Festival dip by top category: installs and deliveries pause.
SPRING_FESTIVAL_DIP: dict[str, float] = {"3C": 0.35, "HA": 0.50, "WEAR": 0.30, "CAR": 0.60, "BATH": 0.60}
# Festival peak uplift ranges by top category (618; Double 11 is drawn 5-20% higher).
FESTIVAL_UPLIFT: dict[str, tuple[float, float]] = {
    "3C": (3.5, 5.0), "HA": (3.0, 4.5), "WEAR": (3.5, 5.0), "CAR": (1.3, 1.6), "BATH": (2.5, 3.5),
}  # fmt: skip
PULL_FORWARD = {"days": 7, "dip_before": 0.30, "dip_after": 0.20}
# Log-growth per year by city tier 1..5: the sinking market (3-5) grows fastest.
TIER_GROWTH: tuple[float, ...] = (0.02, 0.04, 0.10, 0.14, 0.18)
ONLINE_REGION: dict[str, float] = {
    "North": 1.1, "East": 1.4, "South": 1.3, "Central": 0.9, "Southwest": 0.8, "Northwest": 0.5,
}  # fmt: skip
ONLINE_TIER: tuple[float, ...] = (1.5, 1.3, 1.0, 0.75, 0.55)
STORE_SCALE = 0.18  # a store sells a small fraction of an online zone
STORE_TIER: tuple[float, ...] = (1.6, 1.3, 1.0, 0.8, 0.65)
STORE_FORMAT: dict[str, float] = {
    "JD_MALL": 2.5, "JD_HA": 1.0, "XIAOMI_HOME": 1.5, "MIDEA_STORE": 1.2, "LENOVO_STORE": 1.0,
}  # fmt: skip
# Appliances, bathrooms and cars are bought in stores far more than phones are.
STORE_AFFINITY: dict[str, float] = {"3C": 1.0, "HA": 2.0, "WEAR": 0.8, "CAR": 4.0, "BATH": 2.0}
# Share of eligible SKUs a store of each channel carries.
CARRY_SHARE: dict[str, float] = {
    "JD_MALL": 0.25, "JD_HA": 0.12, "XIAOMI_HOME": 0.35, "MIDEA_STORE": 0.35, "LENOVO_STORE": 0.40,
}  # fmt: skip
# Top categories a platform store format carries (brand stores carry their own brand).
FORMAT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "JD_MALL": ("3C", "HA", "WEAR", "CAR", "BATH"),
    "JD_HA": ("3C", "HA", "WEAR", "BATH"),
}
LAUNCH_CURVE: dict[str, dict[str, float]] = {
    "regular": {"ramp_days": 10.0, "boost": 1.0, "decay_days": 60.0},
    "hot": {"ramp_days": 3.0, "boost": 6.0, "decay_days": 25.0, "popularity": 2.5},
}
AGING_PER_YEAR = 0.15  # demand of an old SKU fades as newer models take over
C2M_UPLIFT = 1.3


@dataclass(frozen=True)
class DemandModel:
    """The true mean demand of every selling (SKU, location) series over the modelled days.

    Attributes
    ----------
    days : numpy.ndarray
        Modelled days, ``datetime64[D]``, consecutive.
    series_sku, series_location : numpy.ndarray
        Row index in ``products`` / ``locations`` of each series.
    series_online : numpy.ndarray
        True where the series is an online zone (prices follow online promotions).
    first_day, last_day : numpy.ndarray
        Index into ``days`` of each series' first and last selling day (inclusive;
        ``last_day < first_day`` when it never sells in the horizon).
    mean : numpy.ndarray
        ``(n_days, n_series)`` mean daily demand, zero outside the selling window.
    dispersion : numpy.ndarray
        Negative-binomial shape of each series.
    discount : numpy.ndarray
        ``(n_days, n_skus, 2)`` discount off list price, online and in stores.
    series_region : numpy.ndarray
        Index into ``subsidy.regions`` of each series' location.
    subsidy : SubsidyPlan
        Subsidy rates, caps and demand multipliers per day, SKU and region.
    parameters : dict
        The drawn parameters, JSON-serialisable (the truth).
    """

    days: np.ndarray
    series_sku: np.ndarray
    series_location: np.ndarray
    series_online: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    mean: np.ndarray
    dispersion: np.ndarray
    discount: np.ndarray
    series_region: np.ndarray
    subsidy: SubsidyPlan
    parameters: dict[str, Any]

    def paid_price(self, list_price: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """Return the paid price of each series on the days ``rows``.

        Parameters
        ----------
        list_price : numpy.ndarray
            ``(n_skus,)`` list prices in yuan.
        rows : slice
            Days (rows of :attr:`mean`) to price; all by default.

        Returns
        -------
        numpy.ndarray
            ``(n_rows, n_series)`` list price times one minus the day's discount.
        """
        group = (~self.series_online).astype(np.int64)
        discount = self.discount[rows][:, self.series_sku, group]
        return list_price[self.series_sku][None, :] * (1.0 - discount)


def draw_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """Draw the per-category elasticities, festival uplifts and subsidy uplifts.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    dict
        JSON-serialisable parameters, including the fixed tables of this module.
    """
    tops = {leaf: LEAF_BY_ID[leaf].parent_id for leaf in LEAVES}
    uplift_618 = {leaf: float(rng.uniform(*FESTIVAL_UPLIFT[tops[leaf]])) for leaf in LEAVES}
    return {
        "elasticity": {leaf: round(float(rng.uniform(-3.0, -1.5)), 3) for leaf in LEAVES},
        "event_uplift": {
            "618": {leaf: round(value, 3) for leaf, value in uplift_618.items()},
            "D11": {
                leaf: round(value * float(rng.uniform(1.05, 1.2)), 3) for leaf, value in uplift_618.items()
            },
        },
        "pull_forward": dict(PULL_FORWARD),
        "spring_festival_dip": dict(SPRING_FESTIVAL_DIP),
        "subsidy_uplift": {leaf: round(float(rng.uniform(0.15, 0.30)), 3) for leaf in LEAVES},
        "subsidy_rules": {key: list(rule) for key, rule in SUBSIDY_RULES.items()},
        "tier_growth_per_year": {str(tier): rate for tier, rate in enumerate(TIER_GROWTH, start=1)},
        "trend_per_year": dict(TREND_PER_YEAR),
        "weekly_seasonality": {top: list(profile) for top, profile in WEEKLY.items()},
        "yearly_seasonality": {
            leaf: {"amplitude": amp, "peak_day_of_year": peak} for leaf, (amp, peak) in YEARLY.items()
        },
        "base_units": dict(BASE_UNITS),
        "dispersion": dict(DISPERSION),
        "launch_curve": {kind: dict(curve) for kind, curve in LAUNCH_CURVE.items()},
        "aging_per_year": AGING_PER_YEAR,
        "c2m_uplift": C2M_UPLIFT,
    }


def selling_series(rng: np.random.Generator, catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Decide which SKU sells at which location.

    Every SKU sells in every online zone; a store carries a random share of
    the SKUs its format stocks (brand stores only their brand's); C2M SKUs
    are online exclusives.

    Returns
    -------
    series_sku, series_location : numpy.ndarray
        Row indices into ``products`` and ``locations``, online zones first.
    """
    products, locations = catalog.products, catalog.locations
    tops = products["category_id"].map({leaf: LEAF_BY_ID[leaf].parent_id for leaf in LEAVES}).to_numpy()
    online = np.flatnonzero((locations["kind"] == "online_zone").to_numpy())
    stores = np.flatnonzero((locations["kind"] == "store").to_numpy())
    store_channel = locations["channel_id"].to_numpy()[stores]
    eligible = np.zeros((len(products), stores.size), dtype=bool)
    carry_share = np.zeros(stores.size)
    for channel_id, share in CARRY_SHARE.items():
        in_channel = store_channel == channel_id
        brand = CHANNELS[channel_id][3]
        if brand is not None:
            sells = (products["partner_id"] == brand).to_numpy()
        else:
            sells = np.isin(tops, FORMAT_CATEGORIES[channel_id])
        eligible[:, in_channel] = sells[:, None]
        carry_share[in_channel] = share
    eligible &= ~products["is_c2m"].to_numpy(dtype=bool)[:, None]
    carried = eligible & (rng.random(eligible.shape) < carry_share[None, :])
    store_sku, store_column = np.nonzero(carried)
    online_sku = np.repeat(np.arange(len(products)), online.size)
    online_location = np.tile(online, len(products))
    return (
        np.concatenate([online_sku, store_sku]),
        np.concatenate([online_location, stores[store_column]]),
    )


def _festival_factor(
    days: np.ndarray, events: pd.DataFrame, uplift: dict[str, dict[str, float]]
) -> np.ndarray:
    # (n_days, n_leaves): ramp towards the peak inside the window, and the
    # pull-forward dips just before and after it (shoppers wait for the deal).
    factor = np.ones((days.size, len(LEAVES)))
    day_number = (days - days[0]).astype(np.int64)
    width = int(PULL_FORWARD["days"])
    for event in events[events["event_id"].str.match(r"^(618|D11)-")].to_dict("records"):
        start = (np.datetime64(event["start_date"], "D") - days[0]).astype(np.int64)
        peak = (np.datetime64(event["peak_date"], "D") - days[0]).astype(np.int64)
        end = (np.datetime64(event["end_date"], "D") - days[0]).astype(np.int64)
        peak_uplift = np.array([uplift[str(event["event_id"]).split("-")[0]][leaf] for leaf in LEAVES])
        inside = (day_number >= start) & (day_number <= end)
        progress = np.clip((day_number - start) / max(peak - start, 1), 0.0, 1.0)
        ramp = 0.15 + 0.85 * progress**3
        factor[inside] *= 1.0 + (peak_uplift[None, :] - 1.0) * ramp[inside, None]
        before = (day_number >= start - width) & (day_number < start)
        factor[before] *= 1.0 - PULL_FORWARD["dip_before"]
        after_days = day_number - end
        after = (after_days >= 1) & (after_days <= width)
        fade = 1.0 - (after_days[after] - 1) / width
        factor[after] *= (1.0 - PULL_FORWARD["dip_after"] * fade)[:, None]
    return factor


def _category_factor(days: np.ndarray, events: pd.DataFrame, parameters: dict[str, Any]) -> np.ndarray:
    # (n_days, n_leaves): trend x weekly x yearly x festivals x Spring Festival.
    tops = [LEAF_BY_ID[leaf].parent_id for leaf in LEAVES]
    years = (days - days[0]).astype(np.int64)[:, None] / 365.25
    trend = np.exp(years * np.array([TREND_PER_YEAR[leaf] for leaf in LEAVES])[None, :])
    weekday = ((days.astype(np.int64) + 3) % 7)[:, None]  # 1970-01-01 was a Thursday
    weekly_table = np.array([np.array(WEEKLY[top]) / np.mean(WEEKLY[top]) for top in tops]).T
    weekly = np.take_along_axis(weekly_table, np.broadcast_to(weekday, (days.size, len(LEAVES))), axis=0)
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64)[:, None] + 1
    amplitude = np.array([YEARLY[leaf][0] for leaf in LEAVES])[None, :]
    peak = np.array([YEARLY[leaf][1] for leaf in LEAVES])[None, :]
    yearly = np.exp(amplitude * np.cos(2 * np.pi * (day_of_year - peak) / 365.25)) / np.i0(amplitude)
    festival = _festival_factor(days, events, parameters["event_uplift"])
    spring = np.ones_like(trend)
    depth = np.array([SPRING_FESTIVAL_DIP[top] for top in tops])[None, :]
    for event in events[events["event_id"].str.startswith("SF-")].to_dict("records"):
        # Deepest two days after new year's day; a few days of run-up and recovery.
        offset = (days - np.datetime64(event["peak_date"], "D")).astype(np.int64)[:, None] - 2
        spring *= 1.0 - depth * np.exp(-0.5 * (offset / 4.0) ** 2)
    return trend * weekly * yearly * festival * spring


def build_demand_model(
    rng: np.random.Generator,
    catalog: Catalog,
    events: pd.DataFrame,
    discount: np.ndarray,
    days: np.ndarray,
    parameters: dict[str, Any],
    subsidy_rng: np.random.Generator,
) -> DemandModel:
    """Compute the true mean demand of every selling series on every modelled day.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (assortments and SKU popularity).
    catalog : Catalog
        The reference tables.
    events : pandas.DataFrame
        The ``events`` table.
    discount : numpy.ndarray
        ``(n_days, n_skus, 2)`` discounts from :func:`build_promotions`.
    days : numpy.ndarray
        Modelled days, ``datetime64[D]``.
    parameters : dict
        From :func:`draw_parameters` and :func:`~cpfr.data.demo.subsidy.draw_subsidy_parameters`.
    subsidy_rng : numpy.random.Generator
        Source of the regional subsidy windows (its own, so they leave the other draws alone).

    Returns
    -------
    DemandModel
        The mean demand and everything needed to price and draw it.
    """
    products, locations = catalog.products, catalog.locations
    series_sku, series_location = selling_series(rng, catalog)
    leaf_index = products["category_id"].map({leaf: index for index, leaf in enumerate(LEAVES)}).to_numpy()
    tops = products["category_id"].map({leaf: LEAF_BY_ID[leaf].parent_id for leaf in LEAVES}).to_numpy()
    list_price = products["list_price"].to_numpy(dtype=float)
    is_hot = products["sku_id"].isin(catalog.hot_launch_skus).to_numpy()

    # Base rate per SKU: category volume x popularity x price position within the category.
    popularity = rng.lognormal(-0.245, 0.7, len(products))  # mean 1
    popularity = np.where(is_hot, popularity * LAUNCH_CURVE["hot"]["popularity"], popularity)
    category_mid = products.groupby("category_id")["list_price"].transform(lambda p: np.exp(np.log(p).mean()))
    price_position = (list_price / category_mid.to_numpy()) ** -0.8
    sku_base = products["category_id"].map(BASE_UNITS).to_numpy() * popularity * price_position
    sku_base *= np.where(products["is_c2m"].to_numpy(dtype=bool), C2M_UPLIFT, 1.0)

    # Scale per location: online zones by region and tier; stores far smaller.
    tier = locations["city_tier"].to_numpy()
    online_location = (locations["kind"] == "online_zone").to_numpy()
    location_scale = np.where(
        online_location,
        locations["region"].map(ONLINE_REGION).to_numpy() * np.asarray(ONLINE_TIER)[tier - 1],
        STORE_SCALE
        * np.asarray(STORE_TIER)[tier - 1]
        * locations["channel_id"].map(STORE_FORMAT).fillna(1.0),
    )
    series_online = online_location[series_location]
    affinity = np.where(series_online, 1.0, pd.Series(tops[series_sku]).map(STORE_AFFINITY).to_numpy())
    series_base = sku_base[series_sku] * location_scale[series_location] * affinity

    # Selling window: from launch (or store opening) to end date, clipped to the horizon.
    day0 = days[0]
    launch_day = (products["launch_date"].to_numpy().astype("datetime64[D]") - day0).astype(np.int64)
    end_raw = products["end_date"].to_numpy().astype("datetime64[D]")
    end_day = np.where(np.isnat(end_raw), days.size - 1, (end_raw - day0).astype(np.int64))
    open_day = (locations["open_date"].to_numpy().astype("datetime64[D]") - day0).astype(np.int64)
    first_day = np.maximum(np.maximum(launch_day[series_sku], open_day[series_location]), 0)
    last_day = np.minimum(end_day[series_sku], days.size - 1)

    # Per (day, SKU): launch curve, ageing, subsidy uplift; per (day, SKU, group): price effect.
    age = np.arange(days.size)[:, None] - launch_day[None, :]
    curve = {
        key: np.array([LAUNCH_CURVE["hot" if hot else "regular"][key] for hot in is_hot])
        for key in ("ramp_days", "boost", "decay_days")
    }
    safe_age = np.maximum(age, 0)
    lifecycle = (
        (1.0 - np.exp(-(safe_age + 1) / curve["ramp_days"]))
        * (1.0 + curve["boost"] * np.exp(-safe_age / curve["decay_days"]))
        * np.exp(-AGING_PER_YEAR * safe_age / 365.25)
    )
    lifecycle[age < 0] = 0.0
    regions = tuple(sorted(locations["region"].astype(str).unique()))
    series_region = np.searchsorted(regions, locations["region"].astype(str).to_numpy())[series_location]
    subsidy = build_subsidy_plan(subsidy_rng, days, events, products, regions, parameters)
    elasticity = np.array([parameters["elasticity"][leaf] for leaf in LEAVES])[leaf_index]
    price_effect = (1.0 - discount) ** elasticity[None, :, None]

    category = _category_factor(days, events, parameters)
    tier_growth = np.exp((np.arange(days.size)[:, None] / 365.25) * np.asarray(TIER_GROWTH)[None, :])
    group = (~series_online).astype(np.int64)
    mean = category[:, leaf_index[series_sku]]
    mean *= lifecycle[:, series_sku]
    mean *= subsidy.factor[:, series_sku, series_region]
    mean *= price_effect[:, series_sku, group]
    mean *= tier_growth[:, tier[series_location] - 1]
    mean *= series_base[None, :]
    day_index = np.arange(days.size)[:, None]
    mean[(day_index < first_day[None, :]) | (day_index > last_day[None, :])] = 0.0

    dispersion = products["category_id"].map(DISPERSION).to_numpy()[series_sku]
    return DemandModel(
        days=days,
        series_sku=series_sku,
        series_location=series_location,
        series_online=series_online,
        first_day=first_day,
        last_day=last_day,
        mean=mean,
        dispersion=dispersion,
        discount=discount,
        series_region=series_region,
        subsidy=subsidy,
        parameters=parameters,
    )


def draw_demand(rng: np.random.Generator, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Draw negative-binomial daily demand around ``mean`` (Poisson-gamma mixture).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    mean : numpy.ndarray
        ``(n_days, n_series)`` mean demand.
    dispersion : numpy.ndarray
        ``(n_series,)`` shape *r*: variance is ``mean + mean**2 / r``.

    Returns
    -------
    numpy.ndarray
        ``(n_days, n_series)`` int64 units demanded.
    """
    rate = rng.gamma(dispersion[None, :], mean / dispersion[None, :])
    return rng.poisson(rate)
