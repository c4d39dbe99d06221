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


@tradein_app.command("allocate")
def allocate(
    budget: Annotated[
        float, typer.Option("--budget", help="Subsidy budget to split, yuan.", show_default=False)
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Write the split (.parquet or .csv).", show_default=False)
    ],
    objective: Annotated[str, typer.Option("--objective", help="Maximise incremental gmv or units.")] = "gmv",
    months: Annotated[
        int, typer.Option("--months", min=1, max=36, help="Months to plan, from next month.")
    ] = 12,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Subsidy rules (.csv/.parquet: category_id, share, cap_yuan, price_limit); "
            "default: read from the subsidised sales.",
        ),
    ] = None,
    curves: Annotated[
        Path | None, typer.Option("--curves", help="Also write each category's marginal return curve.")
    ] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner's SKUs.")] = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Split a subsidy BUDGET over categories, city tiers and months for the largest incremental result."""
    from cpfr.data.store import open_store
    from cpfr.tradein.budget import plan_budget, read_rules, return_curves

    with reported_errors():
        check_output(output)
        if curves is not None:
            check_output(curves)
        rule_table = read_rules(rules) if rules is not None else None
        log = ProgressLog("tradein")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            log("estimating the subsidy effects per category")
            split = plan_budget(
                store, budget, objective=objective, months=months, rules=rule_table, partner_id=partner
            )
        write_table(split.cells, output)
        if curves is not None:
            write_table(return_curves(split.cells, objective=objective), curves)
        log(f"wrote {len(split.cells)} cells to {output}")
    totals = split.totals()
    shown = Table(title=f"Subsidy budget {budget:,.0f} yuan: incremental {objective}, cpfr vs pro rata")
    for column in ("split", "spend, yuan", "incremental units", "incremental GMV, yuan"):
        shown.add_column(column, justify="left" if column == "split" else "right")
    shown.add_row(
        "cpfr (by return per yuan)",
        _count(totals["spend"]),
        _count(totals["incremental_units"]),
        _count(totals["incremental_gmv"]),
    )
    shown.add_row(
        "pro rata to last year's sales",
        _count(totals["pro_rata_spend"]),
        _count(totals["pro_rata_incremental_units"]),
        _count(totals["pro_rata_incremental_gmv"]),
    )
    console.print(shown)
    by_category = split.cells.groupby("category_name")[["spend", "pro_rata_spend"]].sum()
    table = Table(title="Spend by category, yuan")
    for column in ("category", "cpfr", "pro rata"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, row in by_category.sort_values("spend", ascending=False).iterrows():
        table.add_row(str(name), _count(float(row["spend"])), _count(float(row["pro_rata_spend"])))
    console.print(table)


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.1%}"


def _count(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"
