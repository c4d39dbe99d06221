"""``cpfr allocate``: split a hot launch's quantity across stores and online zones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    TableOutputOption,
    WaitOption,
    check_output,
    console,
    err_console,
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog

if TYPE_CHECKING:
    import pandas as pd


def allocate(
    sku: Annotated[
        str, typer.Option("--sku", help="The SKU to launch (its products row gives the launch day).")
    ],
    quantity: Annotated[int, typer.Option("--quantity", min=0, help="Units to allocate (Q).")],
    db: DbOption = None,
    pack: Annotated[
        int, typer.Option("--pack", min=1, help="Units per pack: allocations are whole packs.")
    ] = 1,
    days: Annotated[
        int, typer.Option("--days", min=1, max=365, help="Selling window after launch the demand covers.")
    ] = 28,
    output: TableOutputOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Allocate a launch QUANTITY of SKU to points of sale to maximise expected sales.

    Demand per point comes from sales before the launch: the analogue launch forecast for
    the total, the analogues' launch shares per location for the split; earlier launches give
    each channel's chance of selling it at all, the dispersion and the total's error, and the
    total is conditioned on QUANTITY selling out (see the README).
    """
    from cpfr.data.store import open_store
    from cpfr.exceptions import InputError
    from cpfr.network.launch_allocation import allocate_launch

    with reported_errors():
        check_output(output)
        if quantity % pack:
            raise InputError(f"--quantity {quantity}: expected a whole number of packs of {pack} (--pack)")
        log = ProgressLog("allocate")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            result = allocate_launch(store, sku, quantity, pack=pack, days=days, log=log)
        table = result.points
        if output is not None:
            write_table(table, output)
    console.print(
        f"{sku}: launch {result.launch_date}, forecast {result.expected_total:,.0f} units over {days} days, "
        f"{quantity:,} to allocate",
        highlight=False,
    )
    for summary, title in ((result.by_channel, "by channel"), (result.by_tier, "by city tier")):
        console.print(_summary_table(summary, title))
    total = table[["units", "expected_demand", "expected_sales", "expected_lost_sales"]].sum()
    fill = total["expected_sales"] / total["expected_demand"] if total["expected_demand"] > 0 else 1.0
    console.print(
        f"all {len(table):,} points: {int(total['units']):,} units, expected sales "
        f"{total['expected_sales']:,.1f}, expected lost sales {total['expected_lost_sales']:,.1f}, "
        f"fill {fill:.1%}",
        highlight=False,
    )
    if quantity > total["units"]:
        err_console.print(
            f"{quantity - int(total['units']):,} units left: the points hold no more", highlight=False
        )
    if output is not None:
        err_console.print(f"wrote {len(table):,} points → {output}", highlight=False)


def _summary_table(summary: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("group", "units", "expected demand", "expected sales", "expected lost sales", "fill"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for name, row in summary.iterrows():
        label = f"tier {name}" if summary.index.name == "tier" else str(name)
        table.add_row(
            label,
            f"{int(row['units']):,}",
            f"{row['expected_demand']:,.1f}",
            f"{row['expected_sales']:,.1f}",
            f"{row['expected_lost_sales']:,.1f}",
            f"{row['fill_rate']:.1%}",
        )
    return table
