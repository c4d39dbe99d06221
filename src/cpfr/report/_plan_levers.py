"""The plan report's levers: what trade-in subsidies add and where the next budget should go; C2M gaps.

:mod:`cpfr.tradein` and :mod:`cpfr.c2m` sit above the collaboration cycle, so the cycle does not
call them: ``cpfr plan`` gathers them after it with :func:`alliance_levers` (one domain call each)
and hands them to the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from cpfr.c2m.gaps import find_gaps
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.formatting import format_value
from cpfr.report.report import Chart, Column, Section, Table
from cpfr.tradein import estimate_uplift
from cpfr.tradein.budget import BudgetSplit, plan_budget
from cpfr.tradein.panel import SalesData

PLAN_BOOTSTRAP = 19


@dataclass(frozen=True)
class Levers:
    """Trade-in estimates, a budget split and C2M gaps for the plan (each None when not computed)."""

    uplift: pd.DataFrame | None = None
    allocation: BudgetSplit | None = None
    gaps: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the levers' tables for the plan's folder and workbook."""
        out: dict[str, pd.DataFrame] = {}
        if self.uplift is not None:
            out["tradein_uplift"] = self.uplift
        if self.allocation is not None:
            out["tradein_budget"] = self.allocation.cells
        if self.gaps is not None:
            out["c2m_gaps"] = self.gaps
        return out


def last_year_subsidy(sales: pd.DataFrame) -> float:
    """Return the subsidy paid over the last 365 days of ``sales``, yuan."""
    if sales.empty:
        return 0.0
    dates = pd.to_datetime(sales["date"])
    recent = sales[dates > dates.max() - pd.Timedelta(days=365)]
    return float((recent["subsidy_yuan"].fillna(0.0) * recent["units"]).sum())


def alliance_levers(
    store: Store, *, partner_id: str | None = None, progress: Callable[[str], None] | None = None
) -> Levers:
    """Estimate the trade-in effects, split last year's subsidy spend again, and find C2M gaps."""
    say = progress or (lambda _message: None)
    notes: list[str] = []
    say("trade-in: subsidy uplift, cannibalisation and pull-forward per category")
    data = SalesData.read(store, partner_id)
    uplift = estimate_uplift(store, partner_id=partner_id, n_boot=PLAN_BOOTSTRAP, data=data)
    allocation = None
    budget = last_year_subsidy(data.sales)
    if budget > 0 and uplift["uplift"].notna().any():
        say(f"trade-in: splitting {format_value(budget, 'yuan')} (last year's subsidy) over 12 months")
        try:
            allocation = plan_budget(store, budget, estimates=uplift, partner_id=partner_id, data=data)
        except InputError as error:
            notes.append(f"No subsidy budget split: {error}")
    gaps = None
    say("C2M: demand gaps by attribute and price band")
    try:
        gaps = find_gaps(store, partner_id=partner_id)
    except InputError as error:
        notes.append(f"No C2M gaps: {error}")
    return Levers(uplift=uplift, allocation=allocation, gaps=gaps, notes=tuple(notes))


def levers_sections(levers: Levers | None) -> list[Section]:
    """Return the trade-in and C2M sections (none when the plan did not compute the levers)."""
    if levers is None:
        return []
    sections = [_tradein_section(levers)]
    if levers.gaps is not None:
        sections.append(_gaps_section(levers.gaps))
    return sections


