"""The DuckDB backend: the one module that owns cpfr's SQL for an embedded store.

Design choices, and why:

- Tables carry no PRIMARY KEY constraint. DuckDB keeps a primary key as an
  in-memory ART index, which costs several times the data's size on a 10 M-row
  sales file and slows bulk inserts; uniqueness is kept instead by the
  ingester (duplicates inside a file are rejected; rows with a stored key are
  deleted before the insert, in the same transaction).
- Validation runs as SQL over a view of the file (Parquet is streamed from
  disk), so a large file is never materialised in Python.
- Each ingest is one transaction: DuckDB writes it to its write-ahead log on
  COMMIT only, so a process killed mid-ingest leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from time import perf_counter

import duckdb
import pandas as pd

from cpfr.data import schema
from cpfr.data.migrations import LATEST_VERSION, MIGRATIONS, Migration
from cpfr.data.sources import ROW_COLUMN, SourceFile, frame_source, literal_path
from cpfr.data.store.base import CUBE_DIMENSIONS, IngestResult, Store, TableInfo, collect_table_info
from cpfr.data.store.duckdb_connect import DEFAULT_WAIT_SECONDS, StoreMode, connect
from cpfr.data.store.export import write_export
from cpfr.data.store.plan import IngestPlan, date_window
from cpfr.data.store.sql import (
    SQL_TYPES,
    VIEWS,
    any_table,
    default_sql,
    first_line,
    ident,
    literal,
    select_table,
)
from cpfr.exceptions import (
    CpfrError,
    InputError,
    MigrationError,
    NotAStoreError,
    Problem,
    ReadOnlyStoreError,
    StoreError,
    ValidationError,
)

MAX_PROBLEMS = 50

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
    "year": "year(s.date)",
    "month": "CAST(date_trunc('month', s.date) AS DATE)",
    "week": "CAST(date_trunc('week', s.date) AS DATE)",
    "date": "s.date",
}


class DuckDBStore(Store):
    """A cpfr store in a DuckDB file (the embedded default).

    Parameters
    ----------
    path : str
        Database file; ``:memory:`` for a throwaway store.
    mode : {'write', 'read', 'create'}
        ``write`` (default): the file must be a cpfr store; ``read``: the same,
        opened read-only so that other readers can share it (writes raise
        :class:`~cpfr.exceptions.ReadOnlyStoreError`); ``create``: a missing file
        becomes a new store.
    wait_seconds : float
        How long to wait for another process's lock before
        :class:`~cpfr.exceptions.StoreBusyError`.
    migrate : bool
        Apply pending migrations on open (default). With False, an older
        store can be opened as it is, e.g. to test migrations.

    Raises
    ------
    StoreNotFoundError, NotAStoreError, StoreBusyError, ReadOnlyStoreError, MigrationError
        As their names say; see :mod:`cpfr.data.store.duckdb_connect`.
    """

    def __init__(
        self,
        path: str,
        *,
        mode: StoreMode = "write",
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        migrate: bool = True,
    ) -> None:
        self.location = path
        self._con, self.read_only = connect(path, mode, wait_seconds)
        try:
            self._check_is_cpfr_store(mode)
            version = self.schema_version()
            if version > LATEST_VERSION:
                raise MigrationError(
                    f"{path}: schema version {version} is newer than this cpfr knows ({LATEST_VERSION});"
                    " upgrade cpfr"
                )
            if migrate and version < LATEST_VERSION:
                if self.read_only:
                    raise ReadOnlyStoreError(
                        f"{path}: the store is at schema version {version} and this cpfr needs "
                        f"{LATEST_VERSION}; open it once with write access (cpfr db migrate) to upgrade it"
                    )
                self.migrate()
        except BaseException:
            self._con.close()
            raise

    def _check_is_cpfr_store(self, mode: StoreMode) -> None:
        """Refuse another application's DuckDB file instead of adding cpfr's tables to it."""
        names = {
            str(row[0])
            for row in self._con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "schema_migrations" in names:
            return
        if names:
            shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
            raise NotAStoreError(
                f"{self.location}: not a cpfr store (a DuckDB database with other tables: {shown})"
            )
        if mode != "create" and self.location != ":memory:":
            raise NotAStoreError(f"{self.location}: an empty DuckDB database, not a cpfr store")

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection: the PostgreSQL backend validates files through an in-memory DuckDB store."""
        return self._con

    # -- schema ---------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the schema version applied to the store (0 for an empty store)."""
        # Results are read with fetchall(), never fetchone(): DuckDB 2 keeps a
        # half-read result open and refuses the connection's next statement.
        exists = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchall()[0]
        if not exists or not exists[0]:
            return 0
        row = self._con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0]
        return int(row[0]) if row else 0

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to ``target`` (default: latest); return the versions applied."""
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
        con = self._con
        with self._transaction(f"migration {migration.version}"):
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER NOT NULL, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            for name in migration.create_tables:
                con.execute(_create_table_sql(schema.table(name), migration.version))
            for table_name, column_name in migration.add_columns:
                column = schema.table(table_name).column(column_name)
                default = f" DEFAULT {default_sql(column)}" if column.default is not None else ""
                con.execute(
                    f"ALTER TABLE {ident(table_name)} ADD COLUMN {ident(column.name)} "
                    f"{SQL_TYPES[column.type]}{default}"
                )
            for table_name, old_name, new_name in migration.rename_columns:
                con.execute(
                    f"ALTER TABLE {ident(table_name)} RENAME COLUMN {ident(old_name)} TO {ident(new_name)}"
                )
            for view in migration.create_views:
                con.execute(VIEWS[view])
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.description],
            )

    # -- ingestion ------------------------------------------------------------

    def ingest(self, source: SourceFile, table: str, *, dry_run: bool = False) -> IngestResult:
        """Validate ``source`` against ``table`` and upsert it in one transaction.

        A column the file lacks keeps its stored value in the rows the file
        updates (see :class:`~cpfr.data.store.plan.IngestPlan`).

        Raises
        ------
        ValidationError
            Listing every problem found (at most 50 shown, all counted);
            nothing is written.
        AccessError
            ``table`` is one cpfr writes itself (derived results, audit trails).
        """
        return self._ingest(source, schema.user_table(table), dry_run=dry_run)

    def write_rows(self, frame: pd.DataFrame, table: str) -> IngestResult:
        """Validate cpfr's own rows (forecasts, runs, the override trail) and write them in one transaction.

        The same checks as a user's file; the only way into the protected tables.
        """
        return self.write_tables({table: frame})[0]

    def write_tables(self, frames: Mapping[str, pd.DataFrame]) -> list[IngestResult]:
        """Validate and write several tables of cpfr's own rows in ONE transaction: all of them or none.

        Tables are written in the order given, so a row may reference one written before it.
        """
        self._require_writable()
        with self._transaction("the write"):
            return [
                self._load(frame_source(frame, f"<{name} written by cpfr>"), any_table(name), write=True)
                for name, frame in frames.items()
            ]

    def _ingest(self, source: SourceFile, spec: schema.Table, *, dry_run: bool) -> IngestResult:
        if dry_run:
            return self._load(source, spec, write=False)
        self._require_writable()
        with self._transaction("the ingest"):
            return self._load(source, spec, write=True)

    def _load(self, source: SourceFile, spec: schema.Table, *, write: bool) -> IngestResult:
        """Validate ``source`` against ``spec``; with ``write``, upsert it (in the caller's transaction)."""
        started = perf_counter()
        with self.checked(source, spec) as (plan, replaced):
            if write:
                replaced = self._write(plan, replace=plan.merge)
        return IngestResult(
            spec.name,
            source.label,
            source.num_rows,
            source.num_rows - replaced,
            replaced,
            not write,
            perf_counter() - started,
        )

    @contextlib.contextmanager
    def checked(
        self,
        source: SourceFile,
        spec: schema.Table,
        stored: Callable[[IngestPlan], bool] | None = None,
    ) -> Iterator[tuple[IngestPlan, int]]:
        """Validate ``source`` against ``spec``; yield the plan and the count of stored rows it replaces.

        While the block runs, the scratch view ``__typed`` holds the file's typed rows.

        Parameters
        ----------
        source : SourceFile
            The file.
        spec : Table
            The target table.
        stored : callable, optional
            Tells whether the target holds rows, given a plan without merge (whose
            ``typed_select`` gives the file's keys): another backend fills this
            store's tables with the stored rows the checks need. By default the
            target table of this store is asked.

        Raises
        ------
        ValidationError
            Listing the problems found; the block does not run.
        """
        with self._registered(source):
            try:
                types = self._source_types()
                if stored is None:
                    # An empty table has nothing to replace: skip a join of the whole file.
                    exists = f"SELECT EXISTS (SELECT 1 FROM {ident(spec.name)})"
                    has_rows = bool(self._con.execute(exists).fetchall()[0][0])
                else:
                    has_rows = stored(IngestPlan(spec, source, types))
                plan = IngestPlan(spec, source, types, merge=has_rows)
                self._validate(plan)
                replaced = self._count_replaced(spec) if has_rows else 0
            except duckdb.Error as error:
                raise _unreadable(source, error) from None
            yield plan, replaced

    def _require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.location}: the store is open read-only; nothing was written")

    @contextlib.contextmanager
    def _registered(self, source: SourceFile) -> Iterator[None]:
        """Expose the file to SQL as the view ``__src`` (and drop what ingesting it made)."""
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(self._drop_scratch, source)
            if source.arrow is not None:
                self._con.register("__src_arrow", source.arrow)
                self._con.execute("CREATE OR REPLACE TEMP VIEW __src AS SELECT * FROM __src_arrow")
            else:
                # DuckDB reads a path as a glob pattern: '*' or '?' in a file's name would pull in
                # its neighbours. A link with a plain name in a private folder is read instead.
                assert source.path is not None
                path = cleanup.enter_context(literal_path(source.path))
                try:
                    self._con.execute(
                        f"CREATE OR REPLACE TEMP VIEW __src AS SELECT * EXCLUDE (file_row_number), "
                        f"file_row_number + 1 AS {ROW_COLUMN} "
                        f"FROM read_parquet({literal(path)}, file_row_number = true)"
                    )
                except duckdb.Error as error:
                    raise _unreadable(source, error) from None
            yield

    def _drop_scratch(self, source: SourceFile) -> None:
        # Only statements that cannot fail: inside a transaction a failed one aborts the whole
        # transaction (and DuckDB's COMMIT of an aborted transaction rolls back without a word).
        # When the transaction is aborted already (a file that could not be read), nothing can
        # run; the rollback that follows removes the scratch views and tables with it.
        try:
            kinds = self._con.execute(
                "SELECT table_name, table_type FROM information_schema.tables"
                " WHERE table_name IN ('__typed', '__src') AND table_catalog = 'temp'"
            ).fetchall()
            for name, kind in kinds:
                self._con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {ident(str(name))}")
        except duckdb.TransactionException:
            pass
        if source.arrow is not None:
            self._con.unregister("__src_arrow")

    def _source_types(self) -> dict[str, str]:
        rows = self._con.execute("DESCRIBE __src").fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    def _validate(self, plan: IngestPlan) -> None:
        if plan.needs_merge:
            # The stored values of the columns the file lacks are read once, before any check,
            # into a scratch table: the write below deletes the rows they come from.
            self._con.execute(f"CREATE OR REPLACE TEMP TABLE __typed AS {plan.merged_select()}")
        else:
            self._con.execute(f"CREATE OR REPLACE TEMP VIEW __typed AS {plan.typed_select()}")
        problems = list(plan.header_problems)
        total = len(problems)
        # One query per kind of check, one after another: a UNION ALL would
        # run them at once and hold all their hash tables in memory together.
        for query in plan.problem_queries():
            rows = self._con.execute(
                f"SELECT row_number, column_name, bad_value, expected, count(*) OVER () FROM ({query}) "
                f"AS problems(row_number, column_name, bad_value, expected) "
                f"ORDER BY row_number, column_name LIMIT {MAX_PROBLEMS}"
            ).fetchall()
            if rows:
                total += int(rows[0][4])
            label = plan.source.label
            problems += [Problem(label, int(row[0]), str(row[1]), row[2], str(row[3])) for row in rows]
        if problems:
            problems.sort(key=lambda problem: (problem.row, problem.column))
            raise ValidationError(problems[:MAX_PROBLEMS], total)

    def _count_replaced(self, spec: schema.Table) -> int:
        match = " AND ".join(f"s.{ident(key)} = t.{ident(key)}" for key in spec.key)
        row = self._con.execute(
            f"SELECT count(*) FROM __typed t SEMI JOIN {ident(spec.name)} s"
            f" ON {match}{date_window(spec, 's')}"
        ).fetchall()[0]
        return int(row[0]) if row else 0

    def _write(self, plan: IngestPlan, *, replace: bool = True) -> int:
        """Upsert the file (inside the caller's transaction); return how many stored rows it replaced."""
        spec = plan.table
        target = ident(spec.name)
        match = " AND ".join(f"{target}.{ident(key)} = t.{ident(key)}" for key in spec.key)
        replaced = 0
        if replace:
            replaced = self._con.execute(
                f"DELETE FROM {target} USING __typed t WHERE {match}{date_window(spec, target)}"
            ).fetchall()[0][0]
        self._con.execute(plan.insert_sql())
        self._con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                str(uuid.uuid4()),
                spec.name,
                plan.source.label,
                plan.source.sha256(),
                plan.source.num_rows,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                None,
            ],
        )
        return int(replaced)

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[None]:
        """Run the block in one transaction; a failure rolls it back and is reported as itself.

        A ROLLBACK that fails too (a full disk, a lost file) is added to the
        original error as a note, never raised in its place.
        """
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            # DuckDB commits an aborted transaction as a silent rollback: ask first whether it
            # still stands (a statement on an aborted transaction raises), so a lost write is an error.
            con.execute("SELECT 1").fetchall()
            con.execute("COMMIT")
        except BaseException as error:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error as rollback_error:
                error.add_note(f"the rollback failed too: {first_line(rollback_error)}")
            if isinstance(error, duckdb.Error):
                raise StoreError(
                    f"{self.location}: {what} failed and nothing was written ({first_line(error)})"
                ) from error
            raise

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
        sql, params = select_table(any_table(table), partner_id, where, start, end)
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return self._con.execute(sql, params).df()

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
        sql, params = select_table(any_table(table), partner_id, where, start, end, ordered=False)
        return int(self._con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0])

    def date_range(self, table: str) -> tuple[dt.date | None, dt.date | None]:
        """Return the first and last day of ``table``'s date column (None, None when it is empty)."""
        spec = any_table(table)
        if spec.date_column is None:
            raise InputError(f"table {table!r} has no date column")
        column = ident(spec.date_column)
        row = self._con.execute(f"SELECT min({column}), max({column}) FROM {ident(spec.name)}").fetchall()[0]
        return row[0], row[1]

    def export(
        self, table: str, output: Path, *, partner_id: str | None = None, spreadsheet_safe: bool = True
    ) -> int:
        """Write ``table`` to ``output`` (Parquet, or CSV by extension); return rows written.

        The file is written beside ``output`` and renamed over it, so a failed
        export never leaves a half-written file. With ``spreadsheet_safe``, a CSV
        text cell that starts like a formula gets a leading apostrophe.
        """
        spec = any_table(table)
        sql, params = select_table(spec, partner_id)
        write_export(self._con, sql, params, spec, output, spreadsheet_safe=spreadsheet_safe)
        count_sql = f"SELECT count(*) FROM ({sql})"
        row = self._con.execute(count_sql, params).fetchall()[0]
        return int(row[0]) if row else 0

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
        if partner_id is not None:
            where.append("s.partner_id = ?")
            params.append(partner_id)
        if start is not None:
            where.append("s.date >= ?")
            params.append(start)
        if end is not None:
            where.append("s.date <= ?")
            params.append(end)
        group = ", ".join(str(position) for position in range(1, len(by) + 1))
        sql = (
            "WITH RECURSIVE tops(category_id, top_id) AS ("
            " SELECT category_id, category_id FROM categories WHERE parent_id IS NULL"
            " UNION ALL SELECT c.category_id, t.top_id"
            " FROM categories c JOIN tops t ON c.parent_id = t.category_id)"
            f" SELECT {', '.join([*select, ''])}"
            " sum(s.units)::BIGINT AS units,"
            " sum(s.units * coalesce(s.paid_price, s.list_price, p.list_price)) AS gmv_yuan"
            " FROM sales s JOIN products p ON p.sku_id = s.sku_id"
            " LEFT JOIN tops ON tops.category_id = p.category_id"
            " JOIN locations l ON l.location_id = s.location_id"
            " JOIN channels ch ON ch.channel_id = l.channel_id"
            f" WHERE {' AND '.join(where)}" + (f" GROUP BY {group} ORDER BY {group}" if by else "")
        )
        return self._con.execute(sql, params).df()

    def content_digest(self) -> dict[str, str]:
        """Return a digest of each table's content (schema and rows), independent of row order."""
        # One query for every table: the digest is taken around every ingest the fuzz campaign runs.
        columns = self._con.execute(
            "SELECT table_name, list(column_name || ' ' || data_type ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = 'main' GROUP BY table_name"
        ).fetchall()
        shapes = {str(row[0]): row[1] for row in columns}
        sums = " UNION ALL ".join(
            f"SELECT {literal(spec.name)}, count(*), coalesce(sum(hash(t)::HUGEINT), 0),"
            f" coalesce(sum(hash(t) % 1000003), 0) FROM {ident(spec.name)} t"
            for spec in schema.TABLES
        )
        rows = {str(row[0]): row[1:] for row in self._con.execute(sums).fetchall()}
        return {spec.name: f"{shapes.get(spec.name)}|{rows[spec.name]}" for spec in schema.TABLES}

    def session(self, partner_id: str | None = None) -> DuckDBStore:
        """Return a handle on a new connection to the same database (DuckDB's cursor), for one thread.

        DuckDB runs queries of different connections of one process side by side and
        serialises conflicting writes itself; ``partner_id`` is enforced above, by
        :func:`cpfr.data.store.scoped.scoped` (DuckDB has no row-level security).
        """
        handle = object.__new__(DuckDBStore)
        handle.location = self.location
        handle.read_only = self.read_only
        handle._con = self._con.cursor()
        return handle

    def close(self) -> None:
        """Close the connection."""
        self._con.close()


def _unreadable(source: SourceFile, error: duckdb.Error) -> CpfrError:
    """Say whose fault an engine error while reading a file is: the file's (a corrupt page) or the disk's."""
    text = first_line(error)
    if source.path is None or "No space left" in text or isinstance(error, duckdb.OutOfMemoryException):
        return StoreError(f"cannot validate {source.label}: {text}")
    return ValidationError([Problem(source.label, 0, "", None, f"a readable {source.format} file ({text})")])


def _create_table_sql(spec: schema.Table, version: int) -> str:
    columns = []
    for column in spec.columns_at(version):
        not_null = " NOT NULL" if column.key or column.required else ""
        default = f" DEFAULT {default_sql(column)}" if column.default is not None else ""
        columns.append(f"{ident(column.name)} {SQL_TYPES[column.type]}{not_null}{default}")
    return f"CREATE TABLE {ident(spec.name)} ({', '.join(columns)})"
