"""The tables cpfr writes itself: forecast runs, the override trail, the ingest log and the plan's results.

None of them can be loaded with ``cpfr ingest`` (they are ``protected``); cpfr writes them through
the same validation as a user's file (:meth:`cpfr.data.store.Store.write_rows`). Every result row
carries the run that made it, so a planner can tell which plan a number comes from and the latest
plan can be read back instead of being computed again. :mod:`cpfr.data.schema` lists them with the
user tables and re-exports them.
"""

from __future__ import annotations

from cpfr.data.schema_types import (
    MAX_COUNT,
    MAX_PRICE,
    MAX_UNITS,
    MAX_YUAN,
    QUANTILE_LEVELS,
    TARGET_METRICS,
    Column,
    Reference,
    Table,
    partner_column,
    quantile_name,
)

_PRODUCT = Reference("products", "sku_id")
_CHANNEL = Reference("channels", "channel_id")
_FACT_PARTNER = partner_column(doc="owning partner (filled from the SKU when left out; must match it)")
_KEY_PARTNER = Column(
    "partner_id",
    "text",
    "the partner",
    key=True,
    required=True,
    references=Reference("partners", "partner_id"),
)
_EXCEPTION_REASONS = ("DISCREPANCY", "PROMOTION_MISMATCH", "ACCURACY_DROP", "STOCKOUT_RISK", "OVERSTOCK_RISK")
# Signed amounts: a gap, a bias, a difference between two forecasts.
_SIGNED_UNITS = {"minimum": -MAX_UNITS, "maximum": MAX_UNITS}
_SIGNED_YUAN = {"minimum": -MAX_YUAN, "maximum": MAX_YUAN}


def _run(table: str, doc: str = "the plan run (see plan_runs)") -> Column:
    return Column("run_id", "text", doc, key=True, required=True, references=Reference(table, "run_id"))


def _units(name: str, doc: str, **rules: object) -> Column:
    return Column(name, "float", doc, minimum=0, maximum=MAX_UNITS, **rules)  # type: ignore[arg-type]


FORECAST_RUNS = Table(
    "forecast_runs",
    "One forecasting run over the store: when, at which level, with which model.",
    (
        Column("run_id", "text", "run code", key=True, required=True),
        Column("created_at", "text", "UTC timestamp, ISO 8601", required=True),
        Column(
            "level",
            "text",
            "series level, e.g. sku/store",
            required=True,
            choices=("sku", "sku/store", "sku/channel"),
        ),
        Column("horizon", "int", "periods forecast", required=True, minimum=1, maximum=10_000),
        Column(
            "freq",
            "text",
            "pandas frequency of the periods (D daily, W-MON weeks from Monday)",
            required=True,
        ),
        Column("model", "text", "the model or combination chosen", required=True),
        Column("series", "int", "series forecast", required=True, minimum=0, maximum=MAX_COUNT),
        partner_column(doc="partner whose data it covered (empty: all)"),
    ),
    added_in=4,
    protected=True,
)

FORECASTS = Table(
    "forecasts",
    "A probabilistic forecast of one series and period from one run: mean and quantiles of units.",
    (
        # No reference to forecast_runs: forecasts are written first, then their run row, so a
        # failed write leaves neither (each is one transaction).
        Column("run_id", "text", "the run (see forecast_runs)", key=True, required=True),
        Column("unique_id", "text", "series id: sku, sku@location or sku@channel", key=True, required=True),
        Column("ds", "date", "first day of the period", key=True, required=True),
        Column("sku_id", "text", "SKU", required=True, references=_PRODUCT),
        Column(
            "location_id",
            "text",
            "point of sale (sku/store level)",
            references=Reference("locations", "location_id"),
        ),
        Column("channel_id", "text", "channel (sku/channel level)", references=_CHANNEL),
        _FACT_PARTNER,
        Column("mean", "float", "point forecast, units", required=True, minimum=0, maximum=MAX_UNITS),
        *(
            _units(
                quantile_name(level),
                f"{level:g} quantile, units",
                former_name=f"q{round(level * 100):02d}",
                renamed_in=6,
            )
            for level in QUANTILE_LEVELS
        ),
    ),
    kind="fact",
    added_in=4,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
    protected=True,
)

