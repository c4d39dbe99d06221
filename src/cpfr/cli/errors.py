"""How every failure of a cpfr command ends: one line on stderr and an exit code from one table.

| code | meaning                                                                       |
|------|-------------------------------------------------------------------------------|
| 0    | success                                                                       |
| 1    | invalid data: a file's rows break the rules, an infeasible model, a solver    |
|      | that found no answer within its limits                                        |
| 2    | usage: an unknown flag, option value, table, partner or file type; work       |
|      | beyond cpfr's bounds; a protected table                                       |
| 3    | store busy: another process held the store's lock past ``--wait``             |
| 4    | I/O or environment: no store, not a cpfr store, read-only, disk full,         |
|      | a directory that cannot be written, a path the system refuses                 |
| 5    | internal error: a bug in cpfr; the traceback is written to a log file whose   |
|      | path the message gives                                                        |
| 130  | interrupted (Ctrl-C)                                                          |

Domain code raises the errors of :mod:`cpfr.exceptions`; this module alone
turns them into codes, so a traceback never reaches a user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from cpfr.exceptions import (
    CpfrError,
    InputError,
    ReadOnlyStoreError,
    StoreBusyError,
    StoreError,
    StoreNotFoundError,
    ValidationError,
)

EXIT_OK = 0
EXIT_INVALID_DATA = 1
EXIT_USAGE = 2
EXIT_STORE_BUSY = 3
EXIT_IO = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130

LOG_DIR_ENV_VAR = "CPFR_LOG_DIR"

err_console = Console(stderr=True)


def exit_code(error: BaseException) -> int:
    """Return the exit code of the table above for ``error``."""
    if isinstance(error, ValidationError):
        return EXIT_INVALID_DATA
    if isinstance(error, InputError):
        return EXIT_USAGE
    if isinstance(error, StoreBusyError):
        return EXIT_STORE_BUSY
    if isinstance(error, StoreError):
        return EXIT_IO
    if isinstance(error, CpfrError):
        return EXIT_INVALID_DATA
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, OSError | MemoryError) or _is_engine_io_error(error):
        return EXIT_IO
    return EXIT_INTERNAL


def _is_engine_io_error(error: BaseException) -> bool:
    """Tell whether an engine's own I/O error (the environment, not a bug) is this one.

    DuckDB's I/O and memory errors (a full disk mid-query); psycopg's OperationalError
    and its subclasses (a PostgreSQL server lost or shut down mid-read).
    """
    if type(error).__module__.startswith("_duckdb") and type(error).__name__ in {
        "IOException",
        "OutOfMemoryException",
        "PermissionException",
    }:
        return True
    return any(
        kind.__module__.startswith("psycopg") and kind.__name__ == "OperationalError"
        for kind in type(error).__mro__
    )


def report(error: BaseException) -> int:
    """Print ``error`` for a person (never a traceback) and return its exit code."""
    code = exit_code(error)
    if isinstance(error, ValidationError):
        _say(error.report())
        err_console.print(f"[red]{error.total} problem(s); nothing was written.[/red]")
    elif isinstance(error, KeyboardInterrupt):
        _say("interrupted; nothing half-written was kept")
    elif isinstance(error, BrokenPipeError):
        _quiet_stdout()  # the reader went away (`cpfr ... | head`): nothing to say to anyone
    elif code == EXIT_INTERNAL:
        log = _write_crash_log(error)
        where = f"details in {log}" if log else "the log could not be written"
        _say(f"error: internal error ({type(error).__name__}: {_one_line(error)}); {where}")
    elif isinstance(error, OSError):
        _say(f"error: {_os_message(error)}")
    else:
        _say(f"error: {_one_line(error) or type(error).__name__}{_HINTS.get(type(error), '')}")
    return code


# What a person can do about an error, in the command line's own words (domain errors name no flags).
_HINTS: dict[type[BaseException], str] = {
    StoreNotFoundError: " (check --db or $CPFR_DB; `cpfr db init --db PATH` creates a store)",
    StoreBusyError: "",
    ReadOnlyStoreError: " (run it where the store file can be written, or copy the store)",
}


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that Python's own flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's buffer): nothing to flush
        pass


def _say(text: str) -> None:
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _os_message(error: OSError) -> str:
    reason = error.strerror or _one_line(error) or type(error).__name__
    name = error.filename
    if name is None:
        return reason
    shown = str(name) if len(str(name)) <= 120 else str(name)[:117] + "..."
    return f"{shown}: {reason}"


def _write_crash_log(error: BaseException) -> Path | None:
    """Write the traceback to ``$CPFR_LOG_DIR`` (default: the system's temp dir); None if that fails."""
    folder = Path(os.environ.get(LOG_DIR_ENV_VAR) or Path(tempfile.gettempdir()) / "cpfr")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"cpfr-crash-{stamp}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    except OSError:
        return None
    return path


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Turn any failure inside the block into a message on stderr and an exit code, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if _is_click_error(error):
            raise
        raise typer.Exit(report(error)) from None
    except KeyboardInterrupt as error:
        raise typer.Exit(report(error)) from None


def _is_click_error(error: BaseException) -> bool:
    """Usage errors of the command-line parser keep their own message and exit code 2."""
    return type(error).__module__.startswith("typer")


class CpfrGroup(TyperGroup):
    """The ``cpfr`` command group: whatever a command raises ends as :func:`report` says."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map any error that escaped it to the exit-code table."""
        with reported_errors():
            return super().invoke(ctx)
