"""The cpfr store: one interface, one backend module per database.

``open_store(None)`` opens the embedded default, a DuckDB file named by
``--db``, ``$CPFR_DB`` or ``cpfr.duckdb`` in the working directory; a
``postgresql://`` URL there opens a PostgreSQL database
(:class:`~cpfr.data.store.postgres_store.PostgresStore`).
"""

from __future__ import annotations

import os
import typing

from cpfr.data.store.base import (
    CUBE_DIMENSIONS,
    DB_ENV_VAR,
    DEFAULT_DB,
    IngestResult,
    Store,
    TableInfo,
    resolve_db_path,
)
from cpfr.data.store.duckdb_connect import DEFAULT_WAIT_SECONDS, STORE_MODES
from cpfr.data.store.duckdb_store import DuckDBStore
from cpfr.exceptions import StoreError

if typing.TYPE_CHECKING:
    from cpfr.data.store.duckdb_connect import StoreMode

__all__ = [
    "CUBE_DIMENSIONS",
    "DB_ENV_VAR",
    "DEFAULT_DB",
    "DEFAULT_WAIT_SECONDS",
    "STORE_MODES",
    "DuckDBStore",
    "IngestResult",
    "Store",
    "StoreError",
    "TableInfo",
    "open_store",
    "resolve_db_path",
]


def open_store(
    db: str | os.PathLike[str] | None = None,
    *,
    mode: StoreMode = "write",
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    migrate: bool = True,
) -> Store:
    """Open (and by default migrate) the store at ``db``; see :func:`resolve_db_path`.

    Parameters
    ----------
    db : str or path-like, optional
        The store's location.
    mode : {'write', 'read', 'create'}
        ``write``: an existing cpfr store; ``read``: the same, read-only (several
        readers share it); ``create``: a missing store is created.
    wait_seconds : float
        How long to wait while another process holds the store's lock.
    migrate : bool
        Apply pending schema migrations.

    Raises
    ------
    StoreNotFoundError, NotAStoreError, StoreBusyError, ReadOnlyStoreError, MigrationError
        See :mod:`cpfr.exceptions`.
    StoreError
        A server that cannot be reached, or psycopg missing for a ``postgresql://`` URL.
    """
    location = resolve_db_path(db)
    if location.startswith(("postgresql://", "postgres://")):
        try:
            # Imported here: psycopg is only needed (and only installed, cpfr[postgres]) for a server.
            from cpfr.data.store.postgres_store import PostgresStore
        except ImportError as error:
            raise StoreError(
                f"{location.split('@')[-1]}: the PostgreSQL backend needs psycopg "
                f"(pip install 'cpfr[postgres]'): {error}"
            ) from None
        return PostgresStore(location, mode=mode, wait_seconds=wait_seconds, migrate=migrate)
    return DuckDBStore(location, mode=mode, wait_seconds=wait_seconds, migrate=migrate)
