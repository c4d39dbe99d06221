"""Logistics of the demo alliance: boxed sizes of SKUs, parcel rates, settings and customer baskets.

* Sizes by leaf category (:data:`BOXED_SIZE`): a phone ships as a small parcel, a laptop a medium
  one, TVs, fridges, washers, air conditioners and smart toilets as big-ticket (XL) parcels. BYD's
  cars weigh about 2 t: they are not parcel-shipped at all (a car goes by car carrier to a
  dealer, outside the parcel network), so the cost model leaves them out and counts them apart.
* Parcel rates by distance band between regions (:data:`DISTANCE_BANDS`): a parcel from the
  destination region's own FDC (``local``) is cheapest; from an RDC in the same region, a
  neighbouring region or a far region it costs about 2x, 2.5x and 3.2x as much (``long_haul``),
  in line with the 2-3x the platform quotes for RDC against FDC delivery.
* Baskets: a 2% sample of online units over the last 13 weeks of history, each an anchor SKU
  drawn in proportion to that day's online sales in the region, often with a companion bought
  alongside (phone + band or watch, laptop + tablet, washer + fridge, toilet + shower), of the
  same brand more often than not.

Everything draws from the generator passed in, which :func:`cpfr.data.demo.scenario.generate_scenario`
seeds apart from the main one, so adding logistics left every other table as it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpfr.data.schema import REGIONS

# Leaf category -> (shipping weight kg, boxed volume litres) of a typical unit.
BOXED_SIZE: dict[str, tuple[float, float]] = {
    "PHONE": (0.5, 1.5),
    "TABLET": (1.0, 3.0),
    "LAPTOP": (2.6, 9.0),
    "TV": (24.0, 300.0),  # a 65-inch box, 160 x 100 x 19 cm
    "AC": (48.0, 220.0),
    "FRIDGE": (80.0, 650.0),
    "WASHER": (68.0, 380.0),
    "WATCH": (0.3, 0.9),
    "BAND": (0.1, 0.4),
    "CAR_EV": (1_900.0, 12_000.0),
    "TOILET": (45.0, 200.0),
    "SHOWER": (6.0, 40.0),
}

# Cost of a local parcel by size class (yuan): express rates of a front warehouse to its own
# region; XL is big-ticket delivery by a two-person crew.
LOCAL_YUAN: dict[str, float] = {"S": 6.0, "M": 9.0, "L": 22.0, "XL": 80.0}
# Distance band -> (cost multiple of a local parcel, transit days).
DISTANCE_BANDS: dict[str, tuple[float, int]] = {
    "local": (1.0, 1),
    "regional": (2.0, 2),  # an RDC in the destination region
    "neighbour": (2.5, 2),
    "far": (3.2, 4),
}
NEIGHBOURS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("North", "East"),
        ("North", "Central"),
        ("North", "Northwest"),
        ("East", "Central"),
        ("East", "South"),
        ("South", "Central"),
        ("South", "Southwest"),
        ("Central", "Southwest"),
        ("Central", "Northwest"),
        ("Southwest", "Northwest"),
    )
)
RATE_JITTER = 0.05  # carriers' lanes differ by a few percent around the band's multiple

SPLIT_SURCHARGE_YUAN = 8.0  # an extra dispatch, sorting and a second delivery attempt
HANDLING_YUAN_PER_UNIT = {"RDC": 1.5, "FDC": 2.5}  # FDCs sit in dearer city land and labour
# Midea's appliances come palletised and pre-labelled: cheaper to handle (a per-partner override).
MIDEA_HANDLING_YUAN_PER_UNIT = {"RDC": 1.0, "FDC": 1.8}

BASKET_WEEKS = 13
BASKET_SAMPLE_RATE = 0.02
# Anchor category -> companion categories bought alongside.
COMPANIONS: dict[str, tuple[str, ...]] = {
    "PHONE": ("BAND", "WATCH"),
    "LAPTOP": ("TABLET",),
    "TABLET": ("BAND",),
    "WASHER": ("FRIDGE",),
    "TOILET": ("SHOWER",),
    "TV": ("BAND",),
}
COMPANION_PROBABILITY = 0.35
SAME_BRAND_PROBABILITY = 0.7


def with_dimensions(products: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``products`` with ``weight_kg`` and ``volume_l``: the category's size, ±15% per SKU."""
    weight, volume = (
        np.array([BOXED_SIZE[str(category)][part] for category in products["category_id"]]) for part in (0, 1)
    )
    scale = rng.uniform(0.85, 1.15, len(products))
    return products.assign(weight_kg=np.round(weight * scale, 2), volume_l=np.round(volume * scale, 1))


def distance_band(origin_region: str, destination_region: str, origin_tier: str) -> str:
    """Name the distance band of a lane: local, regional (an RDC at home), neighbour or far."""
    if origin_region == destination_region:
        return "local" if origin_tier == "FDC" else "regional"
    return "neighbour" if frozenset((origin_region, destination_region)) in NEIGHBOURS else "far"