FORECAST_ACCURACY = Table(
    "forecast_accuracy",
    "How accurate a forecast run's model was in its rolling-origin backtest, per series (weekly runs).",
    (
        Column("run_id", "text", "the forecast run (see forecast_runs)", key=True, required=True),
        Column("sku_id", "text", "SKU", key=True, required=True, references=_PRODUCT),
        Column("channel_id", "text", "channel", key=True, required=True, references=_CHANNEL),
        _FACT_PARTNER,
        Column(
            "log_ratio_sd",
            "float",
            "spread of log(forecast / actual) over backtest weeks",
            minimum=0,
            maximum=100,
        ),
        Column(
            "log_ratio_median",
            "float",
            "median of log(forecast / actual): the bias",
            minimum=-100,
            maximum=100,
        ),
        Column("wape", "float", "sum |error| / sum actual", minimum=0, maximum=1e6),
        _units("abs_error", "sum of absolute errors, units"),
        Column("error", "float", "sum of forecast - actual, units", **_SIGNED_UNITS),  # type: ignore[arg-type]
        _units("actual", "sum of actual units over the backtest weeks"),
    ),
    kind="fact",
    added_in=6,
    partner_from=("sku_id", "products", "sku_id"),
    protected=True,
)

INGEST_LOG = Table(
    "ingest_log",
    "One successful ingest: which file went into which table, when, and how many rows.",
    (
        Column("ingest_id", "text", "uuid of the ingest", key=True, required=True),
        Column("table_name", "text", "target table", required=True),
        Column("file", "text", "file path as given", required=True, max_length=4_096),
        Column("sha256", "text", "content hash of the file", required=True),
        Column("rows", "int", "rows in the file", required=True, minimum=0, maximum=MAX_COUNT),
        Column("ingested_at", "text", "UTC timestamp, ISO 8601", required=True),
        partner_column(doc="partner whose data it was (empty: several or platform)"),
    ),
    added_in=3,
    protected=True,
)

CONSENSUS_OVERRIDES = Table(
    "consensus_overrides",
    "A planner's change to a consensus forecast: the audit trail of who changed what, when and why.",
    (
        Column("override_id", "text", "override code", key=True, required=True),
        partner_column(required=True, doc="the partner whose forecast it is"),
        Column("sku_id", "text", "SKU", required=True, references=_PRODUCT),
        Column("channel_id", "text", "channel", required=True, references=_CHANNEL),
        Column("ds", "date", "first day (Monday) of the week", required=True),
        _units("old_units", "consensus units before the change"),
        _units("new_units", "consensus units after it", required=True),
        Column(
            "who", "text", "the acting user (from the login or the API key, never typed in)", required=True
        ),
        Column("why", "text", "the reason given", required=True),
        Column("changed_at", "text", "UTC timestamp, ISO 8601", required=True),
    ),
    kind="fact",
    added_in=5,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
    protected=True,
    append_only=True,
)

PLAN_RUNS = Table(
    "plan_runs",
    "One run of the CPFR cycle (`cpfr plan`): when, over which sales, with which forecast.",
    (
        Column("run_id", "text", "plan run code", key=True, required=True),
        Column("created_at", "text", "UTC timestamp, ISO 8601", required=True),
        Column("as_of", "date", "last day of sales the plan used", required=True),
        Column("weeks", "int", "future weeks planned", required=True, minimum=1, maximum=520),
        Column(
            "forecast_run_id",
            "text",
            "the weekly platform forecast the plan used (see forecast_runs)",
            references=Reference("forecast_runs", "run_id"),
        ),
        Column("model", "text", "the forecast model or combination chosen"),
        Column(
            "stage_seconds", "text", "seconds per stage, a JSON object", json_object=True, max_length=10_000
        ),
        Column("notes", "text", "what could not be done and why", max_length=10_000),
        partner_column(doc="the partner planned (empty: every partner)"),
    ),
    added_in=6,
    date_column="as_of",
    protected=True,
)

