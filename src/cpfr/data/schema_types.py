"""Building blocks of the alliance data model: references, columns, tables and their value limits.

:mod:`cpfr.data.schema` declares every table with these blocks and re-exports
them, so code and tests keep importing them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

LogicalType = Literal["text", "int", "float", "date", "bool"]

CHANNEL_KINDS = ("platform_online", "platform_offline", "brand_store")
LOCATION_KINDS = ("online_zone", "store", "warehouse")
WAREHOUSE_TIERS = ("RDC", "FDC")
TARGET_METRICS = ("gmv_yuan", "units")
ORDER_KINDS = ("purchase", "transfer")
EVENT_KINDS = ("promotion", "holiday", "launch", "subsidy")
REGIONS = ("North", "East", "South", "Central", "Southwest", "Northwest")
# Parcel size classes, smallest first (the thresholds live with the cost model, cpfr.network.cost),
# and the two legs a parcel can travel: from the destination region's own FDC, or from further away.
SIZE_CLASSES = ("S", "M", "L", "XL")
LEG_KINDS = ("local", "long_haul")

# The largest count cpfr accepts in a unit column: beyond any real daily SKU
# volume, and it keeps sums of 10^8 rows inside a signed 64-bit integer.
MAX_UNITS = 1_000_000_000
MAX_YUAN = 1e13  # 10 trillion yuan: above any alliance target ever signed
MAX_PRICE = 1e8  # 100 million yuan a unit: above any product sold on the platform
MAX_COUNT = 1_000_000_000  # rows, series, periods: bookkeeping counts

# Every date cpfr stores lies in this window: retail data from before 1990 or plans past 2100
# are typing mistakes (or 'infinity', BC dates, year 294247), and they break every date range.
MIN_DATE = "1990-01-01"
MAX_DATE = "2100-12-31"

# Identifiers (codes of partners, SKUs, stores, ...): a letter or digit, then letters, digits or
# _ . : @ / + -, 128 characters at most. Safe in file names, URLs, command lines and spreadsheets
# (no leading = + - @). Letters and digits of every script are allowed (e.g. Chinese store codes).
# (The length is checked apart: a bounded repetition of Unicode classes costs RE2 0.1 s to compile.)
IDENTIFIER_PATTERN = r"[\p{L}\p{N}][\p{L}\p{N}_.:@/+\-]*"
IDENTIFIER_MAX_LENGTH = 128
IDENTIFIER_RULE = "an identifier: a letter or digit, then letters, digits or _ . : @ / + - (128 at most)"
# Free text (names, descriptions, reasons): no control characters, at most this many characters.
TEXT_MAX_LENGTH = 1_000


@dataclass(frozen=True)
class Reference:
    """A column's value must exist as ``column`` of ``table`` (a foreign key)."""

    table: str
    column: str


