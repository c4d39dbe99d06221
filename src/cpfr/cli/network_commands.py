"""``cpfr network``: the integrated supply chain — solve instance files, plan placement, report cost."""

from __future__ import annotations

import json
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any

import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    WaitOption,
    console,
    err_console,
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog
from cpfr.cli.render import solve_result_table

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
    console.print(solve_result_table(f"{instance.name}: {result['kind']}", result, most=12))
    err_console.print(f"solved in {seconds:.2f} s", highlight=False)


@network_app.command("plan")
def plan(
    db: DbOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for placement.parquet and by_region.parquet.")
    ] = Path("network_plan"),
    partner: Annotated[
        str | None, typer.Option("--partner", help="Place one partner's SKUs only (as it sees its data).")
    ] = None,
    weeks: Annotated[
        int, typer.Option("--weeks", help="Weeks of online sales the demand is measured on.")
    ] = 8,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds the solver may search.")] = 60.0,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Place every SKU across the FDCs from the store's sales, capacities and parcel costs."""
    from cpfr.data.store import open_store
    from cpfr.data.store.scoped import scoped
    from cpfr.exceptions import InputError
    from cpfr.network.store_placement import plan_placement

    with reported_errors():
        if weeks < 1 or weeks > 104:
            raise InputError(f"--weeks {weeks}: expected a whole number of weeks from 1 to 104")
        log = ProgressLog("network plan")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            partners = store.read_table("partners").set_index("partner_id")["name"]
            if partner is not None and partner not in partners.index:
                raise InputError(
                    f"--partner {partner}: unknown partner; expected one of {', '.join(partners.index)}"
                )
            with scoped(store, partner) as view:
                result = plan_placement(
                    view, weeks=weeks, partner_id=partner, time_limit=time_limit, progress=log
                )
        output.mkdir(parents=True, exist_ok=True)
        write_table(result.cells, output / "placement.parquet")
        write_table(result.by_region, output / "by_region.parquet")
    _render_plan(result, partners.get(partner, partner) if partner else "every partner")
    err_console.print(f"tables: {output}/placement.parquet, {output}/by_region.parquet", highlight=False)


def _render_plan(result: Any, who: str) -> None:
    from cpfr.formatting import format_value

    table = Table(
        title=f"FDC placement of {who}'s SKUs, demand of {result.as_of:%Y-%m-%d} back (daily cost)",
        title_justify="left",
    )
    for column in (
        "region",
        "FDC",
        "SKUs now → plan",
        "local orders now → plan",
        "space used",
        "cost now",
        "cost plan",
        "saving",
    ):
        table.add_column(column, justify="left" if column in ("region", "FDC") else "right")
    for row in result.by_region.itertuples(index=False):
        table.add_row(
            str(row.region),
            str(row.fdc),
            f"{row.skus_now:,} → {row.skus_planned:,}",
            f"{row.local_share_now:.0%} → {row.local_share_planned:.0%}",
            f"{row.capacity_used:.0%}",
            format_value(row.cost_now_yuan, "yuan"),
            format_value(row.cost_planned_yuan, "yuan"),
            format_value(row.saving_yuan, "yuan"),
        )
    console.print(table)
    now, planned = result.cost_now.total, result.cost_planned.total
    console.print(
        f"daily fulfilment + holding cost {format_value(now, 'yuan')} → {format_value(planned, 'yuan')} "
        f"({(planned - now) / now:+.1%}); the planner's rule (fastest SKUs first) "
        f"{format_value(result.greedy_cost, 'yuan')}; {result.method}, gap {result.gap:.2%}, "
        f"{result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
