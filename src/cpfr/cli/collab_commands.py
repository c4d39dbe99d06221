"""``cpfr collab``: partner forecasts, exceptions, consensus and overrides; ``cpfr report kpis``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    DbOption,
    TableOutputOption,
    WaitOption,
    acting_user,
    check_output,
    console,
    err_console,
    model_names,
    parse_date,
    reported_errors,
    write_table,
)
from cpfr.exceptions import InputError

if TYPE_CHECKING:
    import pandas as pd

    from cpfr.collab.compare import PlatformForecast
    from cpfr.data.store import Store

collab_app = typer.Typer(
    help="The CPFR cycle: partner forecasts, exceptions, consensus with an audit trail.", no_args_is_help=True
)
report_app = typer.Typer(help="Reports on the partnerships.", no_args_is_help=True)

PartnerOption = Annotated[str, typer.Option("--partner", help="partner_id, e.g. XIAOMI.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Arrangement overrides per partner (.json or .yaml).")
]
WeeksOption = Annotated[int, typer.Option("--weeks", help="Future weeks compared.")]
ModelOption = Annotated[
    str,
    typer.Option("--model", help="Platform's weekly models: 'default', 'auto' or names, comma separated."),
]
OutputOption = TableOutputOption


@collab_app.command("submit")
def submit(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help=".csv, .xlsx or .parquet: sku_id, channel_id, ds, units (or unique_id, ds, y).",
        ),
    ],
    partner: PartnerOption,
    config: ConfigOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Store a partner's weekly forecast after checking it against the table and the arrangement."""
    from cpfr.collab.arrangement import arrangement_for
    from cpfr.collab.submit import submit_partner_forecast
    from cpfr.data.store import open_store

    with reported_errors(), open_store(db, mode="write", wait_seconds=wait) as store:
        result = submit_partner_forecast(store, path, arrangement_for(store, partner, config))
    console.print(
        f"stored {result.rows:,} forecasts of {result.partner_id} ({result.skus:,} SKUs, "
        f"{result.weeks} weeks {result.first_week} .. {result.last_week}; "
        f"{result.replaced:,} replaced earlier ones)",
        highlight=False,
        soft_wrap=True,
    )


