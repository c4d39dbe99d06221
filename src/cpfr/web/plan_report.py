"""The ``cpfr plan`` report: one offline HTML page over a CPFR cycle's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cpfr.collab.cycle import CycleResult
from cpfr.web.report import Chart, Section, format_value, write_report

TOP_ROWS = 25


def write_plan_report(result: CycleResult, path: Path, *, title: str = "CPFR plan") -> Path:
    """Write the cycle's report to ``path`` (HTML with inline charts; opens offline)."""
    sections = [
        _overview(result),
        *_target_sections(result),
        _rankings_section(result),
        _exception_section(result),
        _consensus_section(result),
        _orders_section(result),
        _kpi_section(result),
    ]
    return write_report(path, title, sections, subtitle=f"sales up to {result.as_of}", max_rows=TOP_ROWS)


def headline(result: CycleResult) -> list[tuple[str, str]]:
    """Return the figures a planner reads first: attainment chances, exceptions, orders."""
    cards: list[tuple[str, str]] = []
    targets = result.targets
    if "probability" in targets:
        for row in targets.dropna(subset=["probability"]).sort_values("target").tail(4).to_dict("records"):
            cards.append((f"P(reach {row['target_id']})", f"{row['probability']:.0%}"))
    cards.append(("exceptions", f"{len(result.exceptions):,}"))
    if len(result.exceptions):
        cards.append(("value at stake", format_value(float(result.exceptions["value_yuan"].sum()), "yuan")))
    if result.network_orders is not None:
        cards.append(("network orders today", f"{len(result.network_orders):,}"))
    return cards


def _overview(result: CycleResult) -> Section:
    steps = pd.DataFrame(
        {"step": list(result.seconds), "seconds": [round(v, 1) for v in result.seconds.values()]}
    )
    text = f"Platform forecast: {result.platform.model} (run {result.platform.run_id}). " + (
        " ".join(result.notes) if result.notes else ""
    )
    return Section(
        "Overview", text=text, headline=tuple(headline(result)), tables=(("time per step", steps),)
    )


def _target_sections(result: CycleResult) -> list[Section]:
    targets = result.targets
    if targets.empty:
        return [Section("Targets", text="No target runs on the last sales day.")]
    shown = targets[
        [
            column
            for column in (
                "target_id",
                "metric",
                "target",
                "actual",
                "target_to_date",
                "pace",
                "projected_at_pace",
                "probability",
                "final_q10",
                "final_q90",
                "uplift_for_50",
                "uplift_for_80",
            )
            if column in targets
        ]
    ]
    charts = []
    if "probability" in targets:
        chances = targets.dropna(subset=["probability"])[["target_id", "probability"]]
        charts.append(
            Chart("bar", "P(final total >= target)", chances, "target_id", "probability", unit="percent")
        )
    sections = [
        Section(
            "Targets: tracking and attainment", charts=tuple(charts), tables=(("running targets", shown),)
        )
    ]
    for row in targets.sort_values("target", ascending=False).head(3).to_dict("records"):
        target_id = str(row["target_id"])
        unit = "yuan" if row["metric"] == "gmv_yuan" else "number"
        gap = result.gaps[
            (result.gaps["target_id"] == target_id) & (result.gaps["dimension"] == "category_id")
        ]
        steps = pd.concat(
            [
                pd.DataFrame(
                    {"label": ["target to date"], "value": [row["target_to_date"]], "kind": ["total"]}
                ),
                pd.DataFrame({"label": gap["member"], "value": gap["gap"], "kind": "delta"}),
                pd.DataFrame({"label": ["actual"], "value": [row["actual"]], "kind": ["total"]}),
            ],
            ignore_index=True,
        )
        charts = [Chart("waterfall", "gap to date by category", steps, "label", "value", unit=unit)]
        if target_id in result.finals:
            totals = pd.DataFrame({"final": result.finals[target_id]})
            charts.append(
                Chart(
                    "histogram",
                    "distribution of the final total",
                    totals,
                    "final",
                    unit=unit,
                    marker=float(row["target"]),
                    marker_label="target",
                )
            )
        by_channel = result.gaps[
            (result.gaps["target_id"] == target_id) & (result.gaps["dimension"] == "channel_id")
        ]
        sections.append(
            Section(
                f"{target_id}",
                text=str(row["description"]),
                headline=(
                    ("target", format_value(float(row["target"]), unit)),
                    ("actual to date", format_value(float(row["actual"]), unit)),
                    ("pace", f"{row['pace']:.0%}"),
                    (
                        "P(reach)",
                        f"{row['probability']:.0%}" if not pd.isna(row.get("probability", np.nan)) else "–",
                    ),
                ),
                charts=tuple(charts),
                tables=(("gap to date by channel", by_channel.drop(columns=["target_id", "dimension"])),),
            )
        )
    return sections