def build_parcel_rates(warehouses: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``parcel_rates``: every warehouse to every region, four size classes, platform-shared."""
    rows = []
    for warehouse in warehouses.itertuples(index=False):
        for region in REGIONS:
            band = distance_band(str(warehouse.region), region, str(warehouse.tier))
            multiple, days = DISTANCE_BANDS[band]
            for size_class, local_yuan in LOCAL_YUAN.items():
                jitter = 1.0 if band == "local" else rng.uniform(1 - RATE_JITTER, 1 + RATE_JITTER)
                rows.append(
                    {
                        "origin_warehouse_id": warehouse.warehouse_id,
                        "destination_region": region,
                        "size_class": size_class,
                        "leg_kind": "local" if band == "local" else "long_haul",
                        "yuan_per_parcel": round(local_yuan * multiple * jitter, 2),
                        # Big-ticket delivery is booked in a slot: a day more.
                        "transit_days": days + (1 if size_class == "XL" else 0),
                        "partner_id": None,
                    }
                )
    return pd.DataFrame(rows).astype({"transit_days": "int64"})


def build_logistics_settings(history_start: pd.Timestamp) -> pd.DataFrame:
    """Return ``logistics_settings``: the platform's, and Midea's handling override."""
    rows = [
        ("PLATFORM", None, HANDLING_YUAN_PER_UNIT),
        ("MIDEA-PALLETS", "MIDEA", MIDEA_HANDLING_YUAN_PER_UNIT),
    ]
    return pd.DataFrame(
        [
            {
                "setting_id": setting_id,
                "partner_id": partner_id,
                "valid_from": history_start,
                "split_surcharge_yuan": SPLIT_SURCHARGE_YUAN,
                "handling_rdc_yuan_per_unit": handling["RDC"],
                "handling_fdc_yuan_per_unit": handling["FDC"],
            }
            for setting_id, partner_id, handling in rows
        ]
    )


def build_baskets(
    sales: pd.DataFrame, products: pd.DataFrame, locations: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Draw customer baskets from the last :data:`BASKET_WEEKS` weeks of online sales.

    Parameters
    ----------
    sales, products, locations : pandas.DataFrame
        The demo's tables.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        The ``baskets`` table: anchors in proportion to online units, plus companions.
    """
    zones = locations.loc[locations["kind"] == "online_zone", ["location_id", "region"]]
    last = sales["date"].max()
    recent = sales[sales["date"] > last - pd.Timedelta(weeks=BASKET_WEEKS)]
    online = recent[recent["location_id"].astype(str).isin(set(zones["location_id"]))]
    online = pd.DataFrame(
        {
            "date": online["date"].to_numpy(),
            "sku_id": online["sku_id"].astype(str).to_numpy(),
            "location_id": online["location_id"].astype(str).to_numpy(),
            "units": online["units"].to_numpy(),
        }
    )
    attributes = products.set_index("sku_id")[["category_id", "partner_id"]]
    online = online.join(attributes, on="sku_id").merge(zones, on="location_id")
    n_baskets = max(1, round(BASKET_SAMPLE_RATE * int(online["units"].sum())))
    weight = online["units"].to_numpy(dtype=float)
    anchors = online.iloc[np.sort(rng.choice(len(online), size=n_baskets, p=weight / weight.sum()))]

    # Companions are SKUs on sale online the same day in the same region.
    candidates = {
        key: group[["sku_id", "partner_id"]].to_numpy()
        for key, group in online.groupby(["date", "region", "category_id"], sort=False)
    }
    draws = rng.random((n_baskets, 3))
    lines: list[tuple[object, ...]] = []
    for number, anchor in enumerate(anchors.itertuples(index=False)):
        basket_id = f"B{anchor.date:%Y%m%d}-{number + 1:06d}"
        small = anchor.category_id in ("PHONE", "WATCH", "BAND", "SHOWER")
        units = 2 if small and draws[number, 0] < 0.08 else 1
        lines.append((basket_id, anchor.sku_id, anchor.date, anchor.location_id, units))
        companions = COMPANIONS.get(str(anchor.category_id), ())
        if not companions or draws[number, 1] >= COMPANION_PROBABILITY:
            continue
        category = companions[int(draws[number, 2] * len(companions))]
        pool = candidates.get((anchor.date, anchor.region, category))
        if pool is None:
            continue
        same_brand = pool[pool[:, 1] == anchor.partner_id]
        if len(same_brand) and rng.random() < SAME_BRAND_PROBABILITY:
            pool = same_brand
        companion = str(pool[rng.integers(len(pool)), 0])
        if companion != anchor.sku_id:
            lines.append((basket_id, companion, anchor.date, anchor.location_id, 1))
    baskets = pd.DataFrame(lines, columns=["basket_id", "sku_id", "date", "location_id", "units"])
    baskets["partner_id"] = baskets["sku_id"].map(attributes["partner_id"])
    columns = ["basket_id", "sku_id", "partner_id", "date", "location_id", "units"]
    return baskets[columns].astype({"units": "int64"})


def logistics_truth() -> dict[str, object]:
    """Return the parameters behind the demo's logistics tables, for ``truth/parameters.json``."""
    return {
        "local_yuan_per_parcel": LOCAL_YUAN,
        "distance_bands": {band: list(value) for band, value in DISTANCE_BANDS.items()},
        "split_surcharge_yuan": SPLIT_SURCHARGE_YUAN,
        "handling_yuan_per_unit": HANDLING_YUAN_PER_UNIT,
        "midea_handling_yuan_per_unit": MIDEA_HANDLING_YUAN_PER_UNIT,
        "basket_weeks": BASKET_WEEKS,
        "basket_sample_rate": BASKET_SAMPLE_RATE,
        "companion_probability": COMPANION_PROBABILITY,
        "same_brand_probability": SAME_BRAND_PROBABILITY,
        "not_parcel_shipped_categories": ["CAR_EV"],
    }
