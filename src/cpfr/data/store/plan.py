"""The ingest plan: the SQL that types, validates and inserts one file into one table.

Every rule of the schema becomes a query over the file's view ``__src``
(``__typed`` once cast); :class:`cpfr.data.store.duckdb_store.DuckDBStore`
runs them and reports what they find.
"""

from __future__ import annotations

import re

from cpfr.data import schema
from cpfr.data.sources import ROW_COLUMN, SourceFile
from cpfr.data.store.sql import SQL_TYPES, default_sql, ident, is_integer_type, literal
from cpfr.exceptions import Problem

# pandas writes its index into Parquet as a column of this name: metadata, not data, so it is ignored.
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
# C0 and C1 control characters (tab, newline, NUL, escape, ...): never part of a name or a reason,
# and they break CSV exports, terminals and spreadsheets.
_CONTROL_CHARACTERS = r"[\x00-\x1F\x7F-\x9F]"


class IngestPlan:
    """The SQL that checks one file against one table and writes it.

    Typed values come from casting the file's columns; a value that is
    present but does not cast is a type problem, reported with its text.

    Upsert semantics: a row whose key is stored replaces the stored row, but a
    column the file does not have keeps its stored value (``merge``); an empty
    cell in a column the file has clears the value. A new row gets the column's
    default (or no value) for what the file leaves out.

    Parameters
    ----------
    table : Table
        The target table.
    source : SourceFile
        The file.
    source_types : dict
        The engine's type of each of the file's columns.
    merge : bool
        The table already holds rows, so rows of the file may update stored ones.
    """

    def __init__(
        self, table: schema.Table, source: SourceFile, source_types: dict[str, str], *, merge: bool = False
    ) -> None:
        self.table = table
        self.source = source
        self.source_types = source_types
        self.merge = merge
        label, header_row = source.label, source.header_row
        names = {column.name for column in table.columns}
        present = [name for name in source.columns if name in names]
        self.present = set(present)
        self.header_problems: list[Problem] = []
        for name in source.columns:
            if name not in names and not _PANDAS_INDEX.fullmatch(name):
                self.header_problems.append(
                    Problem(
                        label, header_row, name, name, f"a column of {table.name}: {', '.join(sorted(names))}"
                    )
                )
        for column in table.columns:
            if column.required and column.name not in self.present:
                if column.name == "partner_id" and table.partner_from is not None:
                    continue  # filled from the SKU's owner
                self.header_problems.append(
                    Problem(
                        label,
                        header_row,
                        column.name,
                        None,
                        f"a column {column.name!r} ({column.expected()})",
                    )
                )

    def _raw(self, name: str) -> str:
        column = ident(name)
        if self.source_types.get(name) == "VARCHAR":
            return f"NULLIF(trim({column}), '')"
        return column

    def _typed(self, column: schema.Column) -> str:
        """Return SQL for the column's value cast to its type, NULL where absent or not castable."""
        if column.name not in self.present:
            return (
                default_sql(column)
                if column.default is not None
                else f"CAST(NULL AS {SQL_TYPES[column.type]})"
            )
        raw, source_type = self._raw(column.name), self.source_types.get(column.name, "VARCHAR")
        if column.type == "int" and not is_integer_type(source_type):
            # DuckDB rounds '3.5' to 4 when casting to an integer; a count that
            # is not whole is an error the planner must see, not a rounding.
            as_double = f"TRY_CAST({raw} AS DOUBLE)"
            return (
                f"(CASE WHEN {as_double} = round({as_double}) AND abs({as_double}) < 9e18 "
                f"THEN CAST({as_double} AS BIGINT) END)"
            )
        if column.type == "float":
            as_double = f"TRY_CAST({raw} AS DOUBLE)"
            return f"(CASE WHEN isfinite({as_double}) THEN {as_double} END)"
        if column.type == "text":
            return f"CAST({raw} AS VARCHAR)"
        return f"TRY_CAST({raw} AS {SQL_TYPES[column.type]})"

    def typed_select(self) -> str:
        """SELECT of the file with every table column typed, plus the row number.

        Columns the file lacks hold their default here; :meth:`merged_select`
        fills them from the stored row where the key is stored.
        """
        columns = [f"{self._typed(column)} AS {ident(column.name)}" for column in self.table.columns]
        return f"SELECT {ROW_COLUMN}, {', '.join(columns)} FROM __src"

    @property
    def absent(self) -> list[str]:
        """Non-key columns of the table that the file does not have."""
        return [column.name for column in self.table.columns if column.name not in self.present]

    @property
    def needs_merge(self) -> bool:
        """True when stored rows may be updated and the file lacks columns whose stored values must stay."""
        return self.merge and bool(self.absent) and all(key in self.present for key in self.table.key)

    def merged_select(self) -> str:
        """SELECT of the typed file where each column the file lacks keeps the stored row's value."""
        keys = self.table.key
        match = " AND ".join(f"s.{ident(key)} = t.{ident(key)}" for key in keys)
        stored = f"s.{ident(keys[0])} IS NOT NULL"
        columns = [
            f"t.{ident(column.name)}"
            if column.name in self.present
            else f"CASE WHEN {stored} THEN s.{ident(column.name)} ELSE t.{ident(column.name)} END"
            for column in self.table.columns
        ]
        select = ", ".join(
            f"{value} AS {ident(column.name)}"
            for value, column in zip(columns, self.table.columns, strict=True)
        )
        return (
            f"SELECT t.{ROW_COLUMN}, {select} FROM ({self.typed_select()}) t "
            f"LEFT JOIN {ident(self.table.name)} s ON {match}"
        )

    def problem_queries(self) -> list[str]:
        """Return SELECTs yielding (row_number, column_name, bad_value, expected), one per kind of check.

        Every check of a single row (type, required, bounds, choices, row
        rules) runs in one pass over the file: a separate query per check
        would read a 10 M-row file a dozen times.
        """
        checks: list[tuple[str, str, str, str]] = []
        for column in self.table.columns:
            if column.name in self.present:
                checks += self._column_checks(column)
        merged_rules = []
        for rule, (first, second) in self.table.checks:
            if first in self.present and second in self.present:
                checks.append(self._rule_check(rule, first, second))
            elif self.needs_merge and (first in self.present or second in self.present):
                merged_rules.append(self._rule_check(rule, first, second, typed=True))
        queries = [self._row_checks_query(checks)] if checks else []
        for condition, name, value, expected in merged_rules:  # the stored half of the pair is in __typed
            queries.append(f"SELECT {ROW_COLUMN}, {name}, {value}, {expected} FROM __typed WHERE {condition}")
        if all(key in self.present for key in self.table.key):
            queries.append(self._duplicate_query())
            if self.table.append_only and self.merge:
                queries.append(self._stored_key_query())
        queries += self._reference_queries()
        return queries

    def _stored_key_query(self) -> str:
        """Rows of an append-only table whose key is stored already: the trail is never rewritten."""
        keys = self.table.key
        match = " AND ".join(f"s.{ident(key)} = t.{ident(key)}" for key in keys)
        shown = " || ', ' || ".join(f"CAST(t.{ident(key)} AS VARCHAR)" for key in keys)
        names = ", ".join(keys)
        expected = f"a new {names}: {self.table.name} is append-only, a stored row never changes"
        return (
            f"SELECT t.{ROW_COLUMN}, {literal(', '.join(keys))}, {shown}, "
            f"{literal(expected)} "
            f"FROM __typed t SEMI JOIN {ident(self.table.name)} s ON {match}"
        )

    @staticmethod
    def _row_checks_query(checks: list[tuple[str, str, str, str]]) -> str:
        found = ", ".join(
            f"CASE WHEN {condition} THEN {{'column_name': {name}, 'bad_value': CAST({value} AS VARCHAR), "
            f"'expected': CAST({expected} AS VARCHAR)}} END"
            for condition, name, value, expected in checks
        )
        any_failing = " OR ".join(f"coalesce({condition}, false)" for condition, _, _, _ in checks)
        return (
            f"SELECT {ROW_COLUMN} AS row_number, problem.column_name, problem.bad_value, problem.expected"
            f" FROM (SELECT {ROW_COLUMN}, unnest(list_filter([{found}], lambda found: found IS NOT NULL))"
            " AS problem "
            f"FROM __src WHERE {any_failing})"
        )

    def _column_checks(self, column: schema.Column) -> list[tuple[str, str, str, str]]:
        """Return a column's checks as (condition, column name, bad value, expected), SQL over ``__src``."""
        name, raw, typed = literal(column.name), self._raw(column.name), self._typed(column)
        text = f"CAST({ident(column.name)} AS VARCHAR)"
        expected = literal(column.expected())
        checks = [(f"{raw} IS NOT NULL AND {typed} IS NULL", name, text, expected)]
        if column.required or column.key:
            checks.append((f"{raw} IS NULL", name, "NULL", literal("a value: " + column.expected())))
        bounds = []
        if column.minimum is not None:
            bounds.append(f"{typed} < {column.minimum!r}")
        if column.maximum is not None:
            bounds.append(f"{typed} > {column.maximum!r}")
        if column.choices:
            bounds.append(f"{typed} NOT IN ({', '.join(literal(c) for c in column.choices)})")
        elif column.is_identifier:
            bounds.append(f"NOT regexp_full_match({typed}, {literal(schema.IDENTIFIER_PATTERN)})")
            bounds.append(f"length({typed}) > {schema.IDENTIFIER_MAX_LENGTH}")
        elif column.type == "text":
            bounds.append(f"regexp_matches({typed}, {literal(_CONTROL_CHARACTERS)})")
            bounds.append(f"length({typed}) > {column.max_length}")
            if column.json_object:
                is_object = f"coalesce(try(json_type(CAST({typed} AS JSON)) = 'OBJECT'), false)"
                bounds.append(f"({typed} IS NOT NULL AND NOT {is_object})")
        if column.type == "date":
            bounds.append(f"NOT isfinite({typed})")
            bounds.append(
                f"{typed} NOT BETWEEN DATE {literal(schema.MIN_DATE)} AND DATE {literal(schema.MAX_DATE)}"
            )
        if bounds:
            checks.append((" OR ".join(bounds), name, text, expected))
        return checks

    def _rule_check(
        self, rule: str, first: str, second: str, *, typed: bool = False
    ) -> tuple[str, str, str, str]:
        """Return a row rule as (condition, column, bad value, expected) in SQL."""
        if typed:
            a, b = ident(first), ident(second)
        else:
            a, b = (self._typed(self.table.column(name)) for name in (first, second))
        if rule == "ordered_dates":
            expected = f"{literal(f'a date on or after {first} (')} || CAST({a} AS VARCHAR) || ')'"
            condition = f"{b} < {a}"
        elif rule == "paid_le_list":
            expected = f"{literal(f'at most {second} (')} || CAST({b} AS VARCHAR) || ')'"
            condition = f"{a} > {b} * (1 + 1e-9)"
        else:
            raise ValueError(f"unknown row rule {rule!r}")
        failing = first if rule == "paid_le_list" else second
        return condition, literal(failing), f"CAST({ident(failing)} AS VARCHAR)", expected

    def _duplicate_query(self) -> str:
        # A window over every row's full key costs seconds and a gigabyte on
        # 10 M rows. Sorting 64-bit key hashes finds the few suspect keys
        # (equal neighbours) in a third of the memory of a hash aggregate;
        # only those rows are then compared by their exact key, so a hash
        # collision never reports a false duplicate.
        keys = [ident(key) for key in self.table.key]
        partition = ", ".join(keys)
        shown = " || ', ' || ".join(f"CAST({key} AS VARCHAR)" for key in keys)
        not_null = " AND ".join(f"{key} IS NOT NULL" for key in keys)
        key_hash = f"hash({partition})"
        suspects = (
            "SELECT key_hash FROM (SELECT key_hash,"
            " key_hash = lag(key_hash) OVER (ORDER BY key_hash) AS repeated"
            f" FROM (SELECT {key_hash} AS key_hash FROM __typed WHERE {not_null})) WHERE repeated"
        )
        return (
            f"SELECT {ROW_COLUMN}, {literal(', '.join(self.table.key))}, {shown}, "
            f"'a unique key; the same key is on row ' || CAST(first_row AS VARCHAR) FROM ("
            f"SELECT *, min({ROW_COLUMN}) OVER (PARTITION BY {partition}) AS first_row FROM __typed "
            f"WHERE {not_null} AND {key_hash} IN ({suspects})) WHERE {ROW_COLUMN} <> first_row"
        )

    def _reference_queries(self) -> list[str]:
        # ANTI JOIN builds its hash table on the small referenced table; a
        # NOT EXISTS subquery made DuckDB build it on the file (6x the memory).
        queries = []
        for column in self.table.columns:
            ref = column.references
            if ref is None or column.name not in self.present:
                continue
            name, ref_column = ident(column.name), ident(ref.column)
            anti = f" ANTI JOIN {ident(ref.table)} r ON r.{ref_column} = t.{name}"
            if ref.table == self.table.name:  # e.g. a parent category defined in the same file
                anti += f" ANTI JOIN __typed f ON f.{ref_column} = t.{name}"
            queries.append(
                f"SELECT t.{ROW_COLUMN}, {literal(column.name)}, t.{name}, "
                f"{literal(f'a {ref.column} that exists in {ref.table}')} "
                f"FROM __typed t{anti} WHERE t.{name} IS NOT NULL"
            )
        queries += self._within_queries()
        owner = self.table.partner_from
        if owner is not None and "partner_id" in self.present and owner[0] in self.present:
            via, ref_table, ref_column = (ident(part) for part in owner)
            queries.append(
                f"SELECT t.{ROW_COLUMN}, 'partner_id', t.partner_id, "
                f"'the partner that owns ' || t.{via} || ' (' || r.partner_id || ')' "
                f"FROM __typed t JOIN {ref_table} r ON r.{ref_column} = t.{via} "
                f"WHERE t.partner_id IS NOT NULL AND t.partner_id <> r.partner_id"
            )
        return queries

    def _within_queries(self) -> list[str]:
        """Rows whose own dates fall outside the term of the row they reference."""
        if self.table.within is None:
            return []
        via, ref_table, ref_key, ref_start, ref_end, first, last = self.table.within
        involved = {via, first, last}
        if not (involved <= self.present or (self.needs_merge and involved & self.present)):
            return []
        term = (
            f"'a date within {ref_table} ' || t.{ident(via)} || ' (' || CAST(r.{ident(ref_start)} AS VARCHAR)"
            f" || ' .. ' || CAST(r.{ident(ref_end)} AS VARCHAR) || ')'"
        )
        join = f"FROM __typed t JOIN {ident(ref_table)} r ON r.{ident(ref_key)} = t.{ident(via)}"
        return [
            f"SELECT t.{ROW_COLUMN}, {literal(first)}, CAST(t.{ident(first)} AS VARCHAR), {term} {join} "
            f"WHERE t.{ident(first)} < r.{ident(ref_start)}",
            f"SELECT t.{ROW_COLUMN}, {literal(last)}, CAST(t.{ident(last)} AS VARCHAR), {term} {join} "
            f"WHERE t.{ident(last)} > r.{ident(ref_end)}",
        ]

    def rows_select(self) -> str:
        """SELECT of the rows to store in column order, filling the owner where the file leaves it out."""
        names = [column.name for column in self.table.columns]
        values = [f"t.{ident(name)}" for name in names]
        join = ""
        owner = self.table.partner_from
        if owner is not None:
            via, ref_table, ref_column = (ident(part) for part in owner)
            values[names.index("partner_id")] = "coalesce(t.partner_id, r.partner_id)"
            join = f" LEFT JOIN {ref_table} r ON r.{ref_column} = t.{via}"
        selected = ", ".join(f"{value} AS {ident(name)}" for value, name in zip(values, names, strict=True))
        return f"SELECT {selected} FROM __typed t{join}"

    def insert_sql(self) -> str:
        """INSERT of the typed file into the table (see :meth:`rows_select`)."""
        columns = ", ".join(ident(column.name) for column in self.table.columns)
        return f"INSERT INTO {ident(self.table.name)} ({columns}) {self.rows_select()}"


def date_window(spec: schema.Table, target: str) -> str:
    """Limit a join of the file with its table to the file's dates, when the date is part of the key.

    A daily file replaces a few days of a table of years: DuckDB's zone maps
    then skip the rest of the table instead of joining all of it.
    """
    date = spec.date_column
    if date is None or date not in spec.key:
        return ""
    column = ident(date)
    return (
        f" AND {target}.{column} BETWEEN (SELECT min({column}) FROM __typed)"
        f" AND (SELECT max({column}) FROM __typed)"
    )