def _rankings_section(result: CycleResult) -> Section:
    ranked = result.rankings
    if ranked.empty:
        return Section("Price bands", text="No promotion has ended yet.")
    event = str(ranked["event_id"].iloc[0])
    leaders = ranked[ranked["rank_gmv"] == 1][["band", "partner_id", "gmv_yuan", "share_gmv"]]
    chart = Chart(
        "bar",
        f"{event}: GMV share of the leading brand per price band",
        leaders,
        "band",
        "share_gmv",
        unit="percent",
    )
    table = ranked[["band", "partner_id", "units", "gmv_yuan", "share_gmv", "rank_gmv", "rank_units"]]
    return Section(f"Price bands: {event}", charts=(chart,), tables=(("brands by band", table),))


def _exception_section(result: CycleResult) -> Section:
    found = result.exceptions
    if found.empty:
        return Section("Exceptions", text="No exceptions.")
    counts = (
        found.groupby("reason").agg(count=("rank", "size"), value_yuan=("value_yuan", "sum")).reset_index()
    )
    chart = Chart("bar", "value at stake by reason", counts, "reason", "value_yuan", unit="yuan")
    top = found.sort_values("value_yuan", ascending=False).head(TOP_ROWS)
    return Section(
        "Exceptions",
        text="Where the platform's and the partners' plans disagree, ranked by value at stake.",
        charts=(chart,),
        tables=(("by reason", counts), ("top exceptions", top.drop(columns=["rank"]))),
    )


def _consensus_section(result: CycleResult) -> Section:
    agreed = result.consensus
    if agreed.empty:
        return Section("Consensus", text="No forecasts to combine.")
    weekly = agreed.groupby("ds")[["platform", "partner", "consensus"]].sum().reset_index()
    chart = Chart("line", "all partners, units per week", weekly, "ds", ("platform", "partner", "consensus"))
    both = agreed.dropna(subset=["platform", "partner"])
    weights = both.groupby("partner_id")["weight_platform"].mean().rename("platform weight").reset_index()
    return Section(
        "Consensus",
        text="Each side weighted by its measured accuracy (Bates & Granger); overrides are audited.",
        charts=(chart,),
        tables=(("weights", weights),),
    )


def _orders_section(result: CycleResult) -> Section:
    charts, tables = [], []
    planned = result.order_forecast
    if not planned.empty:
        weekly = planned.groupby("ds")["order"].sum().reset_index()
        charts.append(Chart("bar", "order forecast to the partners, units per week", weekly, "ds", "order"))
        tables.append(
            (
                "order forecast by partner and week",
                planned.groupby(["partner_id", "ds"])["order"].sum().reset_index(),
            )
        )
    if result.network_orders is not None and not result.network_orders.empty:
        orders = result.network_orders
        summary = orders.groupby(["kind", "stage"]).agg(
            orders=("quantity", "size"), units=("quantity", "sum")
        )
        tables.append(("today's network orders", summary.reset_index()))
        tables.append(("largest orders", orders.sort_values("quantity", ascending=False).head(TOP_ROWS)))
    return Section("Replenishment", charts=tuple(charts), tables=tuple(tables))


def _kpi_section(result: CycleResult) -> Section:
    kpis = result.kpis
    if kpis.empty:
        return Section("KPIs", text="No KPIs.")
    accuracy = kpis[kpis["kpi"] == "forecast WAPE"].assign(label=lambda f: f["partner_id"] + " " + f["side"])
    chart = Chart("bar", "forecast WAPE by partner and side", accuracy, "label", "value", unit="percent")
    return Section("KPIs", charts=(chart,), tables=(("KPIs", kpis),))
