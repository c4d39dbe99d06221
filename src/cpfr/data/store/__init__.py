"""The cpfr store: one interface, one backend module per database.

``open_store(None)`` opens the embedded default, a DuckDB file named by
``--db``, ``$CPFR_DB`` or ``cpfr.duckdb`` in the working directory.
"""

from __future__ import annotations

import os

from cpfr.data.store.base import (
    CUBE_DIMENSIONS,
    DB_ENV_VAR,
    DEFAULT_DB,
    IngestResult,
    Store,
    TableInfo,
    resolve_db_path,
)
from cpfr.data.store.duckdb_store import DuckDBStore
from cpfr.exceptions import StoreError

__all__ = [
    "CUBE_DIMENSIONS",
    "DB_ENV_VAR",
    "DEFAULT_DB",
    "DuckDBStore",
    "IngestResult",
    "Store",
    "StoreError",
    "TableInfo",
    "open_store",
    "resolve_db_path",
]


def open_store(db: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default migrate) the store at ``db``; see :func:`resolve_db_path`.

    Raises
    ------
    StoreError
        For a server URL whose backend is not available in this install.
    """
    location = resolve_db_path(db)
    if location.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            f"{location}: the PostgreSQL backend is not part of this release; use a DuckDB file path"
        )
    return DuckDBStore(location, migrate=migrate)
