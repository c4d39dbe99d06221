"""``cpfr network cost``: what delivering a period's online sales cost, by partner, region and warehouse."""

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
    parse_date,
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog
from cpfr.formatting import format_value

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from cpfr.network.cost import FulfilmentCost


def cost(
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    partner: Annotated[
        str | None, typer.Option("--partner", help="One partner, as it sees its data (default: all).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First day (YYYY-MM-DD); default four weeks before --end.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day (YYYY-MM-DD); default the last sale.")
    ] = None,
    output: TableOutputOption = None,
) -> None:
    """Print the fulfilment cost of online sales: parcels, split orders, cost per unit (see the README)."""
    from cpfr.data.store import open_store
    from cpfr.exceptions import InputError
    from cpfr.network.cost import fulfilment_cost, logistics_costs

    with reported_errors():
        check_output(output)
        first = parse_date(start, "--start") if start else None
        last = parse_date(end, "--end") if end else None
        log = ProgressLog("cost")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            partners = store.read_table("partners").set_index("partner_id")["name"]
            if partner is not None and partner not in partners.index:
                raise InputError(
                    f"--partner {partner}: unknown partner; expected one of {', '.join(partners.index)}"
                )
            log("reading parcel rates, settings and warehouses")
            costs = logistics_costs(store)
            log("routing sales and baskets to warehouses")
            result = fulfilment_cost(store, start=first, end=last, partner_id=partner, costs=costs)
        log(f"{result.units:,} units, {result.baskets:,} baskets from {result.start} to {result.end}")
        rows = result.rows.assign(
            partner_name=result.rows["partner_id"].map(partners),
            warehouse_name=result.rows["warehouse_id"].map(costs.warehouses["name"]),
            start=result.start,
            end=result.end,
        )
        if output is not None:
            write_table(rows, output)
            log(f"wrote {len(rows):,} rows to {output}")
    _render(rows, result, console)


# Columns of the table after the names: (rows column, formatter unit, percent digits).
_NUMBERS: tuple[tuple[str, str, int], ...] = (
    ("units", "units", 1),
    ("parcels", "units", 1),
    ("local_share", "percent", 0),
    ("split_order_share", "percent", 1),
    ("cost_yuan", "yuan", 1),
    ("cost_per_unit_yuan", "yuan", 1),
)


def _render(rows: pd.DataFrame, result: FulfilmentCost, out: Console) -> None:
    scope = "all partners" if result.partner_id is None else result.partner_id
    table = Table(
        title=f"Fulfilment cost of online sales, {result.start} to {result.end} ({scope})",
        title_justify="left",
    )
    for name in ("partner", "region", "warehouse"):
        table.add_column(name)
    for name in ("units", "parcels", "local", "split orders", "cost", "per unit"):
        table.add_column(name, justify="right")
    for row in rows.to_dict("records"):
        table.add_row(
            str(row["partner_name"]),
            str(row["region"]),
            str(row["warehouse_name"]),
            *(format_value(float(row[column]), unit, digits=digits) for column, unit, digits in _NUMBERS),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        format_value(result.units, "units"),
        format_value(result.parcels, "units"),
        "",
        format_value(result.split_order_share, "percent"),
        format_value(result.cost_yuan, "yuan"),
        format_value(result.cost_per_unit_yuan, "yuan"),
    )
    out.print(table)
    notes = [f"{result.split_orders:,} of {result.baskets:,} baskets split across warehouses"]
    if result.not_parcel_units:
        notes.append(f"{result.not_parcel_units:,} units too big for parcels (cars) left out")
    if result.assumed_size_units:
        notes.append(f"{result.assumed_size_units:,} units of SKUs without weight or volume costed as size M")
    out.print("; ".join(notes), highlight=False)
