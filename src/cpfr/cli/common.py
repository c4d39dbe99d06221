"""What every cpfr command shares: the --db option, consoles, error handling."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cpfr.cli.errors import err_console as err_console
from cpfr.cli.errors import reported_errors as reported_errors
from cpfr.data.store.duckdb_connect import DEFAULT_WAIT_SECONDS as DEFAULT_WAIT_SECONDS
from cpfr.data.store.duckdb_connect import MAX_WAIT_SECONDS
from cpfr.exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

console = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store file or postgresql:// URL (default: $CPFR_DB, else cpfr.duckdb in the working folder).",
        show_default=False,
    ),
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        max=MAX_WAIT_SECONDS,
        help="Seconds to wait while another process holds the store, then give up (exit code 3).",
    ),
]
TableOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Also write the table (.parquet or .csv).")
]
PathArgument = Annotated[Path, typer.Argument(help="A .csv, .xlsx or .parquet file.", show_default=False)]


USER_ENV_VAR = "CPFR_USER"


def acting_user() -> str:
    """Return who runs the command: ``$CPFR_USER`` (a planner id), else the operating system's login."""
    import getpass

    try:
        user = os.environ.get(USER_ENV_VAR) or getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        user = ""
    if not user.strip():
        raise InputError(f"no acting user: set ${USER_ENV_VAR} to your planner id")
    return user.strip()


def interactive() -> bool:
    """Tell whether a person is watching (progress bars only make sense then)."""
    return sys.stderr.isatty()


def check_output(path: Path | None) -> None:
    """Refuse an output path that is neither .parquet nor .csv, before any work is done (None: no output)."""
    if path is not None and path.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"{path}: unknown file type {path.suffix!r} — expected .parquet or .csv")


def model_names(text: str) -> str | list[str]:
    """Read a --model value: 'auto' or model names separated by commas."""
    return "auto" if text == "auto" else [name.strip() for name in text.split(",")]


def parse_date(text: str, flag: str) -> dt.date:
    """Read a YYYY-MM-DD flag value; anything else is an error naming the flag."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag} {text!r}: expected a date YYYY-MM-DD") from None


def json_text(payload: object) -> str:
    """Return ``payload`` as strict JSON: a non-finite number (an unreachable level) becomes null."""
    import json
    import math

    def finite(value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [finite(item) for item in value]
        return value

    return json.dumps(finite(payload), allow_nan=False)


def write_table(frame: pd.DataFrame, path: Path, *, spreadsheet_safe: bool = True) -> None:
    """Write atomically: a reader never sees half a file, a failed run leaves no file.

    CSV text cells that a spreadsheet would run as formulas are neutralised unless
    ``spreadsheet_safe`` is False.
    """
    from cpfr.data.sources import spreadsheet_safe as neutralised

    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.suffix.lower() == ".csv":
            (neutralised(frame) if spreadsheet_safe else frame).to_csv(partial, index=False)
        else:
            frame.to_parquet(partial, index=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
