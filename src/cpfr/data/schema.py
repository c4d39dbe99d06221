"""The alliance data model: one declarative schema for every table cpfr stores.

The schema is data, not SQL: the store turns it into DDL for its backend
(DuckDB today, PostgreSQL behind the same interface), the ingester turns it
into validation rules, and the README's data-model section is written from it.
The building blocks (:class:`Column`, :class:`Table`, the value limits) live in
:mod:`cpfr.data.schema_types` and are re-exported here.

Ownership rule: every table has a ``partner_id`` column. A row with a partner
belongs to that brand partner and only that partner (and the platform) may
see it; a row whose ``partner_id`` is empty is platform-shared reference data
(categories, the platform's channels and stores, the event calendar).
In fact tables (sales, inventory, orders, promotions, forecasts) the
partner is that of the SKU: when a file leaves ``partner_id`` out it is filled
from ``products``, and when a file gives one that differs from the SKU's owner
the row is rejected.
"""

from __future__ import annotations

from cpfr.data.schema_logistics import LOGISTICS_TABLES
from cpfr.data.schema_results import (
    CONSENSUS_OVERRIDES as CONSENSUS_OVERRIDES,
)
from cpfr.data.schema_results import FORECAST_RUNS as FORECAST_RUNS
from cpfr.data.schema_results import FORECASTS as FORECASTS
from cpfr.data.schema_results import INGEST_LOG as INGEST_LOG
from cpfr.data.schema_results import RESULT_TABLES
from cpfr.data.schema_service import SERVICE_TABLES
from cpfr.data.schema_signals import SIGNAL_TABLES

# The building blocks are re-exported: ``from cpfr.data.schema import Column`` keeps working.
from cpfr.data.schema_types import (
    CHANNEL_KINDS,
    EVENT_KINDS,
    LOCATION_KINDS,
    MAX_PRICE,
    MAX_UNITS,
    MAX_YUAN,
    ORDER_KINDS,
    QUANTILE_LEVELS,
    REGIONS,
    ROW_RULES,
    TARGET_METRICS,
    WAREHOUSE_TIERS,
    Column,
    Reference,
    Table,
    partner_column,
)
from cpfr.data.schema_types import IDENTIFIER_MAX_LENGTH as IDENTIFIER_MAX_LENGTH
from cpfr.data.schema_types import IDENTIFIER_PATTERN as IDENTIFIER_PATTERN
from cpfr.data.schema_types import MAX_DATE as MAX_DATE
from cpfr.data.schema_types import MIN_DATE as MIN_DATE
from cpfr.data.schema_types import LogicalType as LogicalType
from cpfr.data.schema_types import quantile_name as quantile_name
from cpfr.exceptions import AccessError, InputError

_partner = partner_column
# A boxed unit heavier than 100 t or bigger than 1,000 m3 is a typing mistake (a car is about 2 t
# and 12 m3); a warehouse of more than 10 million m3 too (the largest are about 1 million m3).
MAX_WEIGHT_KG = 100_000.0
MAX_VOLUME_L = 1_000_000.0
MAX_CAPACITY_L = 1e10
# The quantile levels of stored forecasts (one definition: :data:`cpfr.data.schema_types.QUANTILE_LEVELS`).
FORECAST_QUANTILES = QUANTILE_LEVELS