PLAN_TARGETS = Table(
    "plan_targets",
    "A running target as a plan saw it: progress to date, pace, projection and attainment probability.",
    (
        _run("plan_runs"),
        Column(
            "target_id",
            "text",
            "the target",
            key=True,
            required=True,
            references=Reference("targets", "target_id"),
        ),
        partner_column(required=True),
        Column("metric", "text", "what is counted", required=True, choices=TARGET_METRICS),
        Column("description", "text", "the target as signed"),
        Column("target", "float", "target value", required=True, minimum=0, maximum=MAX_YUAN),
        Column(
            "target_to_date", "float", "profiled target up to the plan's day", minimum=0, maximum=MAX_YUAN
        ),
        Column("actual", "float", "actual up to the plan's day", minimum=0, maximum=MAX_YUAN),
        Column("gap_to_date", "float", "actual - target to date", **_SIGNED_YUAN),  # type: ignore[arg-type]
        Column("attainment", "float", "actual / target", minimum=0, maximum=1e6),
        Column("pace", "float", "actual / target to date", minimum=0, maximum=1e6),
        Column("days_elapsed", "float", "days of the period elapsed", minimum=0, maximum=1e5),
        Column("days_left", "float", "days of the period left", minimum=0, maximum=1e5),
        Column("run_rate", "float", "actual per day so far", minimum=0, maximum=MAX_YUAN),
        Column("required_run_rate", "float", "per day needed from now on", minimum=0, maximum=MAX_YUAN),
        Column("projected_at_run_rate", "float", "final total at the run rate", minimum=0, maximum=MAX_YUAN),
        Column("projected_at_pace", "float", "final total at the pace", minimum=0, maximum=MAX_YUAN),
        Column("probability", "float", "P(final total >= target)", minimum=0, maximum=1),
        Column("expected_total", "float", "expected final total", minimum=0, maximum=MAX_YUAN),
        Column("final_q10", "float", "10 % quantile of the final total", minimum=0, maximum=MAX_YUAN),
        Column(
            "final_q50",
            "float",
            "median final total: reached with 50 % probability",
            minimum=0,
            maximum=MAX_YUAN,
        ),
        Column("final_q90", "float", "90 % quantile of the final total", minimum=0, maximum=MAX_YUAN),
        Column(
            "uplift_for_50",
            "float",
            "uplift on the rest of the period for 50 % (empty: none needed/possible)",
            minimum=-1,
            maximum=1e6,
        ),
        Column(
            "uplift_for_80", "float", "uplift on the rest of the period for 80 %", minimum=-1, maximum=1e6
        ),
    ),
    added_in=6,
    protected=True,
)

PLAN_TARGET_GAPS = Table(
    "plan_target_gaps",
    "The gap to date of a target by one dimension (category, channel, city tier, month), as a plan saw it.",
    (
        _run("plan_runs"),
        Column(
            "target_id",
            "text",
            "the target",
            key=True,
            required=True,
            references=Reference("targets", "target_id"),
        ),
        Column(
            "dimension",
            "text",
            "what the gap is split by",
            key=True,
            required=True,
            choices=("category_id", "channel_id", "city_tier", "month"),
        ),
        Column(
            "member",
            "text",
            "the category, channel, tier or month",
            key=True,
            required=True,
            identifier=False,
        ),
        partner_column(),
        Column("target", "float", "target of the member", minimum=0, maximum=MAX_YUAN),
        Column("target_to_date", "float", "profiled target to date", minimum=0, maximum=MAX_YUAN),
        Column("actual", "float", "actual to date", minimum=0, maximum=MAX_YUAN),
        Column("gap", "float", "actual - target to date", **_SIGNED_YUAN),  # type: ignore[arg-type]
        Column("share_of_gap", "float", "share of the target's whole gap", minimum=-1e6, maximum=1e6),
    ),
    added_in=6,
    protected=True,
)

PLAN_EXCEPTIONS = Table(
    "plan_exceptions",
    "An exception between the platform's and a partner's plans, ranked by the value at stake.",
    (
        _run("plan_runs"),
        _KEY_PARTNER,
        Column(
            "rank",
            "int",
            "rank within the partner's list, by value at stake",
            key=True,
            required=True,
            minimum=1,
            maximum=MAX_COUNT,
        ),
        Column("reason", "text", "reason code", required=True, choices=_EXCEPTION_REASONS),
        Column("sku_id", "text", "SKU", references=_PRODUCT),
        Column("channel_id", "text", "channel", references=_CHANNEL),
        Column("ds", "date", "the week (Monday)"),
        _units("platform_units", "the platform's forecast"),
        _units("partner_units", "the partner's forecast"),
        Column("difference", "float", "partner - platform, units", **_SIGNED_UNITS),  # type: ignore[arg-type]
        Column("z_score", "float", "the difference in standard errors", minimum=-1e6, maximum=1e6),
        Column("value_yuan", "float", "value at stake, yuan", minimum=0, maximum=MAX_YUAN),
        Column("detail", "text", "the evidence in words"),
    ),
    kind="fact",
    added_in=6,
    protected=True,
)

