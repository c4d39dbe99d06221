"""The PostgreSQL backend: cpfr's store on a server several planners share.

Design choices, and why:

- Files are validated by the DuckDB backend's own checks, on an in-memory
  DuckDB store (the *checker*): the same SQL finds the same problems, with the
  same rows, columns and wording, on both backends. The checker gets copies of
  the stored rows the checks need: the tables a file references (small
  reference data) and, of the target table, only the rows whose keys the file
  carries (to merge the columns the file lacks and to count replacements).
- Everything an ingest reads and writes on the server happens in ONE
  transaction: the copies, then COPY of the typed rows into a scratch table,
  DELETE of the stored rows with the same keys and INSERT of the new ones
  (COPY cannot write into a table under row-level security),
  and the ``ingest_log`` row. A writer first takes a lock on its table that
  other writers of the table wait for (``wait_seconds``) and readers do not.
- Reads come back through ``COPY (query) TO STDOUT`` as CSV parsed by Arrow,
  and become pandas with the dtypes DuckDB's ``.df()`` gives
  (:func:`cpfr.data.store.postgres_copy.to_frame`).
- Row-level security keeps partners apart on the server itself; see
  :mod:`cpfr.data.store.postgres_schema`. cpfr must connect as an ordinary
  role (the database's owner is fine): a superuser bypasses the policies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from time import perf_counter

import pandas as pd
import psycopg
import pyarrow as pa
from psycopg import errors as pg_errors
from psycopg import sql

from cpfr.data import schema
from cpfr.data.migrations import LATEST_VERSION, MIGRATIONS, Migration
from cpfr.data.sources import SourceFile, frame_source
from cpfr.data.store.base import CUBE_DIMENSIONS, IngestResult, Store, TableInfo, collect_table_info
from cpfr.data.store.duckdb_connect import DEFAULT_WAIT_SECONDS, StoreMode
from cpfr.data.store.duckdb_store import DuckDBStore
from cpfr.data.store.export import write_export
from cpfr.data.store.plan import IngestPlan
from cpfr.data.store.postgres_copy import (
    ARROW_TYPES,
    COPY_BATCH_ROWS,
    column_types,
    read_arrow,
    to_frame,
    write_arrow,
)
from cpfr.data.store.postgres_schema import PARTNER_SETTING, migration_statements
from cpfr.data.store.sql import any_table, first_line, ident, literal, select_table
from cpfr.exceptions import (
    InputError,
    MigrationError,
    NotAStoreError,
    ReadOnlyStoreError,
    StoreBusyError,
    StoreError,
)

_KEYS = "__cpfr_keys"
_LOAD = "__cpfr_load"

_CUBE_SQL = {
    "partner_id": "s.partner_id",
    "category_l1": "tops.top_id",
    "category_id": "p.category_id",
    "sku_id": "s.sku_id",
    "channel_kind": "ch.kind",
    "channel_id": "ch.channel_id",
    "location_id": "s.location_id",
    "region": "l.region",
    "city_tier": "l.city_tier",
    "year": "extract(year FROM s.date)::bigint",
    "month": "date_trunc('month', s.date)::date",
    "week": "date_trunc('week', s.date)::date",
    "date": "s.date",
}
_CUBE_TYPES: dict[str, pa.DataType] = {
    **{name: ARROW_TYPES["text"] for name in CUBE_DIMENSIONS},
    **{name: ARROW_TYPES["int"] for name in ("city_tier", "year", "units")},
    **{name: ARROW_TYPES["date"] for name in ("month", "week", "date")},
    "gmv_yuan": ARROW_TYPES["float"],
}


def redact(url: str) -> str:
    """Return ``url`` with its password replaced by ``***`` (the form shown in messages)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(Store):
    """A cpfr store in a PostgreSQL database.

    Parameters
    ----------
    url : str
        ``postgresql://role:password@host:port/database``; the role must not be a
        superuser (superusers bypass row-level security).
    mode : {'write', 'read', 'create'}
        ``write``: the database must hold a cpfr store; ``read``: the same,
        every transaction read-only; ``create``: an empty database becomes a store.
    wait_seconds : float
        How long a write waits for another writer of the same table (PostgreSQL's
        ``lock_timeout``) before :class:`~cpfr.exceptions.StoreBusyError`.
    migrate : bool
        Apply pending migrations on open (default).
    partner_id : str, optional
        Bind the connection to one partner: row-level security then shows and
        accepts only that partner's rows and the platform-shared ones.

    Raises
    ------
    StoreError
        The server cannot be reached or refuses the role.
    NotAStoreError, ReadOnlyStoreError, MigrationError
        As for :class:`~cpfr.data.store.duckdb_store.DuckDBStore`.
    """

    def __init__(
        self,
        url: str,
        *,
        mode: StoreMode = "write",
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        migrate: bool = True,
        partner_id: str | None = None,
    ) -> None:
        self.location = redact(url)
        self.read_only = mode == "read"
        self.partner_id = partner_id
        self._url, self._wait_seconds = url, wait_seconds
        self._con = self._connect()
        self._checker: DuckDBStore | None = None
        try:
            self._check_is_cpfr_store(mode)
            version = self.schema_version()
            if version > LATEST_VERSION:
                raise MigrationError(
                    f"{self.location}: schema version {version} is newer than this cpfr knows "
                    f"({LATEST_VERSION}); upgrade cpfr"
                )
            if migrate and version < LATEST_VERSION:
                if self.read_only:
                    raise ReadOnlyStoreError(
                        f"{self.location}: the store is at schema version {version} and this cpfr needs "
                        f"{LATEST_VERSION}; open it once with write access (cpfr db migrate) to upgrade it"
                    )
                self.migrate()
        except BaseException:
            self._con.close()
            raise

    def _connect(self) -> psycopg.Connection:
        try:
            con = psycopg.connect(self._url, autocommit=True)
        except psycopg.Error as error:
            raise StoreError(f"{self.location}: cannot connect ({first_line(error)})") from None
        # Dates and doubles in the text COPY carries them as, whatever the server's defaults;
        # lock_timeout 0 would mean "wait forever", so no wait is one millisecond.
        settings = {
            "datestyle": "ISO",
            "extra_float_digits": "1",
            "lock_timeout": f"{max(1, round(self._wait_seconds * 1000))}ms",
            "default_transaction_read_only": "on" if self.read_only else "off",
            PARTNER_SETTING: self.partner_id or "",
        }
        for name, value in settings.items():
            con.execute("SELECT set_config(%s, %s, false)", [name, value])
        return con

    def _check_is_cpfr_store(self, mode: StoreMode) -> None:
        """Refuse another application's database instead of adding cpfr's tables to it."""
        rows = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        names = {str(row[0]) for row in rows}
        if "schema_migrations" in names:
            return
        if names:
            shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
            raise NotAStoreError(f"{self.location}: not a cpfr store (a database with other tables: {shown})")
        if mode != "create":
            raise NotAStoreError(f"{self.location}: an empty PostgreSQL database, not a cpfr store")

    # -- schema ---------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the schema version applied to the store (0 for an empty store)."""
        exists = self._con.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = self._con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to ``target`` (default: latest); return the versions applied.

        Each migration also (re)creates the partner policy of every table that has a
        ``partner_id`` at its version, so tables added later are protected too.
        """
        goal = LATEST_VERSION if target is None else target
        applied: list[int] = []
        current = self.schema_version()
        for migration in MIGRATIONS:
            if current < migration.version <= goal:
                self._apply(migration)
                applied.append(migration.version)
        return applied

    def _apply(self, migration: Migration) -> None:
        self._require_writable()
        with self._transaction(f"migration {migration.version}"):
            for statement in migration_statements(migration):
                self._con.execute(statement)
            self._con.execute(
                "INSERT INTO schema_migrations VALUES (%s, %s, now()::timestamp)",
                [migration.version, migration.description],
            )

    # -- ingestion ------------------------------------------------------------

    def ingest(self, source: SourceFile, table: str, *, dry_run: bool = False) -> IngestResult:
        """Validate ``source`` against ``table`` and upsert it in one transaction.

        The checks are the DuckDB backend's (see the module docstring). A dry run
        runs in a transaction rolled back at its end; it needs a writable store,
        because the copies of stored rows go through scratch tables.

        Raises
        ------
        ValidationError
            Listing every problem found (at most 50 shown, all counted); nothing is written.
        AccessError
            ``table`` is one cpfr writes itself.
        """
        spec = schema.user_table(table)
        self._require_writable()
        with self._transaction("the ingest", rollback=dry_run):
            return self._load(source, spec, write=not dry_run)

    def write_rows(self, frame: pd.DataFrame, table: str) -> IngestResult:
        """Validate cpfr's own rows and write them in one transaction (the way into protected tables)."""
        return self.write_tables({table: frame})[0]

    def write_tables(self, frames: Mapping[str, pd.DataFrame]) -> list[IngestResult]:
        """Validate and write several tables of cpfr's own rows in ONE transaction: all of them or none."""
        self._require_writable()
        with self._transaction("the write"):
            return [
                self._load(frame_source(frame, f"<{name} written by cpfr>"), any_table(name), write=True)
                for name, frame in frames.items()
            ]

    def _load(self, source: SourceFile, spec: schema.Table, *, write: bool) -> IngestResult:
        """Validate ``source`` on the checker; with ``write``, upsert it (in the caller's transaction)."""
        started = perf_counter()
        if write:
            # Conflicts with other writers of the table (they wait), not with readers.
            self._con.execute(
                sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(spec.name))
            )
        checker = self._checker_store()
        mirrored: list[str] = []
        try:
            with checker.checked(source, spec, stored=lambda plan: self._mirror(plan, mirrored)) as (
                plan,
                replaced,
            ):
                if write:
                    replaced = self._write(plan)
        finally:
            for name in mirrored:
                checker.connection.execute(f"DELETE FROM {ident(name)}")
        return IngestResult(
            spec.name,
            source.label,
            source.num_rows,
            source.num_rows - replaced,
            replaced,
            not write,
            perf_counter() - started,
        )

    def _checker_store(self) -> DuckDBStore:
        if self._checker is None:
            self._checker = DuckDBStore(":memory:", mode="create")
        return self._checker

    def _mirror(self, plan: IngestPlan, mirrored: list[str]) -> bool:
        """Copy to the checker the stored rows the checks read; return whether the target holds rows."""
        spec = plan.table
        for name in sorted(_referenced_tables(spec)):
            self._copy_to_checker(name, f"SELECT * FROM {ident(name)}", [])
            mirrored.append(name)
        target = sql.Identifier(spec.name)
        row = self._con.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(target)).fetchone()
        stored = bool(row and row[0])
        if not stored or spec.name in mirrored or not all(key in plan.present for key in spec.key):
            return stored
        keys = ", ".join(ident(key) for key in spec.key)
        not_null = " AND ".join(f"{ident(key)} IS NOT NULL" for key in spec.key)
        file_keys = (
            self._checker_store()
            .connection.sql(f"SELECT DISTINCT {keys} FROM ({plan.typed_select()}) WHERE {not_null}")
            .to_arrow_table()
        )
        key_list = sql.SQL(", ").join(sql.Identifier(key) for key in spec.key)
        self._con.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                sql.Identifier(_KEYS), key_list, target
            )
        )
        write_arrow(self._con, _KEYS, spec.key, file_keys.to_batches(COPY_BATCH_ROWS))
        self._con.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(_KEYS)))
        self._copy_to_checker(
            spec.name, f"SELECT s.* FROM {ident(spec.name)} s JOIN {ident(_KEYS)} k USING ({keys})", []
        )
        mirrored.append(spec.name)
        self._con.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(_KEYS)))
        return stored

    def _copy_to_checker(self, table: str, query: str, params: Sequence[object]) -> None:
        rows = read_arrow(self._con, query, params, column_types(schema.table(table)))
        con = self._checker_store().connection
        columns = ", ".join(ident(name) for name in rows.column_names)
        con.register("__cpfr_rows", rows)
        try:
            con.execute(f"INSERT INTO {ident(table)} ({columns}) SELECT {columns} FROM __cpfr_rows")
        finally:
            con.unregister("__cpfr_rows")

    def _write(self, plan: IngestPlan) -> int:
        """Upsert the checked rows (in the caller's transaction); return the stored rows they replaced."""
        spec = plan.table
        names = [column.name for column in spec.columns]
        target, load = sql.Identifier(spec.name), sql.Identifier(_LOAD)
        replaced = 0
        # COPY cannot write into a table under row-level security: the rows go to a scratch
        # table first, and from there into the table by one INSERT that the policy checks.
        self._con.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT * FROM {} WITH NO DATA").format(
                load, target
            )
        )
        checker = self._checker_store().connection
        with checker.sql(plan.rows_select()).to_arrow_reader(COPY_BATCH_ROWS) as rows:
            write_arrow(self._con, _LOAD, names, rows)
        if plan.merge:
            match = sql.SQL(" AND ").join(
                sql.SQL("s.{key} = t.{key}").format(key=sql.Identifier(key)) for key in spec.key
            )
            deleted = self._con.execute(
                sql.SQL("DELETE FROM {} s USING {} t WHERE {}").format(target, load, match)
            )
            replaced = deleted.rowcount
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in names)
        self._con.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, columns, columns, load)
        )
        self._con.execute(sql.SQL("DROP TABLE {}").format(load))
        # Fresh statistics at once, not at autovacuum's next round: a plan made on an empty
        # table's estimates runs nested loops over the whole sales history.
        self._con.execute(sql.SQL("ANALYZE {}").format(target))
        self._con.execute(
            "INSERT INTO ingest_log (ingest_id, table_name, file, sha256, rows, ingested_at, partner_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, NULL)",
            [
                str(uuid.uuid4()),
                spec.name,
                plan.source.label,
                plan.source.sha256(),
                plan.source.num_rows,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ],
        )
        return replaced

    def _require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.location}: the store is open read-only; nothing was written")

    @contextlib.contextmanager
    def _transaction(self, what: str, *, rollback: bool = False) -> Iterator[None]:
        """Run the block in one transaction (rolled back at its end with ``rollback``); name server errors."""
        try:
            with self._con.transaction(force_rollback=rollback):
                yield
        except pg_errors.LockNotAvailable:
            raise StoreBusyError(
                f"{self.location}: another process is writing the same table; waited "
                f"{self._wait_seconds:g} s and nothing was written (try again, or raise --wait)"
            ) from None
        except pg_errors.ReadOnlySqlTransaction as error:
            raise ReadOnlyStoreError(f"{self.location}: {first_line(error)}; nothing was written") from None
        except psycopg.Error as error:
            raise StoreError(
                f"{self.location}: {what} failed and nothing was written ({first_line(error)})"
            ) from error

    # -- reads ----------------------------------------------------------------

    def table_info(self) -> list[TableInfo]:
        """Return row counts and per-partner date ranges of every table."""
        return collect_table_info(lambda sql: self._con.execute(sql).fetchall())

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

        ``where`` keeps the rows whose columns equal the values given (a list: any of them);
        ``start``/``end`` bound the date column; ``limit``/``offset`` page.
        """
        spec = any_table(table)
        query, params = select_table(spec, partner_id, where, start, end, placeholder="%s")
        if limit is not None:
            query += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return to_frame(read_arrow(self._con, query, params, column_types(spec)))

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
        query, params = select_table(
            any_table(table), partner_id, where, start, end, ordered=False, placeholder="%s"
        )
        row = self._con.execute(f"SELECT count(*) FROM ({query}) AS matched", params).fetchone()
        return int(row[0]) if row else 0

    def date_range(self, table: str) -> tuple[dt.date | None, dt.date | None]:
        """Return the first and last day of ``table``'s date column (None, None when it is empty)."""
        spec = any_table(table)
        if spec.date_column is None:
            raise InputError(f"table {table!r} has no date column")
        column = sql.Identifier(spec.date_column)
        row = self._con.execute(
            sql.SQL("SELECT min({}), max({}) FROM {}").format(column, column, sql.Identifier(spec.name))
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def export(
        self, table: str, output: Path, *, partner_id: str | None = None, spreadsheet_safe: bool = True
    ) -> int:
        """Write ``table`` to ``output`` (Parquet, or CSV by extension); return rows written.

        The rows are written by DuckDB's writers, as the DuckDB backend writes
        them (see :func:`cpfr.data.store.export.write_export`): atomically, and
        with ``spreadsheet_safe`` a CSV text cell that starts like a formula
        gets a leading apostrophe.
        """
        spec = any_table(table)
        if output.suffix.lower() not in (".parquet", ".csv"):
            raise InputError(
                f"{output}: unknown file type {output.suffix.lower()!r} — expected .parquet or .csv"
            )
        query, params = select_table(spec, partner_id, placeholder="%s")
        rows = read_arrow(self._con, query, params, column_types(spec))
        con = self._checker_store().connection
        con.register("__cpfr_export", rows)
        try:
            write_export(
                con, "SELECT * FROM __cpfr_export", [], spec, output, spreadsheet_safe=spreadsheet_safe
            )
        finally:
            con.unregister("__cpfr_export")
        return rows.num_rows

    def sales_cube(
        self,
        by: Sequence[str],
        *,
        partner_id: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pd.DataFrame:
        """Return units and GMV (yuan, paid price x units) of sales grouped by ``by``."""
        unknown = [name for name in by if name not in CUBE_DIMENSIONS]
        if unknown:
            raise InputError(
                f"unknown dimension {unknown[0]!r}; expected one of {', '.join(CUBE_DIMENSIONS)}"
            )
        select = [f"{_CUBE_SQL[name]} AS {ident(name)}" for name in by]
        where: list[str] = ["TRUE"]
        params: list[object] = []
        for condition, value in (
            ("s.partner_id = %s", partner_id),
            ("s.date >= %s", start),
            ("s.date <= %s", end),
        ):
            if value is not None:
                where.append(condition)
                params.append(value)
        group = ", ".join(str(position) for position in range(1, len(by) + 1))
        query = (
            "WITH RECURSIVE tops(category_id, top_id) AS ("
            " SELECT category_id, category_id FROM categories WHERE parent_id IS NULL"
            " UNION ALL SELECT c.category_id, t.top_id"
            " FROM categories c JOIN tops t ON c.parent_id = t.category_id)"
            f" SELECT {', '.join([*select, ''])}"
            " sum(s.units)::bigint AS units,"
            " sum(s.units * coalesce(s.paid_price, s.list_price, p.list_price)) AS gmv_yuan"
            " FROM sales s JOIN products p ON p.sku_id = s.sku_id"
            " LEFT JOIN tops ON tops.category_id = p.category_id"
            " JOIN locations l ON l.location_id = s.location_id"
            " JOIN channels ch ON ch.channel_id = l.channel_id"
            f" WHERE {' AND '.join(where)}" + (f" GROUP BY {group} ORDER BY {group}" if by else "")
        )
        return to_frame(read_arrow(self._con, query, params, _CUBE_TYPES))

    def content_digest(self) -> dict[str, str]:
        """Return a digest of each table's content (schema and rows), independent of row order.

        The rows' part is their count and the sum of a 64-bit hash (from md5) of each row's text.
        """
        columns = self._con.execute(
            "SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = current_schema() GROUP BY table_name"
        ).fetchall()
        shapes = {str(row[0]): row[1] for row in columns}
        row_hash = "('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric"
        sums = " UNION ALL ".join(
            f"SELECT {literal(spec.name)}, count(*), coalesce(sum({row_hash}), 0) FROM {ident(spec.name)} t"
            for spec in schema.TABLES
        )
        rows = {str(row[0]): row[1:] for row in self._con.execute(sums).fetchall()}
        return {
            spec.name: f"{shapes.get(spec.name)}|({rows[spec.name][0]}, {rows[spec.name][1]})"
            for spec in schema.TABLES
        }

    def session(self, partner_id: str | None = None) -> PostgresStore:
        """Return a handle on its own connection; with ``partner_id``, bound to that partner.

        The connection runs ``set_config('cpfr.partner_id', partner_id, false)``, so the
        server's row-level security shows and accepts only the partner's rows and the
        platform-shared ones, whatever SQL runs on it.
        """
        return PostgresStore(
            self._url,
            mode="read" if self.read_only else "write",
            wait_seconds=self._wait_seconds,
            migrate=False,
            partner_id=partner_id,
        )

    def close(self) -> None:
        """Close the connection (and the checker's in-memory DuckDB)."""
        self._con.close()
        if self._checker is not None:
            self._checker.close()
            self._checker = None


def _referenced_tables(spec: schema.Table) -> set[str]:
    """Tables whose rows the checks of ``spec`` read: references, the owner and the term."""
    names = {column.references.table for column in spec.columns if column.references is not None}
    if spec.partner_from is not None:
        names.add(spec.partner_from[1])
    if spec.within is not None:
        names.add(spec.within[1])
    if "sites" in names:  # a view over two tables
        names = (names - {"sites"}) | {"locations", "warehouses"}
    return names
