"""What every cpfr command shares: the --db option, consoles, error handling."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cpfr.exceptions import CpfrError, InputError, ValidationError

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
