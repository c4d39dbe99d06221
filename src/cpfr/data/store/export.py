"""Exports of a table to Parquet or CSV, through DuckDB's writers whatever the backend.

Every store hands its rows to :func:`write_export` as a DuckDB query (the
PostgreSQL backend registers the rows it read), so an export has the same
types, quoting and spreadsheet protection on every backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from cpfr.data import schema
from cpfr.data.sources import FORMULA_START
from cpfr.data.store.sql import first_line, ident, literal
from cpfr.exceptions import InputError, StoreError


def write_export(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[object],
    spec: schema.Table,
    output: Path,
    *,
    spreadsheet_safe: bool,
) -> None:
    """Write the rows of ``sql`` (rows of ``spec``) to ``output``, Parquet or CSV by its extension.

    The file is written beside ``output`` and renamed over it, so a failed
    export never leaves a half-written file. Every backend exports through
    DuckDB's writers, so the files are the same whatever the store.

    Raises
    ------
    InputError
        ``output`` is neither ``.parquet`` nor ``.csv``.
    StoreError
        The file cannot be written.
    """
    suffix = output.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError(f"{output}: unknown file type {suffix!r} — expected .parquet or .csv")
    fmt = "(FORMAT PARQUET)" if suffix == ".parquet" else "(FORMAT CSV, HEADER)"
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial{suffix}")
    if suffix == ".csv" and spreadsheet_safe:
        sql = f"SELECT {', '.join(_safe_cell(column) for column in spec.columns)} FROM ({sql})"
    try:
        con.execute(f"COPY ({sql}) TO {literal(str(partial))} {fmt}", list(params))
        os.replace(partial, output)
    except duckdb.IOException as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"{output}: cannot write the export ({first_line(error)})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _safe_cell(column: schema.Column) -> str:
    """Return a column for a CSV export: a text cell that starts like a formula gets an apostrophe."""
    name = ident(column.name)
    if column.type != "text":
        return name
    quote = literal("'")
    formula = f"regexp_matches({name}, {literal(FORMULA_START)})"
    return f"CASE WHEN {formula} THEN {quote} || {name} ELSE {name} END AS {name}"
