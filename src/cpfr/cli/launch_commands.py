"""``cpfr launch``: forecasts for products that exist only as a specification (C2M launches)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    WaitOption,
    check_output,
    console,
    json_text,
    parse_date,
    reported_errors,
    write_table,
)

launch_app = typer.Typer(help="New product launches: forecast from a specification.", no_args_is_help=True)


@launch_app.command("forecast")
def forecast(
    spec: Annotated[Path, typer.Option("--spec", help="Spec file (.json or .yaml).")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="Learn only from sales before this day (YYYY-MM-DD).")
    ],
    horizon: Annotated[int, typer.Option("--horizon", help="Days after launch to forecast.")] = 90,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the daily forecast (.parquet or .csv).")
    ] = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Units a SPEC will sell over its first HORIZON days, with quantiles q0.05 .. q0.95."""
    from cpfr.c2m.spec_forecast import read_spec, spec_forecast
    from cpfr.data.store import open_store

    with reported_errors():
        check_output(output)
        day = parse_date(as_of, "--as-of")
        launch_spec = read_spec(spec)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            result = spec_forecast(store, launch_spec, as_of=day, horizon_days=horizon)
        if output is not None:
            write_table(result.daily.assign(ds=result.daily["ds"].dt.date), output)
        summary = result.summary()
        text = json_text(summary)
    if as_json:
        typer.echo(text)
        return
    table = Table(title=f"{spec.name}: first {horizon} days, as of {day}", title_justify="left")
    table.add_column("result")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    console.print(table)
