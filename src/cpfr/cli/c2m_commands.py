"""``cpfr c2m``: consumer-to-manufacturer, the cells shoppers want that nobody sells enough of."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    WaitOption,
    check_output,
    console,
    parse_date,
    reported_errors,
    write_table,
)
from cpfr.cli.progress import ProgressLog

TABLE_ROWS = 15  # cells shown on screen; the file has them all
EVIDENCE_ROWS = 5  # of which this many with their evidence spelt out

c2m_app = typer.Typer(
    help="C2M: demand gaps by attribute x price band (searches vs supply).", no_args_is_help=True
)


@c2m_app.command("gaps")
def gaps(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Write the ranked cells (.parquet or .csv).", show_default=False),
    ],
    partner: Annotated[
        str | None,
        typer.Option("--partner", help="Only the cells of this brand's categories, as aggregates."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of evidence (YYYY-MM-DD; default: last sales day)."),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Keep only the best N cells.")] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, help="Weeks of recent evidence.")] = 26,
    all_tiers: Annotated[
        bool, typer.Option("--all-tiers", help="One row per cell over all city tiers, not per tier.")
    ] = False,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Rank attribute x price-band cells where demand outruns supply, with the evidence."""
    from cpfr.c2m import find_gaps
    from cpfr.data.store import open_store

    with reported_errors():
        check_output(output)
        day = parse_date(as_of, "--as-of") if as_of is not None else None
        log = ProgressLog("c2m")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            result = find_gaps(store, as_of=day, partner_id=partner, weeks=weeks, by_tier=not all_tiers)
        if top is not None:
            result = result.head(top)
        write_table(result, output)
        log(f"wrote {len(result)} cells to {output}")
    shown = Table(title="Demand gaps: where searches outrun supply", title_justify="left")
    for column in (
        "rank",
        "category",
        "attribute",
        "price band",
        "tier",
        "score",
        "searches",
        "SKUs",
        "stock-outs",
    ):
        shown.add_column(
            column, justify="left" if column in ("category", "attribute", "price band") else "right"
        )
    top_rows = result.head(TABLE_ROWS).to_dict("records")
    for row in top_rows:
        stockout = row["stockout_rate"]
        shown.add_row(
            str(row["rank"]),
            str(row["category_name"]),
            f"{row['attribute']}={row['value']}",
            str(row["price_band"]),
            _tier(row["city_tier"]),
            f"{row['score']:.2f}",
            f"{row['searches']:,.0f}",
            str(row["n_skus"]),
            "-" if pd.isna(stockout) else f"{stockout:.0%}",
        )
    console.print(shown)
    for row in top_rows[:EVIDENCE_ROWS]:
        console.print(
            f"{row['rank']}. {row['category_name']}, {row['attribute']}={row['value']}, "
            f"{row['price_band']}, tier {_tier(row['city_tier'])}: {row['evidence']}",
            highlight=False,
        )


def _tier(tier: object) -> str:
    return "all" if pd.isna(tier) else str(int(tier))  # type: ignore[call-overload]