def _tradein_section(levers: Levers) -> Section:
    uplift = levers.uplift
    if uplift is None or uplift.empty:
        return Section("Trade-in subsidies", text="No category had a trade-in subsidy in the sales history.")
    known = uplift.dropna(subset=["uplift"])
    chart = Chart(
        "bar",
        "Subsidy effects by category: uplift of eligible models, cannibalisation of the others, dip after",
        known.assign(category=known["category_name"].fillna(known["category_id"])).rename(
            columns={"pull_forward_depth": "pull-forward dip"}
        ),
        "category",
        ("uplift", "cannibalisation", "pull-forward dip"),
        unit="percent",
        x_title="leaf category",
        y_title="relative change",
    )
    table = Table(
        "Subsidy effects (90 % intervals; net units take out pull-forward and cannibalisation)",
        uplift,
        (
            Column("category_name", "Category"),
            Column("control", "Identified by"),
            Column("uplift", "Uplift", "percent"),
            Column("uplift_low", "... low", "percent"),
            Column("uplift_high", "... high", "percent"),
            Column("cannibalisation", "Cannibalisation", "percent"),
            Column("pull_forward_depth", "Pull-forward dip", "percent"),
            Column("gross_incremental_units", "Gross units", "units"),
            Column("pull_forward_units", "Pulled forward", "units"),
            Column("cannibalised_units", "Cannibalised", "units"),
            Column("incremental_units", "Net units", "units"),
            Column("incremental_gmv", "Net GMV", "yuan"),
            Column("pre_trend_p", "Pre-trend p", "number"),
        ),
    )
    charts, tables = [chart], [table]
    headline: list[tuple[str, str] | tuple[str, str, str]] = [
        ("Net incremental GMV", format_value(float(known["incremental_gmv"].sum()), "yuan"))
    ]
    text = (
        "What trade-in subsidies added, category by category, separated from seasonality, festivals, "
        "price cuts and trend by a staggered difference in differences: provinces open and close a "
        "programme on their own days, so the same model is subsidised in one region and not in another "
        "on the same day. Net units take out the buyers who only came early (the dip after a programme "
        "closes) and the sales the category's unsubsidised models lost. A pre-trend p below 0.05 flags "
        "an estimate whose placebo check (no effect in the four weeks before opening) failed."
    )
    split = levers.allocation
    if split is not None:
        totals = split.totals()
        gain = (
            totals["incremental_gmv"] / totals["pro_rata_incremental_gmv"] - 1
            if totals["pro_rata_incremental_gmv"]
            else 0.0
        )
        by_category = (
            split.cells.groupby("category_name", as_index=False)[["spend", "pro_rata_spend"]]
            .sum()
            .rename(columns={"spend": "cpfr", "pro_rata_spend": "pro rata"})
        )
        charts.append(
            Chart(
                "bar",
                f"Next year's subsidy ({format_value(split.budget, 'yuan')}) by category: cpfr vs pro rata",
                by_category,
                "category_name",
                ("cpfr", "pro rata"),
                unit="yuan",
                x_title="leaf category",
                y_title="spend, ¥",
            )
        )
        headline.append(
            (
                "Budget split vs pro rata",
                format_value(totals["incremental_gmv"], "yuan"),
                f"{gain:+.1%} incremental GMV",
            )
        )
        text += (
            f"\n\nIf next year's budget is last year's subsidy ({format_value(split.budget, 'yuan')}), "
            "spending it where each yuan returns most adds "
            f"{format_value(totals['incremental_gmv'], 'yuan')} of GMV against "
            f"{format_value(totals['pro_rata_incremental_gmv'], 'yuan')} pro rata to last year's sales. "
            "`cpfr tradein allocate --budget ...` splits any budget and writes the curves."
        )
    return Section(
        "Trade-in subsidies",
        text=text,
        headline=tuple(headline),
        charts=tuple(charts),
        tables=tuple(tables),
        notes=levers.notes,
    )


def _gaps_section(gaps: pd.DataFrame) -> Section:
    columns = [
        Column(name, label, kind)
        for name, label, kind in (
            ("rank", "#", "units"),
            ("category_name", "Category", "text"),
            ("attribute", "Attribute", "text"),
            ("value", "Value", "text"),
            ("price_band", "Price band", "text"),
            ("city_tier", "City tier", "text"),
            ("score", "Score", "number"),
            ("evidence", "Evidence", "text"),
        )
        if name in gaps.columns
    ]
    return Section(
        "C2M: demand nobody serves yet",
        text=(
            "Attribute x price-band cells where demand outruns supply: consumers search and view them, "
            "the few SKUs there sell through or stock out, and the cell grows faster than its neighbours. "
            "A brief for a C2M product; `cpfr launch forecast --spec ...` forecasts the proposed spec."
        ),
        tables=(Table("Largest demand gaps", gaps.head(20), tuple(columns)),),
    )
