"""``cpfr targets``: decompose, track, attainment probability and price-band rankings."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
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
    json_text,
    parse_date,
    reported_errors,
    write_table,
)
from cpfr.cli.flags import flag_names
from cpfr.cli.render import format_amount
from cpfr.exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

    from cpfr.targets.tracking import TargetTracking

targets_app = typer.Typer(
    help="Alliance targets: decomposition, tracking, attainment probability, price-band rankings.",
    no_args_is_help=True,
)

OutputOption = TableOutputOption
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Last day of known sales, YYYY-MM-DD (default: the last).")
]


@targets_app.command("decompose")
def decompose(
    target_id: Annotated[str, typer.Argument(metavar="TARGET", help="A target_id of the store.")],
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override", help="Pin a slice: dimension=value[,dimension=value]:amount (repeatable)."
        ),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Dimensions to show, comma separated.")] = "month",
    output: OutputOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Spread TARGET over month x category x channel x city tier (exact to the yuan), with overrides."""
    from cpfr.data.store import open_store
    from cpfr.targets.decompose import Override, decompose_target

    with reported_errors():
        check_output(output)
        with flag_names(override="--override"):
            overrides = [Override.parse(text) for text in override or []]
        with open_store(db, mode="read", wait_seconds=wait) as store:
            plan = decompose_target(store, target_id, overrides=overrides)
        table = plan.by(*_dimensions(by))
        if output is not None:
            write_table(plan.cells, output)
    shown = Table(title=f"{plan.scope.description}: {format_amount(plan.total, plan.scope.metric)}")
    for column in table.columns:
        shown.add_column(column, justify="right" if column == "target" else "left")
    for row in table.itertuples(index=False):
        *keys, value = row
        shown.add_row(*(str(key) for key in keys), format_amount(value, plan.scope.metric))
    console.print(shown)
    console.print(
        f"mix of {plan.reference[0]} .. {plan.reference[1]}; {len(plan.cells):,} cells sum to "
        f"{plan.total:,}" + (f" → {output}" if output else ""),
        highlight=False,
    )


