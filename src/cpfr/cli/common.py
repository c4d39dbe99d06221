"""What every cpfr command shares: the --db option, consoles, error handling."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cpfr.exceptions import CpfrError, InputError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store file (default: $CPFR_DB, else cpfr.duckdb in the working directory).",
        show_default=False,
    ),
]
TableOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Also write the table (.parquet or .csv).")
]
PathArgument = Annotated[Path, typer.Argument(help="A .csv or .parquet file.", show_default=False)]

EXIT_INVALID_INPUT = 1
EXIT_USAGE = 2


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Turn cpfr's errors into a message on stderr and a non-zero exit, never a traceback."""
    try:
        yield
    except ValidationError as error:
        err_console.print(error.report(), markup=False, highlight=False, soft_wrap=True)
        err_console.print(f"[red]{error.total} problem(s); nothing was written.[/red]")
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    except InputError as error:
        err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except CpfrError as error:
        err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID_INPUT) from None


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


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a file, a failed run leaves no file."""
    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(partial, index=False)
    else:
        frame.to_parquet(partial, index=False)
    os.replace(partial, path)
