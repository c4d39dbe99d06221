"""``cpfr tradein``: the causal uplift of trade-in subsidy periods per leaf category."""

from __future__ import annotations

import math
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
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog

tradein_app = typer.Typer(
    help="Trade-in subsidies: causal uplift per leaf category (difference in differences).",
    no_args_is_help=True,
)


@tradein_app.command("estimate")
def estimate(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Write the table (.parquet or .csv).", show_default=False)
    ],
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner's SKUs.")] = None,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=19, help="Bootstrap replicates for the interval.")
    ] = 199,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Estimate the subsidy uplift of eligible SKUs per leaf category, with a 90 % interval."""
    from cpfr.data.store import open_store
    from cpfr.tradein import estimate_uplift

    with reported_errors():
        check_output(output)
        log = ProgressLog("tradein")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            result = estimate_uplift(store, partner_id=partner, n_boot=n_boot, progress=log)
        write_table(result, output)
        log(f"wrote {len(result)} categories to {output}")
    shown = Table(title="Trade-in subsidy uplift (eligible vs ineligible SKUs, 90 % interval)")
    for column in ("category", "control", "uplift", "90 % interval", "incremental units", "pre-trend p"):
        shown.add_column(column, justify="left" if column in ("category", "control") else "right")
    for row in result.to_dict("records"):
        pre_trend = float(row["pre_trend_p"])
        shown.add_row(
            f"{row['category_name']} ({row['category_id']})",
            str(row["control"]),
            _percent(float(row["uplift"])),
            f"{_percent(float(row['uplift_low']))} .. {_percent(float(row['uplift_high']))}",
            _count(float(row["incremental_units"])),
            "-" if math.isnan(pre_trend) else f"{pre_trend:.3f}",
        )
    console.print(shown)


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.1%}"


def _count(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"
