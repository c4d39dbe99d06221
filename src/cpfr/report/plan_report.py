"""The ``cpfr plan`` report: one offline HTML page over a CPFR cycle's results, written for planners.

The page reads top to bottom the way a planner works: an overview (what
needs attention, and which data are missing), the targets and the chance of
reaching each — with what *is* within reach where a target is not — then
exceptions, consensus, orders and KPIs. Codes stand beside their names
("Xiaomi (XIAOMI)"), money and percentages are formatted by
:func:`cpfr.formatting.format_value`, and the developer's details (forecast
model, stage timings, run ids) close the page in "About this run".

The target and collaboration sections are built in :mod:`cpfr.report._plan_targets`
and :mod:`cpfr.report._plan_sections`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpfr.collab.cycle import CycleResult
from cpfr.formatting import format_value
from cpfr.report._plan_common import TOP_ROWS, headline_targets, named, reachable_line, reason_words
from cpfr.report._plan_levers import Levers, levers_sections
from cpfr.report._plan_network import placement_section
from cpfr.report._plan_sections import (
    consensus_section,
    exception_section,
    kpi_section,
    orders_section,
    rankings_section,
)
from cpfr.report._plan_targets import target_sections
from cpfr.report.report import Column, Section, Table, write_report

__all__ = ["headline", "write_plan_report"]

ABOUT = "About this run"


def write_plan_report(
    result: CycleResult, path: Path, *, title: str = "CPFR plan", levers: Levers | None = None
) -> Path:
    """Write the cycle's report (and the levers, if given) to ``path``: HTML with inline charts, offline."""
    sections = [
        _overview(result),
        *target_sections(result),
        rankings_section(result),
        exception_section(result),
        consensus_section(result),
        orders_section(result),
        placement_section(result),
        *levers_sections(levers),
        kpi_section(result),
        _about(result),
    ]
    return write_report(path, title, sections, subtitle=f"Sales up to {result.as_of}", max_rows=TOP_ROWS)


def headline(result: CycleResult) -> list[tuple[str, str]]:
    """Return the figures a planner reads first as ``(label, value)``: chances, exceptions, orders.

    Each target's chance comes with what is within reach ("12% (50% chance of ¥2.20bn, 88% of target)"),
    so a chance near zero is never all a planner sees. The terminal prints these after ``cpfr plan``.
    """
    return [(label, f"{value} ({detail})" if detail else value) for label, value, detail in _cards(result)]


def _cards(result: CycleResult) -> list[tuple[str, str, str]]:
    cards: list[tuple[str, str, str]] = []
    for row in headline_targets(result.targets).to_dict("records"):
        label = f"P(reach) {result.names.targets.get(str(row['target_id']), row['target_id'])}"
        cards.append((label, format_value(row["probability"], "percent", digits=0), reachable_line(row)))
    found = result.exceptions
    cards.append(("exceptions", f"{len(found):,}", ""))
    if len(found):
        cards.append(("value at stake", format_value(float(found["value_yuan"].sum()), "yuan"), ""))
    if result.network_orders is not None:
        cards.append(("network orders today", f"{len(result.network_orders):,}", ""))
    return cards


def _overview(result: CycleResult) -> Section:
    return Section(
        "Overview",
        notes=tuple(result.notes),
        headline=tuple(_cards(result)),
        text="\n\n".join(_summary(result)),
    )


def _summary(result: CycleResult) -> list[str]:
    """Say in plain words what the plan found."""
    said = []
    targets = result.targets
    if not targets.empty and "probability" in targets:
        known = targets.dropna(subset=["probability"])
        likely = int((known["probability"] >= 0.5).sum())
        said.append(
            f"{len(targets):,} targets are running on {result.as_of}; {likely:,} of them "
            f"{'has' if likely == 1 else 'have'} at least even odds of being reached. Each target's "
            "chance, and the total within reach where it is out of reach, are under Targets."
        )
    found = result.exceptions
    if not found.empty:
        top = found.sort_values("value_yuan", ascending=False).iloc[0]
        said.append(
            f"{len(found):,} exceptions put {format_value(float(found['value_yuan'].sum()), 'yuan')} at "
            f"stake. The largest: {named(top['sku_id'], result.names.skus)} with "
            f"{named(top['partner_id'], result.names.partners)}, {reason_words(top['reason'])} "
            f"({format_value(float(top['value_yuan']), 'yuan')})."
        )
    if result.network_orders is None:
        said.append("Today's network orders were not planned in this run.")
    return said


def _about(result: CycleResult) -> Section:
    """Gather the developer's details: forecast model, run ids, stage timings and every note."""
    platform = result.platform
    accuracy = platform.accuracy
    lines = [
        f"Platform forecast: model {platform.model}, forecast run {platform.run_id}, "
        f"{platform.weekly[['sku_id', 'channel_id']].drop_duplicates().shape[0]:,} SKU x channel series.",
        f"Plan run: {result.run_id or 'not saved in the store'}; sales up to {result.as_of}.",
    ]
    if {"miss", "actual"} <= set(accuracy.columns) and accuracy["actual"].sum() > 0:
        wape = float(accuracy["miss"].sum() / accuracy["actual"].sum())
        lines.append(f"Platform forecast's backtest WAPE over every series: {format_value(wape, 'percent')}.")
    # The example is a partner of this report: a partner's own report names no other brand.
    example = next(iter(sorted(result.names.partners.items())), ("XIAOMI", "Xiaomi"))
    lines.append(
        f"Names stand beside the codes they belong to, as '{named(example[0], dict([example]))}'; a code "
        "shows alone where the store holds no name for it."
    )
    steps = pd.DataFrame(
        # Text with one decimal, so the column lines up ("6.0", not "6" under "5.9").
        {"stage": list(result.seconds), "seconds": [f"{value:.1f}" for value in result.seconds.values()]}
    )
    notes = pd.DataFrame({"note": result.notes})
    tables = [
        Table(
            "Time per stage",
            steps,
            (Column("stage", "Stage", "text"), Column("seconds", "Seconds", "text")),
        )
    ]
    if result.notes:
        tables.append(Table("Notes of the run", notes, (Column("note", "Note", "text"),)))
    return Section(ABOUT, text="\n\n".join(lines), tables=tuple(tables))
