"""Opening a DuckDB store file: which files are stores, read-only opens, and waiting for a lock.

DuckDB lets one process write a file, or several processes read it; a second
process that asks while a writer holds the file gets a lock error at once.
cpfr waits a bounded time for the lock instead, and tells "busy" apart from
"missing", "not a store" and "read-only" so each gets its own message and
exit code.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Literal

import duckdb

from cpfr.exceptions import (
    NotAStoreError,
    ReadOnlyStoreError,
    StoreBusyError,
    StoreError,
    StoreNotFoundError,
)

StoreMode = Literal["read", "write", "create"]
STORE_MODES: tuple[str, ...] = ("read", "write", "create")

# A command waits this long for another process's lock before it gives up (`--wait`).
DEFAULT_WAIT_SECONDS = 5.0
MAX_WAIT_SECONDS = 24 * 3600.0
_FIRST_RETRY_SECONDS = 0.05
_LAST_RETRY_SECONDS = 0.5

# The first bytes of a DuckDB database file: 8 bytes of checksum, then the magic "DUCK".
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"


def connection_config() -> dict[str, str | bool | int | float | list[str]]:
    """Return the DuckDB settings of every cpfr connection (the same for all: a process can share one)."""
    # Rows need no particular order on insert (the natural key identifies
    # them), and not keeping it lets DuckDB stream big files in less memory.
    # CPFR_DUCKDB_MEMORY caps DuckDB's memory (e.g. '2GB'); past it, DuckDB
    # spills to a temporary directory instead of failing.
    config: dict[str, str | bool | int | float | list[str]] = {
        "preserve_insertion_order": False,
        "allocator_flush_threshold": "32MB",
    }
    limit = os.environ.get("CPFR_DUCKDB_MEMORY")
    if limit:
        config["memory_limit"] = limit
    return config


def connect(path: str, mode: StoreMode, wait_seconds: float) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Open ``path`` as ``mode`` asks; return the connection and whether it is read-only.

    - ``create``: a missing file becomes a new store (its folder is created too);
    - ``write``: the file must exist; a read-only file is an error;
    - ``read``: the file must exist; it is opened read-only, so other readers can share it.

    Raises
    ------
    StoreNotFoundError, NotAStoreError, ReadOnlyStoreError, StoreBusyError, StoreError
    """
    if mode not in STORE_MODES:
        raise ValueError(f"unknown store mode {mode!r}; expected one of {', '.join(STORE_MODES)}")
    if not (0 <= wait_seconds <= MAX_WAIT_SECONDS):
        raise StoreError(f"wait {wait_seconds} s: expected 0 to {MAX_WAIT_SECONDS:.0f} seconds")
    if path == ":memory:":
        return _quiet(duckdb.connect(path, config=connection_config())), False
    file = Path(path)
    exists = _exists(file, path)
    if not exists:
        if mode != "create":
            raise StoreNotFoundError(f"{path}: no cpfr store at this location")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"{path}: cannot create the store's folder ({error.strerror})") from None
    else:
        _check_is_duckdb(file, path)
    read_only = exists and mode == "read"
    deadline = time.monotonic() + wait_seconds
    pause = _FIRST_RETRY_SECONDS
    while True:
        try:
            return _connect_once(path, read_only)
        except _Busy as busy:
            if time.monotonic() + pause > deadline:
                raise StoreBusyError(
                    f"{path}: the store is in use by another process{busy.holder}; waited {wait_seconds:g} s"
                    " (try again, or raise --wait)"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, _LAST_RETRY_SECONDS)
        except _ReadOnlyFile:
            if not exists:
                raise StoreError(
                    f"{path}: cannot create the store here (the folder is not writable)"
                ) from None
            if mode != "read":
                raise ReadOnlyStoreError(
                    f"{path}: the store is read-only (file or file system); this command writes to it"
                ) from None
            read_only = True


class _Busy(Exception):
    def __init__(self, holder: str) -> None:
        self.holder = holder


class _ReadOnlyFile(Exception):
    pass


def _quiet(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Turn off DuckDB's own progress bar and return the connection.

    DuckDB draws it on stdout for queries over two seconds, where it would corrupt what scripts
    read (CSV, JSON); cpfr reports progress itself.
    """
    connection.execute("SET enable_progress_bar = false")
    return connection


def _connect_once(path: str, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    config = connection_config()
    try:
        return _quiet(duckdb.connect(path, read_only=read_only, config=config)), read_only
    except duckdb.ConnectionException as error:
        # The process already has the file open with the other setting (e.g. a test or the
        # server holds it read-write): share that connection's database, read-only or not.
        if read_only and "different configuration" in str(error):
            return _quiet(duckdb.connect(path, config=config)), False
        raise StoreError(f"{path}: cannot open the store ({_first_line(error)})") from None
    except duckdb.IOException as error:
        text = str(error)
        if "Conflicting lock" in text or "Could not set lock" in text:
            pid = text.split("(PID ", 1)[1].split(")", 1)[0] if "(PID " in text else ""
            raise _Busy(f" (PID {pid})" if pid else "") from None
        if "Read-only file system" in text or "Permission denied" in text or "read-only" in text.lower():
            if read_only:
                raise StoreError(f"{path}: cannot read the store ({_first_line(error)})") from None
            raise _ReadOnlyFile from None
        if "not a valid DuckDB database file" in text:
            raise NotAStoreError(f"{path}: not a cpfr store (not a DuckDB database file)") from None
        raise StoreError(f"{path}: cannot open the store ({_first_line(error)})") from None
    except duckdb.Error as error:
        raise StoreError(f"{path}: cannot open the store ({_first_line(error)})") from None


def _exists(file: Path, path: str) -> bool:
    try:
        if file.is_dir():
            raise NotAStoreError(f"{path}: is a folder, not a store file")
        return file.exists()
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise StoreError(f"{path[:80]}...: the path is too long for this system") from None
        raise StoreError(f"{path}: cannot reach the store ({error.strerror})") from None


def _check_is_duckdb(file: Path, path: str) -> None:
    """Refuse a file that is not a DuckDB database before DuckDB is asked to open (or overwrite) it."""
    try:
        with file.open("rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    except PermissionError:
        return  # DuckDB will say why it cannot open it
    except OSError as error:
        raise StoreError(f"{path}: cannot read the store ({error.strerror})") from None
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise NotAStoreError(f"{path}: not a cpfr store (not a DuckDB database file)")


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
