"""The tables of the logistics cost model the network models share: parcel rates, settings, baskets.

Users load them with ``cpfr ingest`` (schema version 8); :mod:`cpfr.network.cost` reads them.

* ``parcel_rates`` — what one parcel costs from an origin warehouse to a destination region, by
  size class, and how long it travels. Platform reference data: the platform buys the express
  service, so its rows are platform-shared (empty ``partner_id``) and a partner cannot write them
  (partners only write facts tied to SKUs they own, see :mod:`cpfr.data.store.scoped`).
* ``logistics_settings`` — the split-order surcharge and the handling cost per unit by warehouse
  tier, dated; an empty ``partner_id`` is the platform-wide setting, a partner's row overrides it
  for that partner's units (a negotiated handling rate). A partner reads its own row and the
  platform's, never another brand's.
* ``baskets`` — lines of online customer orders. Lines, not an aggregated co-purchase table
  (``sku_a, sku_b, region, orders per week``), because a split order is a property of the whole
  basket: whether it ships from one warehouse or several depends on every SKU in it and on where
  each was in stock that day, which a pairwise count cannot rebuild for baskets of three or more
  lines, nor re-evaluate for another placement of stock. Lines also keep the ownership rule
  exact: each line belongs to its SKU's partner, so a brand sees its own lines of a basket and
  never which other brand's products its customers bought alongside.
"""

from __future__ import annotations

from cpfr.data.schema_types import (
    LEG_KINDS,
    MAX_UNITS,
    REGIONS,
    SIZE_CLASSES,
    WAREHOUSE_TIERS,
    Column,
    Reference,
    Table,
    partner_column,
)

# A parcel dearer than this is a typing mistake: white-glove delivery and installation of the
# largest appliance across China costs a few hundred yuan.
MAX_PARCEL_YUAN = 100_000.0
MAX_TRANSIT_DAYS = 60  # the slowest surface route to Xinjiang or Tibet takes about a week
# Handling a unit, or a surcharge for a split order, above 10,000 yuan is a typing mistake too.
MAX_HANDLING_YUAN = 10_000.0

_WAREHOUSE = Reference("warehouses", "warehouse_id")

PARCEL_RATES = Table(
    "parcel_rates",
    "The cost of one parcel of a size class from an origin warehouse to a destination region.",
    (
        Column(
            "origin_warehouse_id",
            "text",
            "the warehouse it ships from",
            key=True,
            required=True,
            references=_WAREHOUSE,
        ),
        Column(
            "destination_region",
            "text",
            "the region it is delivered to",
            key=True,
            required=True,
            choices=REGIONS,
        ),
        Column(
            "size_class",
            "text",
            "parcel size class (see the README's logistics cost)",
            key=True,
            required=True,
            choices=SIZE_CLASSES,
        ),
        Column(
            "leg_kind",
            "text",
            "local: from the destination region's own FDC; long_haul: from an RDC or another region",
            required=True,
            choices=LEG_KINDS,
        ),
        Column(
            "yuan_per_parcel",
            "float",
            "cost of one parcel, yuan",
            required=True,
            minimum=0,
            maximum=MAX_PARCEL_YUAN,
        ),
        Column(
            "transit_days",
            "int",
            "days from dispatch to delivery",
            required=True,
            minimum=0,
            maximum=MAX_TRANSIT_DAYS,
        ),
        partner_column(doc="empty: the platform's contracted rate (rates are platform-shared)"),
    ),
    added_in=8,
)

LOGISTICS_SETTINGS = Table(
    "logistics_settings",
    "Split-order surcharge and handling costs from a date on, platform-wide or for one partner.",
    (
        Column("setting_id", "text", "setting code, e.g. PLATFORM-2024", key=True, required=True),
        partner_column(doc="the partner it applies to (empty: platform-wide, the default)"),
        Column(
            "valid_from",
            "date",
            "first day it applies (the latest one on or before a day wins)",
            required=True,
        ),
        Column(
            "split_surcharge_yuan",
            "float",
            "cost of each extra warehouse a customer order ships from (a split order), yuan",
            required=True,
            minimum=0,
            maximum=MAX_HANDLING_YUAN,
        ),
        *(
            Column(
                f"handling_{tier.lower()}_yuan_per_unit",
                "float",
                f"picking and packing one unit at an {tier}, yuan",
                required=True,
                minimum=0,
                maximum=MAX_HANDLING_YUAN,
            )
            for tier in WAREHOUSE_TIERS
        ),
    ),
    date_column="valid_from",
    added_in=8,
)

BASKETS = Table(
    "baskets",
    "A line of an online customer order (basket): units of one SKU delivered to one online zone.",
    (
        Column("basket_id", "text", "customer order code", key=True, required=True),
        Column("sku_id", "text", "SKU", key=True, required=True, references=Reference("products", "sku_id")),
        partner_column(doc="owning partner (filled from the SKU when left out; must match it)"),
        Column("date", "date", "day ordered", required=True),
        Column(
            "location_id",
            "text",
            "the online zone it is delivered to (gives region and warehouse)",
            required=True,
            references=Reference("locations", "location_id"),
        ),
        Column("units", "int", "units of the SKU in the order", required=True, minimum=1, maximum=MAX_UNITS),
    ),
    kind="fact",
    added_in=8,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="date",
)

LOGISTICS_TABLES: tuple[Table, ...] = (PARCEL_RATES, LOGISTICS_SETTINGS, BASKETS)
