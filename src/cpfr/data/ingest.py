"""Load a planner's CSV, Excel or Parquet file into a table of the store, safely.

Every problem in the file is reported (file, row, column, value, what was
expected); the file is written in one transaction or not at all; rows whose
natural key is already stored are replaced, so re-sending a file is safe.
"""

from __future__ import annotations

import os

from cpfr.data import schema
from cpfr.data.sources import open_source
from cpfr.data.store import IngestResult, Store


def ingest_file(
    store: Store, path: str | os.PathLike[str], table: str, *, dry_run: bool = False
) -> IngestResult:
    """Validate the file at ``path`` against ``table`` and upsert it into ``store``.

    Parameters
    ----------
    store : Store
        An open store.
    path : str or path-like
        A ``.csv`` (UTF-8, header line), ``.xlsx`` (the sheet named like ``table``, else the
        first; see :mod:`cpfr.data.xlsx_source`) or ``.parquet`` file.
    table : str
        Target table, one of :data:`cpfr.data.schema.USER_TABLES`.
    dry_run : bool
        Validate and count, write nothing.

    Returns
    -------
    IngestResult
        Rows in the file, inserted and replaced.

    Raises
    ------
    AccessError
        A table cpfr writes itself (forecasts, the override trail, ...).
    InputError
        Unknown table, missing file, unknown file type.
    ValidationError
        The file breaks the table's rules; ``.problems`` lists them.
    """
    schema.user_table(table)  # before reading the file: a typo costs nothing
    return store.ingest(open_source(path, table=table), table, dry_run=dry_run)
