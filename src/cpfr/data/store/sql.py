"""SQL text helpers shared by the DuckDB store and its ingest plans: quoting and types."""

from __future__ import annotations

from cpfr.data import schema

SQL_TYPES = {"text": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "DATE", "bool": "BOOLEAN"}


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
