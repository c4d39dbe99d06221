"""Reference data of the demo alliance: partners, categories, SKUs, channels, sites.

Everything here is master data a planner would load once: five brand
partners of a JD.com-like platform, a two-level category tree, a few hundred
SKUs with realistic yuan prices and lifecycles, the platform's online store
and offline formats plus three brands' own stores, a two-tier warehouse
network and the points of sale (online zones and physical stores).

All randomness comes from the one :class:`numpy.random.Generator` passed in,
so the same seed always gives the same catalogue.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.demo.network import build_channels, build_locations, build_warehouses

# Leaf categories whose launches can be hot (flagship phones, watches, EVs, ...).
HOT_LAUNCH_CATEGORIES: tuple[str, ...] = ("PHONE", "WATCH", "TABLET", "LAPTOP", "CAR_EV", "TV")

# Top level of the category tree: id -> display name.
TOP_CATEGORIES: dict[str, str] = {
    "3C": "3C digital",
    "HA": "home appliances",
    "WEAR": "smart wear",
    "CAR": "cars",
    "BATH": "bathroom",
}


@dataclass(frozen=True)
class LeafCategory:
    """A leaf category with the yuan price range its SKUs are drawn from."""

    category_id: str
    name: str
    parent_id: str
    price_low: float
    price_high: float
    noun: str


LEAF_CATEGORIES: tuple[LeafCategory, ...] = (
    LeafCategory("PHONE", "phones", "3C", 999, 7999, "Phone"),
    LeafCategory("TABLET", "tablets", "3C", 1299, 5999, "Pad"),
    LeafCategory("LAPTOP", "laptops", "3C", 3999, 12999, "Laptop"),
    LeafCategory("TV", "TVs", "HA", 1499, 9999, "TV"),
    LeafCategory("AC", "air conditioners", "HA", 1999, 6999, "Air Conditioner"),
    LeafCategory("FRIDGE", "fridges", "HA", 1999, 9999, "Fridge"),
    LeafCategory("WASHER", "washing machines", "HA", 1299, 5999, "Washer"),
    LeafCategory("WATCH", "watches", "WEAR", 599, 2999, "Watch"),
    LeafCategory("BAND", "bands", "WEAR", 149, 399, "Band"),
    LeafCategory("CAR_EV", "cars", "CAR", 99800, 299800, "EV"),
    LeafCategory("TOILET", "smart toilets", "BATH", 1999, 8999, "Smart Toilet"),
    LeafCategory("SHOWER", "showers", "BATH", 399, 2999, "Shower"),
)
LEAF_BY_ID: dict[str, LeafCategory] = {leaf.category_id: leaf for leaf in LEAF_CATEGORIES}


@dataclass(frozen=True)
class Partner:
    """A brand partner and how its SKU range splits over leaf categories."""

    partner_id: str
    name: str
    name_local: str
    sku_weights: dict[str, float]


PARTNERS: tuple[Partner, ...] = (
    Partner("XIAOMI", "Xiaomi", "小米", {"PHONE": 40, "TABLET": 12, "WATCH": 15, "BAND": 10, "TV": 20}),
    Partner("LENOVO", "Lenovo", "联想", {"LAPTOP": 45, "TABLET": 15}),
    Partner("MIDEA", "Midea", "美的", {"AC": 40, "FRIDGE": 30, "WASHER": 30}),
    Partner("JOMOO", "JOMOO", "九牧", {"TOILET": 20, "SHOWER": 20}),
    Partner("BYD", "BYD", "比亚迪", {"CAR_EV": 3}),
)

# Attribute choices per leaf category, for the products' JSON attributes.
ATTRIBUTE_CHOICES: dict[str, dict[str, list[object]]] = {
    "PHONE": {"storage_gb": [128, 256, 512, 1024], "screen_in": [6.1, 6.36, 6.67, 6.73]},
    "TABLET": {"storage_gb": [128, 256, 512], "screen_in": [8.8, 11.0, 12.4, 13.0]},
    "LAPTOP": {"memory_gb": [16, 32, 64], "screen_in": [13.3, 14.0, 15.6, 16.0]},
    "TV": {"screen_in": [43, 55, 65, 75, 85, 100], "panel": ["LCD", "Mini LED", "OLED"]},
    "AC": {"horsepower": [1.0, 1.5, 2.0, 3.0], "energy_rating": [1, 2, 3], "type": ["wall", "floor"]},
    "FRIDGE": {"volume_l": [320, 450, 508, 600], "doors": [2, 3, 4], "energy_rating": [1, 2]},
    "WASHER": {"capacity_kg": [8, 10, 12], "type": ["front-load", "top-load"], "energy_rating": [1, 2]},
    "WATCH": {"case_mm": [42, 46, 47], "esim": [True, False]},
    "BAND": {"screen_in": [1.62, 1.74], "nfc": [True, False]},
    "CAR_EV": {"range_km": [405, 520, 605, 700], "drive": ["BEV", "PHEV"]},
    "TOILET": {"flush": ["siphon", "tornado"], "heated_seat": [True, False]},
    "SHOWER": {"thermostatic": [True, False], "finish": ["chrome", "gun grey", "matte black"]},
}
COLOURS: tuple[str, ...] = ("black", "white", "silver", "blue", "green", "grey")

# Price band edges (yuan) and their labels, e.g. '2000-2999'.
_BAND_EDGES: tuple[int, ...] = (0, 500, 1000, 2000, 3000, 5000, 8000, 10000, 50000, 100000, 200000)


@dataclass(frozen=True)
class Catalog:
    """The demo's reference tables plus the SKUs it launches as hot launches.

    Attributes
    ----------
    partners, categories, products, channels, warehouses, locations : pandas.DataFrame
        Tables with the schema's column names.
    hot_launch_skus : tuple of str
        SKUs launched during the history whose demand far exceeds supply at first.
    """

    partners: pd.DataFrame
    categories: pd.DataFrame
    products: pd.DataFrame
    channels: pd.DataFrame
    warehouses: pd.DataFrame
    locations: pd.DataFrame
    hot_launch_skus: tuple[str, ...]


def price_band(list_price: np.ndarray) -> np.ndarray:
    """Label each price with its band, e.g. 2499 -> '2000-2999', 250000 -> '200000+'.

    Parameters
    ----------
    list_price : numpy.ndarray
        Prices in yuan.

    Returns
    -------
    numpy.ndarray
        Band labels (object array of str).
    """
    labels = [f"{low}-{high - 1}" for low, high in itertools.pairwise(_BAND_EDGES)]
    labels.append(f"{_BAND_EDGES[-1]}+")
    index = np.searchsorted(np.asarray(_BAND_EDGES), list_price, side="right") - 1
    return np.asarray(labels, dtype=object)[index]


def _allocate(weights: np.ndarray, total: int) -> np.ndarray:
    # Largest-remainder allocation with at least one SKU per (partner, category),
    # so a small catalogue still has every category.
    raw = weights / weights.sum() * max(total - len(weights), 0)
    counts = np.floor(raw).astype(np.int64) + 1
    shortfall = total - counts.sum()
    if shortfall > 0:
        order = np.argsort(-(raw - np.floor(raw)), kind="stable")
        counts[order[:shortfall]] += 1
    return counts


def build_products(
    rng: np.random.Generator, n_skus: int, history_start: dt.date, history_end: dt.date
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Draw the SKU range: prices, lifecycles, attributes, C2M flags and hot launches.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_skus : int
        Number of SKUs (at least one per partner category).
    history_start, history_end : datetime.date
        The sales history; about a fifth of SKUs launch inside it.

    Returns
    -------
    products : pandas.DataFrame
        The ``products`` table.
    hot_launch_skus : tuple of str
        SKUs launched in the history that sell out at first.
    """
    pairs = [(partner, leaf) for partner in PARTNERS for leaf in partner.sku_weights]
    weights = np.array([partner.sku_weights[leaf] for partner, leaf in pairs], dtype=float)
    counts = _allocate(weights, n_skus)
    partner_ids = np.repeat([partner.partner_id for partner, _ in pairs], counts)
    brand_names = np.repeat([partner.name for partner, _ in pairs], counts)
    category_ids = np.repeat([leaf for _, leaf in pairs], counts)
    total = int(counts.sum())
    sku_ids = np.array([f"SKU{number:05d}" for number in range(1, total + 1)], dtype=object)

    low = np.array([LEAF_BY_ID[cat].price_low for cat in category_ids])
    high = np.array([LEAF_BY_ID[cat].price_high for cat in category_ids])
    # Log-uniform within the category range, then retail rounding to ...99 / ...800.
    price = np.exp(rng.uniform(np.log(low), np.log(high)))
    step = np.where(price >= 50_000, 1000.0, np.where(price >= 1000, 100.0, 10.0))
    list_price = np.maximum(np.round(price / step) * step - np.where(step >= 1000, 200.0, 1.0), low)

    start = np.datetime64(history_start, "D")
    end = np.datetime64(history_end, "D")
    history_days = int((end - start).astype(int))
    launched_in_history = rng.random(total) < 0.2
    # Every scenario needs hot launches to show stockouts: promote flagship-type
    # SKUs into the history when the draw gave too few.
    n_hot = max(2, round(0.03 * total))
    flagship = np.isin(category_ids, list(HOT_LAUNCH_CATEGORIES))
    missing = n_hot - int((launched_in_history & flagship).sum())
    if missing > 0:
        candidates = np.flatnonzero(flagship & ~launched_in_history)
        promoted = rng.choice(candidates, size=min(missing, candidates.size), replace=False)
        launched_in_history[promoted] = True
    before_offset = rng.integers(30, 3 * 365, total)
    during_offset = rng.integers(30, max(history_days - 60, 31), total)
    launch = np.where(
        launched_in_history, start + during_offset.astype("timedelta64[D]"), start - before_offset
    ).astype("datetime64[D]")

    # Hot launches: flagship-type SKUs launched in the history with room for a first month.
    hot_eligible = launched_in_history & flagship & (launch <= end - np.timedelta64(45, "D"))
    eligible_index = np.flatnonzero(hot_eligible)
    hot_index = np.sort(rng.choice(eligible_index, size=min(n_hot, eligible_index.size), replace=False))
    is_hot = np.zeros(total, dtype=bool)
    is_hot[hot_index] = True

    # About one old SKU in ten is discontinued during the history.
    discontinued = (~launched_in_history) & (rng.random(total) < 0.1)
    end_offset = rng.integers(90, max(history_days - 30, 91), total)
    end_date = np.where(discontinued, start + end_offset.astype("timedelta64[D]"), np.datetime64("NaT"))

    # One SKU in twenty is a C2M model, specified from the platform's consumer data.
    c2m_candidates = np.flatnonzero((category_ids != "CAR_EV") & ~is_hot)
    is_c2m = np.zeros(total, dtype=bool)
    is_c2m[rng.choice(c2m_candidates, size=max(1, round(0.05 * total)), replace=False)] = True
    names, attributes = _names_and_attributes(rng, sku_ids, brand_names, category_ids, is_c2m)
    products = pd.DataFrame(
        {
            "sku_id": sku_ids,
            "partner_id": partner_ids,
            "name": names,
            "category_id": category_ids,
            "list_price": list_price,
            "price_band": price_band(list_price),
            "launch_date": pd.to_datetime(launch),
            "end_date": pd.to_datetime(end_date),
            "attributes": attributes,
            "is_c2m": is_c2m,
        }
    )
    return products, tuple(sku_ids[is_hot])


