"""``cpfr inventory solve``: solve an inventory instance file and print the result."""

from __future__ import annotations

import json
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any

import typer
from rich.table import Table

from cpfr.cli.common import console, err_console, reported_errors

inventory_app = typer.Typer(
    help="Inventory policies: solve textbook and network instances.", no_args_is_help=True
)


@inventory_app.command("solve")
def solve(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file (.json or .yaml).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Solve an INSTANCE file of any kind (newsvendor, base_stock, s_S, r_Q, eoq, serial, gsm_tree, ...)."""
    from cpfr.inventory.instances import read_instance, solve_instance

    with reported_errors():
        started = perf_counter()
        result = solve_instance(read_instance(instance))
        seconds = perf_counter() - started
    if as_json:
        typer.echo(json.dumps(result, sort_keys=False))
        return
    table = Table(title=f"{instance.name}: {result['kind']}", title_justify="left")
    table.add_column("result")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "kind":
            table.add_row(key, _shown(value))
    console.print(table)
    err_console.print(f"solved in {seconds * 1000:.1f} ms", highlight=False)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
