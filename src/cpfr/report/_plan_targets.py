"""The plan report's targets: the chance of reaching each, what is within reach, and where the gap is."""

from __future__ import annotations

import pandas as pd

from cpfr.collab.cycle import CycleResult
from cpfr.formatting import format_value, metric_unit
from cpfr.report._plan_common import (
    Row,
    headline_targets,
    name_of,
    named,
    named_column,
    reachable_columns,
    reachable_line,
    share_columns,
)
from cpfr.report.report import Chart, Column, Section, Table


def target_sections(result: CycleResult) -> list[Section]:
    """Return the targets overview, then a section for each headline target."""
    targets = result.targets
    if targets.empty:
        return [Section("Targets", text="No target runs on the last sales day.")]
    sections = [_overview(result)]
    for row in headline_targets(targets).to_dict("records"):
        sections.append(_target_section(result, row))
    return sections


def _overview(result: CycleResult) -> Section:
    targets = result.targets.copy()
    targets["name"] = [result.names.targets.get(str(code), str(code)) for code in targets["target_id"]]
    targets["shown"] = named_column(targets["target_id"], result.names.targets)
    targets["unit"] = [metric_unit(str(metric)) for metric in targets["metric"]]
    shares = share_columns(targets)
    reachable = reachable_columns(targets)
    charts = []
    if "probability" in targets:
        # The chance of the target itself and, where the table has them, of most of it.
        chances = targets.dropna(subset=["probability"]).sort_values("probability", ascending=False)
        series = {"probability": "the target"} | {
            column: f"{share}% of it" for share, column in shares.items()
        }
        drawn = chances[["name", *series]].rename(columns=series)
        charts.append(
            Chart(
                "bar",
                "Chance of reaching each target",
                drawn,
                "name",
                tuple(series.values()),
                unit="percent",
                x_title="target",
                y_title="probability of reaching, %",
            )
        )
    columns = [
        Column("shown", "Target"),
        Column("target", "Goal", unit_from="unit"),
        Column("actual", "Actual to date", unit_from="unit"),
        Column("pace", "Pace", "percent"),
    ]
    if "probability" in targets:
        columns.append(Column("probability", "P(reach)", "percent"))
    columns += [Column(column, f"P(reach {share}%)", "percent") for share, column in shares.items()]
    if reachable:
        columns += [
            Column(column, f"Final with {level}% chance", unit_from="unit")
            for level, column in reachable.items()
        ]
    else:
        columns += [
            Column(name, header, unit_from="unit")
            for name, header in (
                ("expected_total", "Expected final"),
                ("final_q10", "Final with 90% chance"),
            )
            if name in targets
        ]
    if "uplift_for_50" in targets:
        columns.append(Column("uplift_for_50", "Uplift needed for even odds", "percent"))
    table = Table(
        "Running targets",
        targets.sort_values(["partner_id", "target"], ascending=[True, False]),
        tuple(columns),
        note=(
            "Pace: the share of the target sold over the share of the period gone (below 100%: behind a "
            "straight line to the goal). Uplift: how much more than forecast the days left must sell."
        ),
    )
    return Section("Targets: tracking and attainment", charts=tuple(charts), tables=(table,))


def _target_section(result: CycleResult, row: Row) -> Section:
    target_id = str(row["target_id"])
    unit = metric_unit(str(row["metric"]))
    amount = "GMV, ¥" if unit == "yuan" else "units"
    gaps = result.gaps[result.gaps["target_id"] == target_id]
    by_category = gaps[gaps["dimension"] == "category_id"]
    steps = pd.concat(
        [
            pd.DataFrame({"label": ["target to date"], "value": [row["target_to_date"]], "kind": ["total"]}),
            pd.DataFrame(
                {
                    "label": [name_of(code, result.names.categories) for code in by_category["member"]],
                    "value": by_category["gap"],
                    "kind": "delta",
                }
            ),
            pd.DataFrame({"label": ["actual to date"], "value": [row["actual"]], "kind": ["total"]}),
        ],
        ignore_index=True,
    )
    charts = [
        Chart(
            "waterfall",
            "From target to date to actual, by category",
            steps,
            "label",
            "value",
            unit=unit,
            x_title="category",
            y_title=amount,
            note="Each category's bar is its actual to date less its share of the target to date.",
        )
    ]
    if target_id in result.finals:
        charts.append(
            Chart(
                "histogram",
                "Simulated final totals",
                pd.DataFrame({"final": result.finals[target_id]}),
                "final",
                unit=unit,
                x_title=f"final total, {amount}",
                y_title="simulated outcomes",
                marker=float(row["target"]),
                marker_label="target",
            )
        )
    by_channel = gaps[gaps["dimension"] == "channel_id"].assign(
        channel=lambda frame: named_column(frame["member"], result.names.channels)
    )
    channel_table = Table(
        "Gap to date by channel",
        by_channel.sort_values("gap"),
        (
            Column("channel", "Channel"),
            Column("target_to_date", "Target to date", unit),
            Column("actual", "Actual", unit),
            Column("gap", "Gap", unit),
            Column("share_of_gap", "Share of the gap", "percent"),
        ),
    )
    title = result.names.targets.get(target_id) or str(row.get("description") or target_id)
    return Section(
        title,
        text=_target_text(result, row),
        headline=(
            ("target", format_value(row["target"], unit), ""),
            ("actual to date", format_value(row["actual"], unit), ""),
            ("pace", format_value(row["pace"], "percent", digits=0), ""),
            ("P(reach)", format_value(row.get("probability"), "percent", digits=0), reachable_line(row)),
        ),
        charts=tuple(charts),
        tables=(channel_table,),
    )


def _target_text(result: CycleResult, row: Row) -> str:
    """Say where the target stands and, when it is out of reach, what is within reach."""
    unit = metric_unit(str(row["metric"]))
    target = float(row["target"])
    said = [
        f"Target {row['target_id']} of {named(row['partner_id'], result.names.partners)}. "
        f"Sold {format_value(row['actual'], unit)} of {format_value(target, unit)} to {result.as_of}, "
        f"against {format_value(row['target_to_date'], unit)} due by now: pace "
        f"{format_value(row['pace'], 'percent', digits=0)}."
    ]
    chance = row.get("probability")
    if chance is None or pd.isna(chance):
        return " ".join([*said, "No chance of reaching it could be computed (see About this run)."])
    said.append(f"Chance of reaching the target: {format_value(chance, 'percent', digits=0)}.")
    frame = pd.DataFrame([dict(row)])
    reach = [
        f"{format_value(row[column], 'percent', digits=0)} of reaching {share}% of it"
        for share, column in share_columns(frame).items()
        if pd.notna(row[column])
    ]
    if reach:
        said.append("Of most of it: " + ", ".join(reach) + ".")
    reachable = [
        f"with {level}% probability {format_value(row[column], unit)} "
        f"({format_value(row[column] / target, 'percent', digits=0)} of target)"
        for level, column in reachable_columns(frame).items()
        if pd.notna(row[column]) and target
    ]
    if reachable:
        said.append("The final total reaches " + "; ".join(reachable) + ".")
    elif pd.notna(row.get("expected_total")):
        said.append(f"Expected final total: {format_value(row['expected_total'], unit)}.")
    uplift = row.get("uplift_for_50")
    if uplift is not None and pd.notna(uplift) and uplift > 0:
        said.append(
            f"Even odds of reaching it need {format_value(uplift, 'percent', digits=0)} more than forecast "
            "on the days left."
        )
    return " ".join(said)