def _names_and_attributes(
    rng: np.random.Generator,
    sku_ids: np.ndarray,
    brand_names: np.ndarray,
    category_ids: np.ndarray,
    is_c2m: np.ndarray,
) -> tuple[list[str], list[str]]:
    # A loop over a few hundred SKUs: reference data, not a hot path.
    names: list[str] = []
    attributes: list[str] = []
    colours = rng.integers(0, len(COLOURS), sku_ids.size)
    for position, (sku_id, brand, category_id) in enumerate(
        zip(sku_ids, brand_names, category_ids, strict=True)
    ):
        choices = ATTRIBUTE_CHOICES[str(category_id)]
        values = {key: options[int(rng.integers(len(options)))] for key, options in choices.items()}
        values["colour"] = COLOURS[colours[position]]
        if is_c2m[position]:
            values["c2m_source"] = "platform search and review data"
        attributes.append(json.dumps(values, sort_keys=True))
        noun = LEAF_BY_ID[str(category_id)].noun
        names.append(f"{brand} {noun} {str(sku_id)[-3:]} {values['colour']}")
    return names, attributes


def build_partners() -> pd.DataFrame:
    """Return the ``partners`` table: the five brand partners and their top categories."""
    rows = [
        {
            "partner_id": partner.partner_id,
            "name": partner.name,
            "name_local": partner.name_local,
            "categories": ",".join(sorted({LEAF_BY_ID[leaf].parent_id for leaf in partner.sku_weights})),
        }
        for partner in PARTNERS
    ]
    return pd.DataFrame(rows)