PARTNERS = Table(
    "partners",
    "A brand partner of the alliance (Xiaomi, Lenovo, Midea, ...).",
    (
        Column("partner_id", "text", "partner code, e.g. XIAOMI", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column("name_local", "text", "name in the local script, e.g. 小米"),
        Column("categories", "text", "top-level categories in scope, comma separated"),
    ),
)

AGREEMENTS = Table(
    "agreements",
    "An alliance agreement between the platform and one partner.",
    (
        Column("agreement_id", "text", "agreement code", key=True, required=True),
        _partner(required=True, doc="the partner who signed it"),
        Column("name", "text", "e.g. 'Xiaomi 2024-2026 omni-channel alliance'", required=True),
        Column("start_date", "date", "first day covered", required=True),
        Column("end_date", "date", "last day covered", required=True),
        Column("channels", "text", "channel kinds in scope, comma separated (empty: all)"),
    ),
    checks=(("ordered_dates", ("start_date", "end_date")),),
)

TARGETS = Table(
    "targets",
    "A target of an agreement: GMV in yuan or units over a period, optionally for one category or channel.",
    (
        Column("target_id", "text", "target code", key=True, required=True),
        Column(
            "agreement_id",
            "text",
            "the agreement it belongs to",
            required=True,
            references=Reference("agreements", "agreement_id"),
        ),
        _partner(required=True),
        Column("period_start", "date", "first day of the target period", required=True),
        Column("period_end", "date", "last day of the target period", required=True),
        Column("metric", "text", "what is counted", required=True, choices=TARGET_METRICS),
        Column("value", "float", "target value (yuan or units)", required=True, minimum=0, maximum=MAX_YUAN),
        Column(
            "category_id",
            "text",
            "category it applies to (empty: all)",
            references=Reference("categories", "category_id"),
        ),
        Column("channel_kind", "text", "channel kind it applies to (empty: all)", choices=CHANNEL_KINDS),
        Column("description", "text", "the target as signed, e.g. '200 bn yuan omni-channel in 3 years'"),
    ),
    checks=(("ordered_dates", ("period_start", "period_end")),),
    partner_from=("agreement_id", "agreements", "agreement_id"),
    within=(
        "agreement_id",
        "agreements",
        "agreement_id",
        "start_date",
        "end_date",
        "period_start",
        "period_end",
    ),
)

CATEGORIES = Table(
    "categories",
    "A node of the category tree (3C digital > phones; home appliances > TVs; ...).",
    (
        Column("category_id", "text", "category code", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column(
            "parent_id",
            "text",
            "parent category (empty: top level)",
            references=Reference("categories", "category_id"),
        ),
        Column("level", "int", "1 for top level, 2 below it, ...", required=True, minimum=1, maximum=10),
        _partner(),
    ),
)

PRODUCTS = Table(
    "products",
    "A SKU of a partner.",
    (
        Column("sku_id", "text", "SKU code", key=True, required=True),
        _partner(required=True, doc="the brand partner that owns the SKU"),
        Column("name", "text", "product name", required=True),
        Column(
            "category_id",
            "text",
            "leaf category",
            required=True,
            references=Reference("categories", "category_id"),
        ),
        Column("list_price", "float", "list price in yuan", required=True, minimum=0, maximum=MAX_PRICE),
        Column("price_band", "text", "price band label, e.g. '2000-2999'"),
        Column("launch_date", "date", "first day on sale"),
        Column("end_date", "date", "last day on sale (empty: still on sale)"),
        Column(
            "attributes",
            "text",
            "JSON object of attributes (screen size, colour, ...), for analogues and C2M",
            max_length=10_000,
            json_object=True,
        ),
        Column(
            "is_c2m",
            "bool",
            "specified from consumer demand data (C2M reverse customisation)",
            default="false",
            added_in=3,
        ),
        Column(
            "weight_kg",
            "float",
            "shipping weight of one boxed unit, kg (with volume_l, sets the parcel size class)",
            minimum=0,
            maximum=MAX_WEIGHT_KG,
            added_in=8,
        ),
        Column(
            "volume_l",
            "float",
            "volume of one boxed unit, litres",
            minimum=0,
            maximum=MAX_VOLUME_L,
            added_in=8,
        ),
    ),
    checks=(("ordered_dates", ("launch_date", "end_date")),),
)

CHANNELS = Table(
    "channels",
    "A sales channel: the platform's online store, its offline formats, a brand's own stores.",
    (
        Column("channel_id", "text", "channel code", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column("kind", "text", "channel kind", required=True, choices=CHANNEL_KINDS),
        Column("format", "text", "store format, e.g. 'JD MALL', 'JD Home Appliance', 'Xiaomi Home'"),
        _partner(doc="the brand that runs the channel (brand stores); empty for the platform's"),
    ),
)

WAREHOUSES = Table(
    "warehouses",
    "A warehouse: a regional (RDC) or front (FDC) distribution centre.",
    (
        Column("warehouse_id", "text", "warehouse code", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column("tier", "text", "RDC or FDC", required=True, choices=WAREHOUSE_TIERS),
        Column(
            "parent_warehouse_id",
            "text",
            "the warehouse that supplies it (empty: supplied by the brand)",
            references=Reference("warehouses", "warehouse_id"),
        ),
        Column("city", "text", "city"),
        Column("province", "text", "province"),
        Column("region", "text", "region", choices=REGIONS),
        Column("lead_time_days", "int", "replenishment lead time from its supplier", minimum=0, maximum=365),
        Column(
            "holding_cost_rate", "float", "holding cost per yuan of stock per year", minimum=0, maximum=10
        ),
        Column("order_cost_yuan", "float", "fixed cost per replenishment order", minimum=0, maximum=1e7),
        Column("capacity_units", "int", "storage capacity in units", minimum=0, maximum=MAX_UNITS),
        _partner(),
        Column(
            "capacity_volume_l",
            "float",
            "storage capacity in litres of boxed goods",
            minimum=0,
            maximum=MAX_CAPACITY_L,
            added_in=8,
        ),
    ),
)

LOCATIONS = Table(
    "locations",
    "A point of sale: a store, or an online zone (online demand shipped to one region and city tier).",
    (
        Column("location_id", "text", "location code", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column("kind", "text", "store or online_zone", required=True, choices=LOCATION_KINDS),
        Column(
            "channel_id",
            "text",
            "the channel it sells through",
            required=True,
            references=Reference("channels", "channel_id"),
        ),
        Column("city", "text", "city (empty for an online zone)"),
        Column("province", "text", "province"),
        Column("region", "text", "region", required=True, choices=REGIONS),
        Column(
            "city_tier",
            "int",
            "1 (Beijing, Shanghai...) to 5 (county towns): the sinking market is 3-5",
            minimum=1,
            maximum=5,
        ),
        Column(
            "warehouse_id",
            "text",
            "the warehouse that serves it",
            references=Reference("warehouses", "warehouse_id"),
        ),
        Column("open_date", "date", "first trading day"),
        _partner(doc="the brand that runs it (brand stores); empty for the platform's"),
    ),
)

EVENTS = Table(
    "events",
    "A dated event of the calendar: 618, Double 11, Spring Festival, a launch, a trade-in subsidy period.",
    (
        Column("event_id", "text", "event code, e.g. 618-2024", key=True, required=True),
        Column("name", "text", "display name", required=True),
        Column("kind", "text", "event kind", required=True, choices=EVENT_KINDS),
        Column("start_date", "date", "first day", required=True),
        Column("end_date", "date", "last day", required=True),
        Column("peak_date", "date", "the main day (e.g. 2024-06-18)"),
        Column(
            "category_id",
            "text",
            "category it concerns (empty: all)",
            references=Reference("categories", "category_id"),
        ),
        _partner(doc="partner it concerns (empty: all)"),
    ),
    date_column="start_date",
    checks=(("ordered_dates", ("start_date", "end_date")),),
)

# A site is a location or a warehouse: the store backs it with a view.
SITES = Reference("sites", "site_id")
_SKU = Column("sku_id", "text", "SKU", key=True, required=True, references=Reference("products", "sku_id"))
_LOCATION = Column(
    "location_id",
    "text",
    "point of sale",
    key=True,
    required=True,
    references=Reference("locations", "location_id"),
)
_FACT_PARTNER = _partner(doc="owning partner (filled from the SKU when left out; must match it)")

SALES = Table(
    "sales",
    "Units of one SKU sold at one location on one day, with the prices paid.",
    (
        Column("date", "date", "sales day", key=True, required=True),
        _SKU,
        _LOCATION,
        _FACT_PARTNER,
        Column("units", "int", "units sold (net of returns)", required=True, minimum=0, maximum=MAX_UNITS),
        Column("list_price", "float", "list price per unit, yuan", minimum=0, maximum=MAX_PRICE),
        Column(
            "paid_price",
            "float",
            "average price paid per unit before subsidy, yuan",
            minimum=0,
            maximum=MAX_PRICE,
        ),
        Column("discount", "float", "promotional discount as a fraction of list price", minimum=0, maximum=1),
        Column(
            "subsidy_yuan",
            "float",
            "trade-in / government subsidy per unit, yuan",
            minimum=0,
            maximum=MAX_PRICE,
            default="0",
        ),
    ),
    kind="fact",
    added_in=2,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="date",
    checks=(("paid_le_list", ("paid_price", "list_price")),),
)

INVENTORY = Table(
    "inventory",
    "Stock of one SKU at one store or warehouse at the end of a day.",
    (
        Column("date", "date", "snapshot day", key=True, required=True),
        _SKU,
        Column(
            "site_id",
            "text",
            "location_id of a store or warehouse_id of a warehouse",
            key=True,
            required=True,
            references=SITES,
        ),
        _FACT_PARTNER,
        Column("on_hand", "int", "units on hand", required=True, minimum=0, maximum=MAX_UNITS),
        Column(
            "in_transit", "int", "units ordered, not yet received", minimum=0, maximum=MAX_UNITS, default="0"
        ),
        Column(
            "stockout",
            "bool",
            "the SKU ran out during the day (sales that day are censored)",
            default="false",
        ),
    ),
    kind="fact",
    added_in=2,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="date",
)

ORDERS = Table(
    "orders",
    "A purchase order to a partner or a transfer between sites.",
    (
        Column("order_id", "text", "order code", key=True, required=True),
        Column("kind", "text", "purchase or transfer", required=True, choices=ORDER_KINDS),
        Column("sku_id", "text", "SKU", required=True, references=Reference("products", "sku_id")),
        _FACT_PARTNER,
        Column(
            "from_site_id",
            "text",
            "shipping site (empty for a purchase: the partner ships)",
            references=SITES,
        ),
        Column("to_site_id", "text", "receiving store or warehouse", required=True, references=SITES),
        Column("order_date", "date", "day placed", required=True),
        Column("due_date", "date", "day expected"),
        Column("quantity", "int", "units ordered", required=True, minimum=0, maximum=MAX_UNITS),
        Column(
            "status",
            "text",
            "order status",
            choices=("open", "shipped", "received", "cancelled"),
            default="open",
        ),
    ),
    kind="fact",
    added_in=2,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="order_date",
    checks=(("ordered_dates", ("order_date", "due_date")),),
)

PROMOTIONS = Table(
    "promotions",
    "A promotion of one SKU over a period, in one channel or all.",
    (
        Column("promotion_id", "text", "promotion code", key=True, required=True),
        Column("sku_id", "text", "SKU", key=True, required=True, references=Reference("products", "sku_id")),
        _FACT_PARTNER,
        Column("channel_id", "text", "channel (empty: all)", references=Reference("channels", "channel_id")),
        Column("start_date", "date", "first day", required=True),
        Column("end_date", "date", "last day", required=True),
        Column("discount", "float", "discount off list price as a fraction", minimum=0, maximum=1),
        Column(
            "event_id", "text", "the calendar event it belongs to", references=Reference("events", "event_id")
        ),
    ),
    kind="fact",
    added_in=2,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="start_date",
    checks=(("ordered_dates", ("start_date", "end_date")),),
)

PARTNER_FORECASTS = Table(
    "partner_forecasts",
    "A forecast submitted by a partner: units of a SKU in a channel for a future period.",
    (
        _partner(required=True, doc="the partner who submitted it (must own the SKU)"),
        Column("sku_id", "text", "SKU", key=True, required=True, references=Reference("products", "sku_id")),
        Column(
            "channel_id",
            "text",
            "channel",
            key=True,
            required=True,
            references=Reference("channels", "channel_id"),
        ),
        Column("ds", "date", "first day of the forecast period", key=True, required=True),
        Column("units", "float", "forecast units", required=True, minimum=0, maximum=MAX_UNITS),
        Column("submitted_on", "date", "day submitted"),
    ),
    kind="fact",
    added_in=2,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
)

# Tables in dependency order: a table only references tables before it
# (or itself), so loading in this order never trips a reference check.
TABLES: tuple[Table, ...] = (
    PARTNERS,
    CATEGORIES,
    AGREEMENTS,
    TARGETS,
    PRODUCTS,
    CHANNELS,
    WAREHOUSES,
    LOCATIONS,
    EVENTS,
    SALES,
    INVENTORY,
    ORDERS,
    PROMOTIONS,
    PARTNER_FORECASTS,
    *LOGISTICS_TABLES,
    *SIGNAL_TABLES,
    *RESULT_TABLES,
    *SERVICE_TABLES,
)
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
# Tables a user loads with `cpfr ingest`; the others cpfr writes itself (derived results and
# audit trails, through the same validation) and no file can overwrite them.
USER_TABLES: tuple[str, ...] = tuple(table.name for table in TABLES if not table.protected)
PROTECTED_TABLES: tuple[str, ...] = tuple(table.name for table in TABLES if table.protected)


def table(name: str) -> Table:
    """Return the table called ``name``, or raise a KeyError listing the valid names."""
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; expected one of {', '.join(USER_TABLES)}") from None


def user_table(name: str) -> Table:
    """Return the table a file may be loaded into, refusing unknown tables and those cpfr writes itself.

    Raises
    ------
    AccessError
        ``name`` holds derived results or an audit trail (:data:`PROTECTED_TABLES`).
    InputError
        ``name`` is not a table of the data model.
    """
    if name in PROTECTED_TABLES:
        raise AccessError(
            f"table {name!r} is written by cpfr itself (derived results or an audit trail), "
            f"not loaded from files; tables you can load: {', '.join(USER_TABLES)}"
        )
    if name not in USER_TABLES:
        raise InputError(f"unknown table {name!r} — expected one of {', '.join(USER_TABLES)}")
    return TABLES_BY_NAME[name]


def data_model_markdown() -> str:
    """Render the data model (every table, column and valid value) as the README's Markdown section."""
    lines: list[str] = []
    for spec in TABLES:
        written_by = "written by cpfr, not by ingest" + (", append-only" if spec.append_only else "")
        kind = f"{spec.kind}; {written_by}" if spec.protected else spec.kind
        lines += [f"#### `{spec.name}` ({kind})", "", spec.doc, ""]
        lines += ["| column | type | key | required | valid values | meaning |", "|---|---|---|---|---|---|"]
        for column in spec.columns:
            rule = column.expected()
            if column.references is not None:
                rule += f"; in `{column.references.table}.{column.references.column}`"
            lines.append(
                f"| `{column.name}` | {column.type} | {'yes' if column.key else ''} "
                f"| {'yes' if column.required else ''} | {rule} | {column.doc} |"
            )
        for rule_name, columns in spec.checks:
            lines.append("")
            lines.append(f"Row rule `{rule_name}` on {', '.join(columns)}: {ROW_RULES[rule_name]}.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