PLAN_CONSENSUS = Table(
    "plan_consensus",
    "The consensus forecast of a SKU, channel and week: both sides, their weights and overrides.",
    (
        _run("plan_runs"),
        Column("sku_id", "text", "SKU", key=True, required=True, references=_PRODUCT),
        Column("channel_id", "text", "channel", key=True, required=True, references=_CHANNEL),
        Column("ds", "date", "the week (Monday)", key=True, required=True),
        _FACT_PARTNER,
        _units("platform", "the platform's forecast"),
        _units("partner", "the partner's forecast"),
        Column("weight_platform", "float", "weight of the platform's side", minimum=0, maximum=1),
        _units("combined", "accuracy-weighted combination"),
        _units("consensus", "the consensus (an override where there is one)"),
        Column("overridden", "bool", "a planner overrode the combination"),
    ),
    kind="fact",
    added_in=6,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
    protected=True,
)

PLAN_ORDER_FORECAST = Table(
    "plan_order_forecast",
    "The weekly order forecast to a partner per SKU, derived from the consensus.",
    (
        _run("plan_runs"),
        Column("sku_id", "text", "SKU", key=True, required=True, references=_PRODUCT),
        Column("ds", "date", "the week (Monday)", key=True, required=True),
        _FACT_PARTNER,
        _units("demand", "consensus demand of the week"),
        _units("order_up_to", "order-up-to level"),
        Column("position", "float", "inventory position before the order", **_SIGNED_UNITS),  # type: ignore[arg-type]
        _units("order", "units to order that week"),
    ),
    kind="fact",
    added_in=6,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
    protected=True,
)

PLAN_NETWORK_ORDERS = Table(
    "plan_network_orders",
    "A purchase order or transfer the plan proposes for tomorrow (before a planner releases it).",
    (
        _run("plan_runs"),
        Column("order_id", "text", "order code", key=True, required=True),
        Column("kind", "text", "purchase or transfer", required=True, choices=("purchase", "transfer")),
        Column("sku_id", "text", "SKU", required=True, references=_PRODUCT),
        _FACT_PARTNER,
        Column(
            "from_site_id",
            "text",
            "shipping site (empty for a purchase)",
            references=Reference("sites", "site_id"),
        ),
        Column(
            "to_site_id", "text", "receiving site", required=True, references=Reference("sites", "site_id")
        ),
        Column("order_date", "date", "day placed", required=True),
        Column("due_date", "date", "day expected"),
        Column("quantity", "int", "units", required=True, minimum=0, maximum=MAX_UNITS),
        Column("stage", "text", "network stage planned: rdc, fdc, location"),
        Column("position", "float", "inventory position before the order", **_SIGNED_UNITS),  # type: ignore[arg-type]
        _units("protection_demand_mean", "mean demand over the protection period"),
        _units("protection_demand_p95", "95 % quantile of that demand"),
        Column("list_price", "float", "list price per unit, yuan", minimum=0, maximum=MAX_PRICE),
    ),
    kind="fact",
    added_in=6,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="order_date",
    protected=True,
)

PLAN_KPIS = Table(
    "plan_kpis",
    "A KPI of the collaboration with one partner (accuracy, bias, service, stock), as a plan measured it.",
    (
        _run("plan_runs"),
        _KEY_PARTNER,
        Column("kpi", "text", "what is measured, e.g. fill rate", key=True, required=True, identifier=False),
        Column(
            "side", "text", "whose figure", key=True, required=True, choices=("partner", "platform", "joint")
        ),
        Column("value", "float", "the figure", required=True, minimum=-1e12, maximum=1e12),
        Column("unit", "text", "share, days, units, ..."),
    ),
    added_in=6,
    protected=True,
)

# In the order they can be written: a run before the rows that reference it.
RESULT_TABLES: tuple[Table, ...] = (
    INGEST_LOG,
    FORECAST_RUNS,
    FORECASTS,
    CONSENSUS_OVERRIDES,
    FORECAST_ACCURACY,
    PLAN_RUNS,
    PLAN_TARGETS,
    PLAN_TARGET_GAPS,
    PLAN_EXCEPTIONS,
    PLAN_CONSENSUS,
    PLAN_ORDER_FORECAST,
    PLAN_NETWORK_ORDERS,
    PLAN_KPIS,
)