@targets_app.command("track")
def track(
    target_id: Annotated[str, typer.Argument(metavar="TARGET", help="A target_id of the store.")],
    as_of: AsOfOption = None,
    by: Annotated[str, typer.Option("--by", help="Attribute the gap by this dimension.")] = "category_id",
    output: OutputOption = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write an HTML page with the gap's waterfall chart.")
    ] = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Actual against TARGET to date: run rates, projection, and the gap by category, channel, tier, month."""
    from cpfr.data.store import open_store
    from cpfr.targets.decompose import decompose_target
    from cpfr.targets.tracking import track_target

    with reported_errors():
        check_output(output)
        day = _day(as_of)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            tracking = track_target(store, decompose_target(store, target_id), as_of=day)
        gap = tracking.gap_by(by)
        if output is not None:
            write_table(gap, output)
        if report is not None:
            _waterfall_page(tracking, gap, by, report)
    metric = tracking.plan.scope.metric
    summary = tracking.summary
    head = Table(title=f"{tracking.plan.scope.description} — as of {tracking.as_of}", title_justify="left")
    head.add_column("measure")
    head.add_column("value", justify="right")
    for key, value in summary.items():
        shown = (
            f"{value:.1%}"
            if key in ("attainment", "pace")
            else f"{value:,.0f}"
            if key.startswith("days")
            else format_amount(value, metric)
        )
        head.add_row(key.replace("_", " "), shown)
    console.print(head)
    table = Table(title=f"gap to date by {by}", title_justify="left")
    for column in (by, "target to date", "actual", "gap", "share of gap"):
        table.add_column(column, justify="left" if column == by else "right")
    for row in gap.to_dict("records"):
        table.add_row(
            str(row[by]),
            format_amount(row["target_to_date"], metric),
            format_amount(row["actual"], metric),
            format_amount(row["gap"], metric),
            f"{row['share_of_gap']:.1%}",
        )
    console.print(table)


@targets_app.command("attainment")
def attainment(
    target_id: Annotated[str, typer.Argument(metavar="TARGET", help="A target_id of the store.")],
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """P(final total >= TARGET), what is within reach, and the uplift needed for 50 % / 80 %.

    Days after the store's last day of sales (an --as-of past it) are forecast, not counted as zero.
    """
    from cpfr.data.store import open_store
    from cpfr.targets.attainment import target_attainment

    with reported_errors():
        day = _day(as_of)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            result = target_attainment(store, target_id, as_of=day)
            metric = str(store.read_table("targets").set_index("target_id").loc[target_id, "metric"])
    record = result.record
    payload = {
        "target_id": result.target_id,
        "as_of": result.as_of.isoformat(),
        "sales_through": result.sales_through.isoformat(),
        "target": result.target,
        "actual": result.actual,
        "probability": result.probability,
        "probability_from_sales": result.probability_from_sales,
        "expected_total": result.expected_total,
        "quantiles": {f"q{level:g}": value for level, value in result.quantiles.items()},
        "reachable_total": {f"p{level:g}": value for level, value in result.reachable_total.items()},
        "share_probability": {f"s{share:g}": value for share, value in result.share_probability.items()},
        "uplift_needed": {f"p{level:g}": value for level, value in result.uplift_needed.items()},
        "record": None
        if record is None
        else {"targets": record.targets, "log_ratio": record.log_ratio, "spread": record.spread},
        "samples": len(result.totals),
    }
    if as_json:
        typer.echo(json_text(payload))
        return
    table = Table(title=f"{target_id} as of {result.as_of}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("P(reach target)", f"{result.probability:.1%}")
    if record is not None:
        table.add_row("  from the sales forecast alone", f"{result.probability_from_sales:.1%}")
    for share, chance in result.share_probability.items():
        table.add_row(f"P(reach {share:.0%} of target)", f"{chance:.1%}")
    for label, value in (("target", result.target), ("actual to date", result.actual)):
        table.add_row(label, format_amount(value, metric))
    for level, value in result.reachable_total.items():
        table.add_row(
            f"final reached with {level:.0%} probability",
            f"{format_amount(value, metric)} ({value / result.target:.0%} of target)"
            if result.target
            else "",
        )
    table.add_row("expected final", format_amount(result.expected_total, metric))
    for level, value in result.quantiles.items():
        table.add_row(f"final, {level:.0%} quantile", format_amount(value, metric))
    for level, value in result.uplift_needed.items():
        table.add_row(f"uplift on the rest for {level:.0%}", f"{value:+.1%}")
    console.print(table)
    if result.sales_through < result.as_of:
        console.print(
            f"sales end on {result.sales_through}: the days after it are forecast, not counted as zero",
            highlight=False,
        )
    if record is not None:
        above = math.expm1(record.log_ratio)
        side = "above" if above >= 0 else "below"
        console.print(
            f"weighed by the alliance's record: its {record.targets} ended targets were on average "
            f"{abs(above):.0%} {side} what was sold (spread {record.spread:.0%})",
            highlight=False,
        )


@targets_app.command("rankings")
def rankings(
    event: Annotated[str | None, typer.Option("--event", help="An event_id, e.g. D11-2025.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day, YYYY-MM-DD.")] = None,
    bands: Annotated[str, typer.Option("--bands", help="Band edges in yuan.")] = "2000,3000,4000",
    price: Annotated[str, typer.Option("--price", help="'paid' (average in the period) or 'list'.")] = "paid",
    all_channels: Annotated[
        bool, typer.Option("--all-channels", help="One ranking over all channels, not one per channel.")
    ] = False,
    top: Annotated[int, typer.Option("--top", help="Rows shown per band.")] = 3,
    output: OutputOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Rank SKUs and brands within price bands by units and GMV over an event or a period."""
    from cpfr.data.store import open_store
    from cpfr.targets.rankings import event_window, price_band_rankings

    with reported_errors():
        check_output(output)
        edges = _numbers(bands, "--bands")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            if event is not None:
                first, last = event_window(store, event)
            elif start is not None and end is not None:
                first, last = parse_date(start, "--start"), parse_date(end, "--end")
            else:
                raise InputError("give --event, or --start and --end")
            with flag_names(bands="--bands", price="--price"):
                result = price_band_rankings(
                    store,
                    start=first,
                    end=last,
                    bands=edges,
                    by_channel=not all_channels,
                    price=price,
                    label=event or "",
                )
        if output is not None:
            write_table(result.skus, output)
    within = ["band"] if all_channels else ["band", "channel_id"]
    table = Table(title=f"price bands, {result.label} ({result.start} .. {result.end})", title_justify="left")
    for column in (*within, "brand", "units", "GMV", "share of band GMV", "rank"):
        table.add_column(column, justify="left" if column in (*within, "brand") else "right")
    for row in result.brands.groupby(within, sort=False).head(top).to_dict("records"):
        table.add_row(
            *(str(row[key]) for key in within),
            str(row["partner_id"]),
            f"{row['units']:,}",
            format_amount(row["gmv_yuan"]),
            f"{row['share_gmv']:.1%}",
            str(row["rank_gmv"]),
        )
    console.print(table)


def _waterfall_page(tracking: TargetTracking, gap: pd.DataFrame, by: str, path: Path) -> None:
    """Write the tracking as an offline page: the gap to date from target to actual, by ``by``."""
    import pandas as pd

    from cpfr.report.report import Chart, Section, format_value, write_report

    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--report {path}: expected an .html file")
    summary, unit = tracking.summary, "yuan" if tracking.plan.scope.metric == "gmv_yuan" else "number"
    steps = pd.concat(
        [
            pd.DataFrame(
                {"step": ["target to date"], "value": [summary["target_to_date"]], "kind": ["total"]}
            ),
            pd.DataFrame({"step": gap[by].astype(str), "value": gap["gap"], "kind": "delta"}),
            pd.DataFrame({"step": ["actual"], "value": [summary["actual"]], "kind": ["total"]}),
        ],
        ignore_index=True,
    )
    cards = (
        ("target", format_value(summary["target"], unit)),
        ("actual", format_value(summary["actual"], unit)),
        ("gap to date", format_value(summary["gap_to_date"], unit)),
        ("pace", f"{summary['pace']:.0%}"),
    )
    section = Section(
        f"{tracking.plan.scope.description} — as of {tracking.as_of}",
        headline=cards,
        charts=(Chart("waterfall", f"gap to date by {by}", steps, "step", "value", unit=unit),),
        tables=((f"gap by {by}", gap),),
    )
    write_report(path, f"Tracking {tracking.plan.scope.target_id}", [section])


def _dimensions(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _day(text: str | None) -> dt.date | None:
    return None if text is None else parse_date(text, "--as-of")


def _numbers(text: str, flag: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"{flag} {text!r}: expected numbers separated by commas") from None