@collab_app.command("exceptions")
def exceptions(
    partner: PartnerOption,
    weeks: WeeksOption = 8,
    model: ModelOption = "default",
    config: ConfigOption = None,
    top: Annotated[int, typer.Option("--top", help="Rows shown.")] = 20,
    output: OutputOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Rank where the platform's and the partner's plans disagree (reason codes, value at stake)."""
    from cpfr.cli.render import format_amount
    from cpfr.collab.arrangement import arrangement_for
    from cpfr.collab.cycle import Names
    from cpfr.collab.exceptions import find_exceptions
    from cpfr.data.store import open_store

    with reported_errors():
        check_output(output)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            arrangement = arrangement_for(store, partner, config)
            platform = _platform(store, weeks, model, partner)
            found = find_exceptions(store, arrangement, platform)
            names = Names.of(store, partner)
        if output is not None:
            write_table(found, output)
    # A narrow table (names beside codes, money formatted) and each row's explanation below it.
    shown = found.head(top).assign(
        product=lambda frame: frame["sku_id"].map(lambda code: names.skus.get(str(code), "")),
        value=lambda frame: frame["value_yuan"].map(lambda amount: format_amount(float(amount), "gmv_yuan")),
    )
    headers = {"sku_id": "sku", "channel_id": "channel", "ds": "week"}
    headers |= {"platform_units": "platform units", "partner_units": "partner units"}
    _print(
        shown.rename(columns=headers),
        f"{partner}: {len(found):,} exceptions, by value at stake",
        ["rank", "reason", "sku", "product", "channel", "week", "platform units", "partner units", "value"],
    )
    for row in shown.to_dict("records"):
        if row.get("detail"):
            console.print(f"  {row['rank']}. {row['detail']}", highlight=False, soft_wrap=True)
    if len(found):
        counts = found["reason"].value_counts()
        err_console.print(", ".join(f"{reason} {count}" for reason, count in counts.items()), highlight=False)


@collab_app.command("consensus")
def consensus(
    partner: PartnerOption,
    weeks: WeeksOption = 8,
    model: ModelOption = "default",
    config: ConfigOption = None,
    orders: Annotated[
        Path | None,
        typer.Option("--orders", help="Also write the order forecast derived from the consensus."),
    ] = None,
    output: OutputOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Combine both sides' forecasts by measured accuracy, overrides applied; derive the order forecast."""
    from cpfr.collab.arrangement import arrangement_for
    from cpfr.collab.consensus import consensus_forecast, order_forecast
    from cpfr.data.store import open_store
    from cpfr.inventory.store_plan import latest_stock

    with reported_errors():
        for path in (output, orders):
            check_output(path)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            arrangement = arrangement_for(store, partner, config)
            platform = _platform(store, weeks, model, partner)
            table = consensus_forecast(store, arrangement, platform)
            import pandas as pd

            stock = latest_stock(store, pd.Timestamp(platform.as_of), partner_id=partner)
            planned = order_forecast(table, stock)
        if output is not None:
            write_table(table, output)
        if orders is not None:
            write_table(planned, orders)
    weekly = table.groupby("ds")[["platform", "partner", "consensus"]].sum().reset_index()
    weekly["orders"] = weekly["ds"].map(planned.groupby("ds")["order"].sum()).fillna(0)
    _print(weekly, f"{partner}: consensus and order forecast by week (units)", list(weekly.columns))
    weight = table.loc[table["partner"].notna() & table["platform"].notna(), "weight_platform"]
    err_console.print(
        f"platform weight {weight.mean():.2f} (partner {1 - weight.mean():.2f}); "
        f"{int(table['overridden'].sum())} overridden cells",
        highlight=False,
    )


@collab_app.command("override")
def override(
    partner: PartnerOption,
    sku: Annotated[str, typer.Option("--sku", help="sku_id.")],
    channel: Annotated[str, typer.Option("--channel", help="channel_id.")],
    week: Annotated[str, typer.Option("--week", help="Monday of the week, YYYY-MM-DD.")],
    units: Annotated[float, typer.Option("--units", help="The consensus units for that week.")],
    why: Annotated[str, typer.Option("--why", help="Why: the reason kept in the audit trail.")],
    who: Annotated[
        str | None,
        typer.Option(
            "--who",
            help="Who changes it: checked against the acting user ($CPFR_USER, else the login), "
            "which is what the trail records.",
        ),
    ] = None,
    model: ModelOption = "default",
    config: ConfigOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Override one consensus cell; the change is kept in the audit trail (consensus_overrides)."""
    from cpfr.collab.arrangement import arrangement_for
    from cpfr.collab.consensus import consensus_forecast, record_override
    from cpfr.data.store import open_store

    with reported_errors():
        day = parse_date(week, "--week")
        user = acting_user()
        if who is not None and who.strip() != user:
            raise InputError(
                f"--who {who!r} is not the acting user {user!r}: the trail records who runs the command "
                f"(set $CPFR_USER to your planner id)"
            )
        if not why.strip():
            raise InputError("--why is required: every override is audited")
        with open_store(db, mode="write", wait_seconds=wait) as store:
            arrangement = arrangement_for(store, partner, config)
            platform = _platform(store, 8, model, partner)
            table = consensus_forecast(store, arrangement, platform)
            row = record_override(
                store,
                arrangement,
                table,
                sku_id=sku,
                channel_id=channel,
                week=day,
                units=units,
                who=user,
                why=why,
            )
    console.print(
        f"{row['override_id']}: {sku} {channel} week of {day}: {row['old_units']:,.1f} → {units:,.1f} "
        f"by {user} ({why})",
        highlight=False,
        soft_wrap=True,
    )


@report_app.command("kpis")
def kpis(
    partner: Annotated[str | None, typer.Option("--partner", help="One partner (default: all).")] = None,
    model: ModelOption = "default",
    output: OutputOption = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Forecast accuracy and bias by side, fill rate, in-stock rate, turnover days, target attainment."""
    from cpfr.collab.arrangement import arrangements
    from cpfr.collab.kpis import partner_kpis
    from cpfr.data.store import open_store

    with reported_errors():
        check_output(output)
        with open_store(db, mode="read", wait_seconds=wait) as store:
            known = arrangements(store)
            if partner is not None and partner not in known:
                raise InputError(f"--partner {partner!r}: unknown (partners: {', '.join(sorted(known))})")
            import pandas as pd

            table = pd.concat(
                [
                    partner_kpis(store, name, _platform(store, 8, model, name))
                    for name in ([partner] if partner else sorted(known))
                ]
            )
        if output is not None:
            write_table(table, output)
    shown = table.assign(
        value=[
            f"{v:.1%}" if unit == "share" else f"{v:,.1f}"
            for v, unit in zip(table["value"], table["unit"], strict=True)
        ]
    )
    _print(shown, "KPIs", ["partner_id", "kpi", "side", "value", "unit"])


def _platform(store: Store, weeks: int, model: str, partner: str) -> PlatformForecast:
    """Return the platform's view of the partner's SKUs: the latest plan's forecast, else a new one."""
    from cpfr.collab.results import current_platform_forecast

    if weeks < 1:
        raise InputError(f"--weeks {weeks}: expected a whole number >= 1")
    with console.status(f"the platform's forecast of {partner}'s SKUs…"):
        return current_platform_forecast(
            store,
            partner_id=partner,
            weeks=weeks,
            models=None if model == "default" else model_names(model),
            say=lambda message: err_console.print(f"note: {message}", highlight=False, soft_wrap=True),
        )


def _print(frame: pd.DataFrame, title: str, columns: list[str]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in frame[columns].to_dict("records"):
        table.add_row(*(_cell(row[column]) for column in columns))
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:,.1f}"
    if hasattr(value, "date") and not isinstance(value, dt.date | str):
        return str(value.date())
    return "" if value is None else str(value)
