"""Moving rows between PostgreSQL and Arrow with COPY, and Arrow rows into pandas as DuckDB gives them.

Rows travel as CSV through ``COPY ... FROM STDIN`` / ``COPY (query) TO STDOUT``:
one statement per batch, parsed and written by Arrow's CSV codec in C, never
a Python object per row. Every value keeps its text exactly: PostgreSQL
prints doubles with the fewest digits that read back to the same number
(``extra_float_digits = 1``) and Arrow writes them the same way.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from cpfr.data import schema

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}
# Rows per COPY batch written to the server: large enough to amortise a round trip, small
# enough that a batch's CSV text stays a few tens of megabytes.
COPY_BATCH_ROWS = 200_000

# Nulls are unquoted empty fields, empty text a quoted "": PostgreSQL's CSV rules, kept both ways.
_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
_NULLABLE_DTYPES: dict[pa.DataType, object] = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def column_types(spec: schema.Table) -> dict[str, pa.DataType]:
    """Return the Arrow type of each column of ``spec``."""
    return {column.name: ARROW_TYPES[column.type] for column in spec.columns}


def read_arrow(
    connection: psycopg.Connection,
    query: str,
    params: Sequence[object],
    types: Mapping[str, pa.DataType],
) -> pa.Table:
    """Run ``query`` on the server and return its rows as Arrow, typed by ``types``.

    Parameters
    ----------
    connection : psycopg.Connection
        The server.
    query : str
        A SELECT with ``%s`` parameters (bound by psycopg on the client: COPY takes no server parameters).
    params : sequence
        Its parameters.
    types : mapping
        Arrow type of each result column (a column not named gets the type Arrow infers).
    """
    buffer = io.BytesIO()
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(sql.SQL(query))
    with connection.cursor() as cursor, cursor.copy(statement, params or None) as copy:
        for chunk in copy:
            buffer.write(chunk)
    options = pa_csv.ConvertOptions(
        column_types=dict(types),
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
        true_values=["t"],
        false_values=["f"],
    )
    buffer.seek(0)
    return pa_csv.read_csv(
        buffer, parse_options=pa_csv.ParseOptions(newlines_in_values=True), convert_options=options
    )


def write_arrow(
    connection: psycopg.Connection, table: str, columns: Sequence[str], batches: Iterable[pa.RecordBatch]
) -> int:
    """COPY ``batches`` (columns in the order of ``columns``) into ``table``; return the rows written."""
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(table), names)
    rows = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in batches:
            if batch.num_rows:
                text = io.BytesIO()
                pa_csv.write_csv(batch, text, _WRITE_OPTIONS)
                copy.write(text.getvalue())
                rows += batch.num_rows
    return rows


def to_frame(rows: pa.Table) -> pd.DataFrame:
    """Return Arrow rows as pandas with the dtypes DuckDB's ``.df()`` gives the same columns.

    Dates become ``datetime64[us]``; integers and booleans stay ``int64`` and
    ``bool`` unless a value is missing (then ``Int64`` and ``boolean``); text
    is ``object``, missing text None.
    """
    frame: dict[str, object] = {}
    for name, column in zip(rows.column_names, rows.columns, strict=True):
        kind = column.type
        if pa.types.is_date32(kind):
            frame[name] = column.to_pandas(date_as_object=False).astype("datetime64[us]")
        elif column.null_count and kind in _NULLABLE_DTYPES:
            frame[name] = column.to_pandas(types_mapper=_NULLABLE_DTYPES.get)
        else:
            frame[name] = column.to_pandas()
    return pd.DataFrame(frame, columns=rows.column_names)