def build_categories() -> pd.DataFrame:
    """Return the ``categories`` table: five top-level nodes and their leaves, all platform-shared."""
    top = pd.DataFrame(
        {
            "category_id": list(TOP_CATEGORIES),
            "name": list(TOP_CATEGORIES.values()),
            "parent_id": [None] * len(TOP_CATEGORIES),
            "level": 1,
            "partner_id": [None] * len(TOP_CATEGORIES),
        }
    )
    leaves = pd.DataFrame(
        {
            "category_id": [leaf.category_id for leaf in LEAF_CATEGORIES],
            "name": [leaf.name for leaf in LEAF_CATEGORIES],
            "parent_id": [leaf.parent_id for leaf in LEAF_CATEGORIES],
            "level": 2,
            "partner_id": [None] * len(LEAF_CATEGORIES),
        }
    )
    return pd.concat([top, leaves], ignore_index=True).astype({"level": "int64"})


def build_catalog(
    rng: np.random.Generator, n_skus: int, n_stores: int, history_start: dt.date, history_end: dt.date
) -> Catalog:
    """Build every reference table of the demo from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_skus, n_stores : int
        Size of the SKU range and of the store network.
    history_start, history_end : datetime.date
        The sales history.

    Returns
    -------
    Catalog
        The reference tables and the hot-launch SKUs.
    """
    products, hot = build_products(rng, n_skus, history_start, history_end)
    return Catalog(
        partners=build_partners(),
        categories=build_categories(),
        products=products,
        channels=build_channels(),
        warehouses=build_warehouses(),
        locations=build_locations(rng, n_stores, history_start, history_end),
        hot_launch_skus=hot,
    )
