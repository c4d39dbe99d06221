"""``cpfr plan``: the whole CPFR cycle on a store, a report and its tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from time import perf_counter
from typing import Annotated

import typer

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    WaitOption,
    console,
    err_console,
    model_names,
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog
from cpfr.exceptions import InputError


def plan(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html and the Parquet tables.")
    ] = Path("plan"),
    weeks: Annotated[int, typer.Option("--weeks", help="Future weeks planned.")] = 8,
    model: Annotated[
        str,
        typer.Option("--model", help="Models: 'default', 'auto' or names, comma separated (all forecasts)."),
    ] = "default",
    network: Annotated[
        bool, typer.Option("--network/--no-network", help="Also plan today's network orders (slowest step).")
    ] = True,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Run forecasts, targets and attainment, exceptions and consensus, orders and KPIs; write a report."""
    from cpfr.collab.cycle import run_cycle
    from cpfr.data.store import open_store
    from cpfr.report.plan_report import headline, write_plan_report

    with reported_errors():
        if weeks < 1:
            raise InputError(f"--weeks {weeks}: expected a whole number >= 1")
        chosen = (
            {} if model == "default" else {"models": model_names(model), "network_models": model_names(model)}
        )
        started = perf_counter()
        with open_store(db, mode="write", wait_seconds=wait) as store:
            result = run_cycle(
                store,
                weeks=weeks,
                network=network,
                progress=ProgressLog("plan"),
                now=dt.datetime.now(dt.UTC),
                **chosen,
            )
        out.mkdir(parents=True, exist_ok=True)
        tables = {
            "targets": result.targets,
            "target_gaps": result.gaps,
            "exceptions": result.exceptions,
            "consensus": result.consensus,
            "order_forecast": result.order_forecast,
            "kpis": result.kpis,
            "platform_forecast": result.platform.weekly,
            "price_bands": result.rankings,
        }
        if result.network_orders is not None:
            tables["network_orders"] = result.network_orders
        for name, frame in tables.items():
            write_table(frame, out / f"{name}.parquet")
        report = write_plan_report(result, out / "report.html")
    for label, value in headline(result):
        console.print(f"  {label:<34} {value}", highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    steps = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in result.seconds.items())
    console.print(
        f"planned as of {result.as_of} in {perf_counter() - started:.0f} s ({steps})\n"
        f"saved in the store as plan run {result.run_id}; report: {report}  tables: {out}/*.parquet",
        highlight=False,
        soft_wrap=True,
    )
