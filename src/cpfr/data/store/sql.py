"""SQL text helpers shared by the store backends and the ingest plans: quoting, types, table reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cpfr.data import schema
from cpfr.exceptions import InputError

SQL_TYPES = {"text": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "DATE", "bool": "BOOLEAN"}

# The views of the data model, in SQL both backends run as it is.
VIEWS = {
    "sites": "CREATE OR REPLACE VIEW sites AS "
    "SELECT location_id AS site_id, 'location' AS site_kind FROM locations "
    "UNION ALL SELECT warehouse_id, 'warehouse' FROM warehouses",
}


def ident(name: str) -> str:
    """Quote an identifier (table or column name) for SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Quote a text literal for SQL."""
    return "'" + text.replace("'", "''") + "'"


def default_sql(column: schema.Column) -> str:
    """Return the SQL of a column's default value, cast to its type."""
    assert column.default is not None
    return f"CAST({literal(column.default)} AS {SQL_TYPES[column.type]})"


def is_integer_type(sql_type: str) -> bool:
    """Tell whether a DuckDB column type holds whole numbers."""
    return sql_type in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    }


def any_table(name: str) -> schema.Table:
    """Return the table called ``name`` (user-loaded or written by cpfr), or raise an InputError."""
    if name not in schema.TABLES_BY_NAME:
        raise InputError(f"unknown table {name!r} — expected one of {', '.join(schema.TABLES_BY_NAME)}")
    return schema.table(name)


def select_table(
    spec: schema.Table,
    partner_id: str | None,
    where: Mapping[str, object] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    ordered: bool = True,
    placeholder: str = "?",
) -> tuple[str, list[object]]:
    """Return the parameterised SELECT of ``spec``'s rows matching the filters (see ``read_table``).

    Shared by the backends: only the placeholder differs (``?`` for DuckDB, ``%s`` for psycopg).
    """
    conditions, params = ["TRUE"], list[object]()
    if partner_id is not None:
        conditions.append(f"(partner_id = {placeholder} OR partner_id IS NULL)")
        params.append(partner_id)
    names = {column.name for column in spec.columns}
    for name, value in (where or {}).items():
        if name not in names:
            raise InputError(f"table {spec.name!r} has no column {name!r}")
        if isinstance(value, list | tuple | set | frozenset):
            values = list(value)
            if not values:
                conditions.append("FALSE")
                continue
            conditions.append(f"{ident(name)} IN ({', '.join([placeholder] * len(values))})")
            params.extend(values)
        else:
            conditions.append(f"{ident(name)} = {placeholder}")
            params.append(value)
    for bound, operator in ((start, ">="), (end, "<=")):
        if bound is not None:
            if spec.date_column is None:
                raise InputError(f"table {spec.name!r} has no date column to filter on")
            conditions.append(f"{ident(spec.date_column)} {operator} {placeholder}")
            params.append(bound)
    order = " ORDER BY " + ", ".join(ident(key) for key in spec.key) if ordered else ""
    return f"SELECT * FROM {ident(spec.name)} WHERE {' AND '.join(conditions)}{order}", params


def first_line(error: BaseException) -> str:
    """Return an engine error's first line, whitespace collapsed (its type's name when it has no text)."""
    text = str(error).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(error).__name__
