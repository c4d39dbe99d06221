"""``cpfr network``: the integrated supply chain — solve instance files, plan placement, report cost."""

from __future__ import annotations

import json
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any

import typer
from rich.table import Table

from cpfr.cli.common import console, err_console, reported_errors

network_app = typer.Typer(
    help="Warehouse network: facility location, SKU placement, allocation, logistics cost.",
    no_args_is_help=True,
)


@network_app.command("solve")
def solve(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file (.json or .yaml).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", help="Seconds the solver may search (the gap says how far it got)."),
    ] = 60.0,
) -> None:
    """Solve an INSTANCE file: facility_location, sku_placement or allocation (see the README)."""
    from cpfr.exceptions import InputError
    from cpfr.network.instances import read_instance, solve_instance

    with reported_errors():
        if not 0 < time_limit <= 86_400:
            raise InputError(f"--time-limit {time_limit}: expected seconds between 0 and 86,400")
        started = perf_counter()
        result = solve_instance(read_instance(instance), label=str(instance), time_limit_seconds=time_limit)
        seconds = perf_counter() - started
        text = json.dumps(result, allow_nan=False)
    if as_json:
        typer.echo(text)
        return
    table = Table(title=f"{instance.name}: {result['kind']}", title_justify="left")
    table.add_column("result")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "kind":
            table.add_row(key, _shown(value))
    console.print(table)
    err_console.print(f"solved in {seconds:.2f} s", highlight=False)


def _shown(value: Any, most: int = 12) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        text = ", ".join(f"{key}: {_shown(item, 4)}" for key, item in items[:most])
        return text + (f", ... ({len(items)} in all)" if len(items) > most else "")
    if isinstance(value, list):
        text = ", ".join(_shown(item, 4) for item in value[:most])
        return text + (f", ... ({len(value)} in all)" if len(value) > most else "")
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)
