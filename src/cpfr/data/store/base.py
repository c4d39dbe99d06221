"""The store interface every backend implements, and its result objects.

Callers (the CLI, the planners' Python API, later layers) talk only to
:class:`Store`; the SQL lives in one backend module per database, so a
PostgreSQL backend can be added beside DuckDB without touching callers.
"""

from __future__ import annotations

import datetime as dt
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pandas as pd

from cpfr.data.sources import SourceFile

DB_ENV_VAR = "CPFR_DB"
DEFAULT_DB = "cpfr.duckdb"

# Dimensions the sales cube can group by, and what each one means.
CUBE_DIMENSIONS: dict[str, str] = {
    "partner_id": "brand partner",
    "category_l1": "top-level category (3C digital, home appliances, ...)",
    "category_id": "leaf category",
    "sku_id": "SKU",
    "channel_kind": "platform_online / platform_offline / brand_store",
    "channel_id": "channel",
    "location_id": "store or online zone",
    "region": "region",
    "city_tier": "city tier 1-5",
    "year": "calendar year",
    "month": "first day of the month",
    "week": "Monday of the ISO week",
    "date": "day",
}


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> str:
    """Return the store location: ``db`` if given, else ``$CPFR_DB``, else ``cpfr.duckdb``."""
    if db is not None and str(db):
        return str(db)
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did (or, for a dry run, would do).

    Attributes
    ----------
    table : str
        Target table.
    file : str
        The file as the user named it.
    rows : int
        Data rows in the file.
    inserted : int
        Rows whose key was new to the store.
    replaced : int
        Rows that replaced a stored row with the same key.
    dry_run : bool
        True when nothing was written.
    seconds : float
        Wall time of the whole ingest.
    """

    table: str
    file: str
    rows: int
    inserted: int
    replaced: int
    dry_run: bool
    seconds: float


@dataclass(frozen=True)
class TableInfo:
    """Row count and, per partner, the date range of one table.

    Attributes
    ----------
    table : str
        Table name.
    rows : int
        Rows stored.
    by_partner : tuple of (partner_id, rows, first_date, last_date)
        One entry per partner ('' for platform-shared rows); dates are None
        for tables without a date column.
    """

    table: str
    rows: int
    by_partner: tuple[tuple[str, int, dt.date | None, dt.date | None], ...]


def collect_table_info(fetch: Callable[[str], Sequence[Sequence[object]]]) -> list[TableInfo]:
    """Return :meth:`Store.table_info` of a backend, given how it runs a query (``fetch(sql) -> rows``).

    The SQL is the same on DuckDB and PostgreSQL; only the connection differs.
    """
    from cpfr.data import schema
    from cpfr.data.store.sql import ident

    infos = []
    for spec in schema.TABLES:
        date = ident(spec.date_column) if spec.date_column else None
        dates = f"min({date}), max({date})" if date else "NULL::date, NULL::date"
        table = ident(spec.name)
        rows = fetch(f"SELECT coalesce(partner_id, ''), count(*), {dates} FROM {table} GROUP BY 1 ORDER BY 1")
        by_partner = tuple((str(row[0]), int(str(row[1])), _day(row[2]), _day(row[3])) for row in rows)
        infos.append(TableInfo(spec.name, sum(entry[1] for entry in by_partner), by_partner))
    return infos


def _day(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


class Store(ABC):
    """A cpfr store: versioned schema, safe ingestion, reads and exports.

    Use as a context manager so the connection is closed::

        with open_store("cpfr.duckdb") as store:
            store.ingest(open_source("sales.csv"), "sales")
    """

    location: str
    read_only: bool

    @abstractmethod
    def schema_version(self) -> int:
        """Return the schema version applied to the store (0 for an empty store)."""

    @abstractmethod
    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to ``target`` (default: latest); return the versions applied."""

    @abstractmethod
    def ingest(self, source: SourceFile, table: str, *, dry_run: bool = False) -> IngestResult:
        """Validate ``source`` against ``table`` and upsert it in one transaction.

        Raises
        ------
        ValidationError
            Listing every problem found (capped); nothing is written.
        """

    @abstractmethod
    def write_rows(self, frame: pd.DataFrame, table: str) -> IngestResult:
        """Validate rows cpfr computed and upsert them in one transaction (the way into protected tables)."""

    @abstractmethod
    def write_tables(self, frames: Mapping[str, pd.DataFrame]) -> list[IngestResult]:
        """Validate and upsert several tables of cpfr's rows in one transaction: all of them or none."""

    @abstractmethod
    def table_info(self) -> list[TableInfo]:
        """Return row counts and per-partner date ranges of every table."""

    @abstractmethod
    def read_table(
        self,
        table: str,
        *,
        partner_id: str | None = None,
        where: Mapping[str, object] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return a table's rows (only ``partner_id``'s and shared rows if given), sorted by key.

        ``where`` keeps the rows whose columns equal the values given (e.g. one run); a list or
        tuple value keeps rows equal to any of its items. ``start`` and ``end`` bound the table's
        date column (inclusive); ``limit`` and ``offset`` page through the sorted rows.
        """

    @abstractmethod
    def count_rows(
        self,
        table: str,
        *,
        partner_id: str | None = None,
        where: Mapping[str, object] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> int:
        """Return how many rows :meth:`read_table` would return with the same filters and no limit."""

    @abstractmethod
    def date_range(self, table: str) -> tuple[dt.date | None, dt.date | None]:
        """Return the first and last day of ``table``'s date column (None, None when it is empty)."""

    @abstractmethod
    def export(
        self, table: str, output: Path, *, partner_id: str | None = None, spreadsheet_safe: bool = True
    ) -> int:
        """Write ``table`` to ``output`` (Parquet, or CSV by extension); return rows written.

        With ``spreadsheet_safe``, CSV text cells that a spreadsheet would run as a formula
        are neutralised (see :func:`cpfr.data.sources.spreadsheet_safe`).
        """

    @abstractmethod
    def sales_cube(
        self,
        by: Sequence[str],
        *,
        partner_id: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pd.DataFrame:
        """Return units and GMV (yuan, paid price x units) of sales grouped by ``by``.

        ``by`` names entries of :data:`CUBE_DIMENSIONS`; ``start`` and ``end``
        are inclusive days.
        """

    @abstractmethod
    def content_digest(self) -> dict[str, str]:
        """Return a digest of each table's content, independent of row order."""

    @abstractmethod
    def session(self, partner_id: str | None = None) -> Store:
        """Return a new handle on the same store for one thread or request (close it after use).

        Handles share the database, not the connection: a server gives each request
        its own, so reads run side by side. With ``partner_id`` the backend also
        enforces the partner where it can (PostgreSQL's row-level security); callers
        still go through :func:`cpfr.data.store.scoped.scoped`, which filters on every backend.
        """

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