@dataclass(frozen=True)
class Column:
    """One column of a table, with the rules its values must follow.

    Attributes
    ----------
    name : str
        Column name, snake_case with its unit where it has one.
    type : {'text', 'int', 'float', 'date', 'bool'}
        Logical type; the store maps it to the backend's SQL type.
    doc : str
        One line for the README's data model.
    key : bool
        Part of the table's natural key (upsert replaces rows by this key).
    required : bool
        A file must have the column and no row may leave it empty.
    minimum, maximum : float or None
        Inclusive bounds for numbers.
    choices : tuple of str
        Allowed values for a text column (empty: any).
    references : Reference or None
        The value must exist in another table (empty values are not checked).
    default : str or None
        SQL-free default used when a file leaves the column out.
    added_in : int
        Schema version that added the column (migrations add it then).
    max_length : int
        Longest text accepted, in characters (text columns).
    json_object : bool
        The text must be a JSON object (e.g. product attributes).
    identifier : bool or None
        The text is a code of :data:`IDENTIFIER_PATTERN`; None: a key, a reference or a ``*_id`` is.
    former_name, renamed_in : str or None, int or None
        The column was called ``former_name`` before schema version ``renamed_in``.
    """

    name: str
    type: LogicalType
    doc: str
    key: bool = False
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    references: Reference | None = None
    default: str | None = None
    added_in: int = 1
    max_length: int = TEXT_MAX_LENGTH
    json_object: bool = False
    identifier: bool | None = None
    former_name: str | None = None
    renamed_in: int | None = None

    @property
    def is_identifier(self) -> bool:
        """Whether the column holds codes (keys, references, ``*_id``) of :data:`IDENTIFIER_PATTERN`."""
        if self.type != "text" or self.choices:
            return False
        if self.identifier is not None:
            return self.identifier
        return self.key or self.references is not None or self.name.endswith("_id")

    def name_at(self, version: int) -> str:
        """Return the column's name in schema ``version``."""
        if self.former_name is not None and self.renamed_in is not None and version < self.renamed_in:
            return self.former_name
        return self.name

    def expected(self) -> str:
        """Describe in words what a valid value of this column looks like."""
        words = {
            "text": "text",
            "int": "a whole number",
            "float": "a number",
            "date": "a date YYYY-MM-DD",
            "bool": "true/false (or 1/0)",
        }[self.type]
        if self.choices:
            words = "one of " + ", ".join(self.choices)
        elif self.is_identifier:
            words = IDENTIFIER_RULE
        elif self.json_object:
            words = 'a JSON object, e.g. {"colour": "black"}'
        elif self.type == "text":
            words = f"text of at most {self.max_length:,} characters, no control characters"
        elif self.type == "date":
            words += f" between {MIN_DATE} and {MAX_DATE}"
        if self.minimum is not None and self.maximum is not None:
            words += f" between {_num(self.minimum)} and {_num(self.maximum)}"
        elif self.minimum is not None:
            words += f" >= {_num(self.minimum)}"
        elif self.maximum is not None:
            words += f" <= {_num(self.maximum)}"
        return words


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Table:
    """A table of the alliance data model.

    Attributes
    ----------
    name : str
        Table name.
    doc : str
        What one row is.
    columns : tuple of Column
        Its columns, key columns first.
    kind : {'reference', 'fact'}
        Reference (master) data or facts (events over time).
    partner_from : tuple of (column, table, column) or None
        For fact tables, where the owning partner is looked up: e.g.
        ``("sku_id", "products", "sku_id")``.
    date_column : str or None
        The column that dates a row, for ``db info`` date ranges.
    added_in : int
        Schema version that created the table.
    checks : tuple of (sql-free rule name, columns)
        Cross-column rules, see :data:`ROW_RULES`.
    within : tuple of (column, table, key, start, end, own start, own end) or None
        The row's own dates must lie between the start and end of the row it references:
        e.g. a target's period inside its agreement's term.
    protected : bool
        Written by cpfr itself (derived results, audit trails), never by ``cpfr ingest``.
    append_only : bool
        A stored row is never replaced: a row whose key is stored already is refused.
    """

    name: str
    doc: str
    columns: tuple[Column, ...]
    kind: Literal["reference", "fact"] = "reference"
    partner_from: tuple[str, str, str] | None = None
    date_column: str | None = None
    added_in: int = 1
    checks: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    within: tuple[str, str, str, str, str, str, str] | None = None
    protected: bool = False
    append_only: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key columns."""
        return tuple(column.name for column in self.columns if column.key)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def columns_at(self, version: int) -> tuple[Column, ...]:
        """Columns that exist once schema ``version`` is applied, under their names of that version."""
        return tuple(
            replace(column, name=column.name_at(version))
            for column in self.columns
            if column.added_in <= version
        )


def partner_column(
    required: bool = False, doc: str = "owning brand partner (empty: platform-shared)"
) -> Column:
    """Return the ``partner_id`` column every table has (the ownership rule of :mod:`cpfr.data.schema`)."""
    return Column(
        "partner_id", "text", doc, required=required, references=Reference("partners", "partner_id")
    )


# The quantile levels cpfr forecasts and stores, defined once for every layer, and their one name.
QUANTILE_LEVELS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def quantile_name(level: float) -> str:
    """Name the column of quantile ``level`` in files and in the store: 0.05 → 'q0.05', 0.5 → 'q0.5'."""
    return f"q{float(level)!r}"


# Cross-column rules a row must satisfy, by name: (description for the report).
ROW_RULES: dict[str, str] = {
    "ordered_dates": "the second date on or after the first",
    "paid_le_list": "paid_price not above list_price",
}
