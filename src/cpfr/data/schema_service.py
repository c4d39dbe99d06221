"""The tables of the shared service: users and their keys, the audit trail, jobs and the planners' notes.

``cpfr serve`` and ``cpfr users`` write them (they are ``protected``: no file can overwrite them),
through the same validation as every other table. Each carries ``partner_id`` like every table, so
the partner scoping of the store (and PostgreSQL's row-level security) covers them too: a brand's
session sees its own users, audit rows, jobs and notes, never another brand's.
"""

from __future__ import annotations

from cpfr.data.schema_types import MAX_UNITS, Column, Reference, Table, partner_column

_PRODUCT = Reference("products", "sku_id")
_CHANNEL = Reference("channels", "channel_id")
ROLES: tuple[str, ...] = ("platform_admin", "platform_planner", "partner_planner", "partner_viewer")
JOB_STATES: tuple[str, ...] = ("queued", "running", "succeeded", "failed")
LONG_TEXT = 20_000  # a JSON detail or a job's result summary


def _when(name: str, doc: str = "UTC timestamp, ISO 8601", *, required: bool = True) -> Column:
    return Column(name, "text", doc, required=required)


USERS = Table(
    "users",
    "A person (or script) with an API key: whose side, which role; only a slow salted hash of the key.",
    (
        Column("user_id", "text", "user code", key=True, required=True),
        Column("name", "text", "display name", required=True),
        partner_column(doc="the brand partner the user works for (empty: the platform)"),
        Column("role", "text", "what the user may do", required=True, choices=ROLES),
        Column(
            "key_hash", "text", "scrypt hash of the API key's secret ($scrypt$n$r$p$salt$hash)", required=True
        ),
        _when("created_at"),
        _when("revoked_at", "UTC timestamp of the revocation (empty: the key works)", required=False),
    ),
    added_in=7,
    protected=True,
)

AUDIT_LOG = Table(
    "audit_log",
    "One write through the service or the user commands: who, for which partner, when, what changed.",
    (
        Column("audit_id", "text", "audit entry code", key=True, required=True),
        _when("at"),
        Column("user_id", "text", "the acting user (cpfr-cli for the command line)", required=True),
        partner_column(doc="the partner whose data changed (empty: platform-wide)"),
        Column("action", "text", "what was done, e.g. ingest, override, comment, user.add", required=True),
        Column("target", "text", "what it was done to (table, exception, user, ...)", max_length=400),
        Column("detail", "text", "what changed, as a JSON object", json_object=True, max_length=LONG_TEXT),
    ),
    kind="fact",
    added_in=7,
    protected=True,
    append_only=True,
)

EXCEPTION_NOTES = Table(
    "exception_notes",
    "A planner's comment on, or resolution of, an exception of a plan run.",
    (
        Column("note_id", "text", "note code", key=True, required=True),
        Column(
            "exception_id",
            "text",
            "the exception: plan run, partner and rank (RUN:PARTNER:RANK)",
            required=True,
        ),
        partner_column(required=True, doc="the partner whose exception it is"),
        Column("kind", "text", "comment or resolve", required=True, choices=("comment", "resolve", "reopen")),
        Column("text", "text", "what the planner wrote", required=True, max_length=4000),
        Column("user_id", "text", "the acting user", required=True),
        _when("at"),
    ),
    kind="fact",
    added_in=7,
    protected=True,
    append_only=True,
)

CONSENSUS_PROPOSALS = Table(
    "consensus_proposals",
    "A partner planner's proposed consensus value for one SKU, channel and week, for the platform to accept.",
    (
        Column("proposal_id", "text", "proposal code", key=True, required=True),
        partner_column(required=True, doc="the proposing partner"),
        Column("sku_id", "text", "SKU", required=True, references=_PRODUCT),
        Column("channel_id", "text", "channel", required=True, references=_CHANNEL),
        Column("ds", "date", "first day (Monday) of the week", required=True),
        Column("units", "float", "proposed units", required=True, minimum=0, maximum=MAX_UNITS),
        Column("why", "text", "the reason given", required=True, max_length=2000),
        Column("user_id", "text", "the acting user", required=True),
        _when("at"),
    ),
    kind="fact",
    added_in=7,
    partner_from=("sku_id", "products", "sku_id"),
    date_column="ds",
    protected=True,
    append_only=True,
)

ORDER_EDITS = Table(
    "order_edits",
    "A planner's change to a proposed network order of a plan run before release (quantity or release).",
    (
        Column("edit_id", "text", "edit code", key=True, required=True),
        Column("run_id", "text", "the plan run", required=True),
        Column("order_id", "text", "the proposed order", required=True),
        partner_column(required=True, doc="the partner whose SKU it is"),
        Column("quantity", "float", "units after the edit", required=True, minimum=0, maximum=MAX_UNITS),
        Column("released", "bool", "the order was released as it stands"),
        Column("user_id", "text", "the acting user", required=True),
        _when("at"),
    ),
    kind="fact",
    added_in=7,
    protected=True,
    append_only=True,
)

JOBS = Table(
    "jobs",
    "A long piece of work run in the background by the service (a plan run, a forecast): state and result.",
    (
        Column("job_id", "text", "job code", key=True, required=True),
        Column("kind", "text", "plan or forecast", required=True),
        Column("state", "text", "where it stands", required=True, choices=JOB_STATES),
        Column("progress", "text", "the last progress line", max_length=2000),
        Column("user_id", "text", "who started it", required=True),
        partner_column(doc="the partner it was run for (empty: the whole alliance)"),
        _when("created_at"),
        _when("finished_at", required=False),
        Column(
            "result", "text", "what it produced, as a JSON object", json_object=True, max_length=LONG_TEXT
        ),
        Column("error", "text", "why it failed", max_length=LONG_TEXT),
    ),
    added_in=7,
    protected=True,
)

SERVICE_TABLES: tuple[Table, ...] = (
    USERS,
    AUDIT_LOG,
    EXCEPTION_NOTES,
    CONSENSUS_PROPOSALS,
    ORDER_EDITS,
    JOBS,
)
