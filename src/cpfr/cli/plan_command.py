"""``cpfr plan``: the whole CPFR cycle on a store, a report, a workbook and its tables.

With ``--partner P`` the whole cycle still runs and is saved in the store (one platform forecast
shared by every partner); the report, the workbook ``plan_P.xlsx`` and the Parquet tables in the
output folder are then built only from P's cut of the results
(:func:`cpfr.collab.partner_view.for_partner`), so the folder can be sent to P.
"""

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
        Path,
        typer.Option("--out", "-o", help="Folder for report.html, the workbook and the Parquet tables."),
    ] = Path("plan"),
    weeks: Annotated[int, typer.Option("--weeks", help="Future weeks planned.")] = 8,
    model: Annotated[
        str,
        typer.Option("--model", help="Models: 'default', 'auto' or names, comma separated (all forecasts)."),
    ] = "default",
    network: Annotated[
        bool, typer.Option("--network/--no-network", help="Also plan today's network orders (slowest step).")
    ] = True,
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner",
            help=(
                "Write the report, workbook (plan_PARTNER.xlsx) and tables with this partner's data only; "
                "the whole plan is still run and saved in the store."
            ),
        ),
    ] = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Run forecasts, targets and attainment, exceptions and consensus, orders and KPIs; write a report."""
    from cpfr.collab.cycle import run_cycle
    from cpfr.collab.partner_view import for_partner
    from cpfr.data.store import open_store
    from cpfr.report._plan_levers import alliance_levers
    from cpfr.report.plan_report import headline, write_plan_report
    from cpfr.report.workbook import write_workbook

    with reported_errors():
        if weeks < 1:
            raise InputError(f"--weeks {weeks}: expected a whole number >= 1")
        chosen = (
            {} if model == "default" else {"models": model_names(model), "network_models": model_names(model)}
        )
        started = perf_counter()
        with open_store(db, mode="write", wait_seconds=wait) as store:
            if partner is not None:  # before the minutes the cycle takes
                known = sorted(str(code) for code in store.read_table("partners")["partner_id"])
                if partner not in known:
                    listed = ", ".join(known) or "(none)"
                    raise InputError(f"--partner {partner!r}: unknown partner — expected one of {listed}")
            whole = run_cycle(
                store,
                weeks=weeks,
                network=network,
                progress=ProgressLog("plan"),
                now=dt.datetime.now(dt.UTC),
                **chosen,
            )
            levers_started = perf_counter()
            levers = alliance_levers(store, partner_id=partner, progress=ProgressLog("plan"))
            whole.seconds["levers"] = perf_counter() - levers_started
        # Everything below is built from this result only: with --partner, P's cut of the plan.
        result = whole if partner is None else for_partner(whole, partner)
        earlier = set(out.iterdir()) if out.is_dir() else set()
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
        if result.placement is not None:
            tables["placement_by_region"] = result.placement.by_region
        tables.update(levers.tables())
        for name, frame in tables.items():
            write_table(frame, out / f"{name}.parquet")
        title = (
            "CPFR plan" if partner is None else f"CPFR plan for {result.names.partners.get(partner, partner)}"
        )
        report = write_plan_report(result, out / "report.html", title=title, levers=levers)
        workbook = write_workbook(out / ("plan.xlsx" if partner is None else f"plan_{partner}.xlsx"), tables)
        written = {report, workbook, *(out / f"{name}.parquet" for name in tables)}
    for label, value in headline(result):
        console.print(f"  {label:<34} {value}", highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    left = sorted(path.name for path in earlier - written)
    if partner is not None and left:
        err_console.print(
            f"note: {out} also holds files this run did not write ({', '.join(left)}): they may hold other "
            f"partners' data — send {partner} only report.html, {workbook.name} and this run's tables.",
            highlight=False,
            soft_wrap=True,
        )
    steps = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in result.seconds.items())
    console.print(
        f"planned as of {result.as_of} in {perf_counter() - started:.0f} s ({steps})\n"
        f"saved in the store as plan run {result.run_id}; report: {report}  workbook: {workbook}  "
        f"tables: {out}/*.parquet" + (f" ({partner}'s rows only)" if partner else ""),
        highlight=False,
        soft_wrap=True,
    )
