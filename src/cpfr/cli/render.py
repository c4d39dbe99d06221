"""Rich renderings shared by commands: the alliance summary.

Amounts are formatted by :mod:`cpfr.formatting`, the formatter the HTML
report uses too (``format_amount`` is re-exported here for the commands
that import it from this module).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.table import Table

from cpfr.formatting import format_amount, format_value
from cpfr.targets import AllianceSummary

if TYPE_CHECKING:
    from cpfr.collab.cycle import Names

__all__ = ["format_amount", "render_summary"]

_BAR_WIDTH = 24
_MONTHS_SHOWN = 12


def _table(title: str) -> Table:
    # No borders: the summary must fit an 80-column terminal without truncation.
    return Table(title=title, title_justify="left", box=None, padding=(0, 1), header_style="bold underline")


_CHANNEL_LABELS = {"platform_online": "online", "platform_offline": "offline", "brand_store": "brand stores"}


def _period(start: object, end: object) -> str:
    """Show a period as '2024' or '2024–26' when it is whole years, else as its two dates."""
    first, last = pd.Timestamp(str(start)), pd.Timestamp(str(end))
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31):
        return str(first.year) if first.year == last.year else f"{first.year}–{last.year % 100:02d}"
    return f"{first.date()}…{last.date()}"


def _target_label(metric: str, scope: str, names: Names | None = None) -> str:
    parts = ["GMV" if metric == "gmv_yuan" else "units"]
    parts += [_scope_label(part, names) for part in scope.split(" / ") if part != "all"]
    return " ".join(parts)


def _scope_label(part: str, names: Names | None) -> str:
    """Read a scope's part (a category, a channel kind or a channel) by its name where one is known."""
    if part in _CHANNEL_LABELS:
        return _CHANNEL_LABELS[part]
    if names is not None:
        return names.categories.get(part) or names.channels.get(part) or part
    return part


def _named(code: object, names: Mapping[str, str]) -> str:
    """Return "Name (CODE)", or the code alone where it has no other name."""
    name = names.get(str(code), "")
    return f"{name} ({code})" if name and name != str(code) else str(code)


def _percent(value: float, digits: int = 1) -> str:
    return format_value(value, "percent", digits=digits)


def _bar(value: float, largest: float) -> str:
    """Draw a horizontal bar: a chart reads faster than a column of numbers."""
    if largest <= 0 or pd.isna(value):
        return ""
    eighths = round(_BAR_WIDTH * 8 * value / largest)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def render_summary(summary: AllianceSummary, console: Console, *, names: Names | None = None) -> None:
    """Print the alliance summary: targets, then GMV by category, channel, city tier and month.

    With ``names`` (:class:`cpfr.collab.cycle.Names`), categories read "smart wear (WEAR)" and the
    partner columns carry the partners' names; without, their codes.
    """
    targets = summary.targets
    if targets.empty:
        console.print("no targets in the store")
    else:
        view = _table(f"Alliance targets — sales to {summary.as_of}")
        for name in (
            "partner",
            "target",
            "period",
            "goal",
            "actual",
            "done",
            "time",
            "pace",
            "need/day",
        ):
            view.add_column(
                name, justify="left" if name in {"partner", "target", "period"} else "right", no_wrap=True
            )
        for row in targets.to_dict("records"):
            pace_style = "green" if row["pace"] >= 1 else "yellow" if row["pace"] >= 0.9 else "red"
            view.add_row(
                str(row["partner_id"]),
                _target_label(str(row["metric"]), str(row["scope"]), names),
                _period(row["period_start"], row["period_end"]),
                format_amount(row["target"], str(row["metric"])),
                format_amount(row["actual"], str(row["metric"])),
                _percent(row["attainment"], digits=0),
                _percent(row["elapsed"], digits=0),
                f"[{pace_style}]{row['pace']:.2f}[/]" if not pd.isna(row["pace"]) else "–",
                format_amount(row["required_run_rate"], str(row["metric"])),
            )
        console.print(view)
        console.print(
            "done = actual / goal; time = share of the period elapsed; pace = done / time "
            "(below 1: behind a straight line to the goal).",
            style="dim",
        )
    for name, frame in summary.breakdowns.items():
        if name == "month":
            _render_months(frame, console)
        else:
            _render_breakdown(name, frame, console, names)


def _render_breakdown(name: str, frame: pd.DataFrame, console: Console, names: Names | None) -> None:
    dimension = next(
        column for column in frame.columns if column not in {"partner_id", "units", "gmv_yuan", "share"}
    )
    if frame.empty:
        return
    pivot = frame.pivot_table(
        index=dimension, columns="partner_id", values="gmv_yuan", aggfunc="sum", fill_value=0
    )
    pivot["total"] = pivot.sum(axis=1)
    pivot = pivot.sort_values("total", ascending=False)
    view = _table(f"GMV to date by {name.replace('_', ' ')}")
    view.add_column(name.replace("_", " "), no_wrap=True)
    for partner in pivot.columns:
        header = names.partners.get(str(partner), str(partner)) if names is not None else str(partner)
        view.add_column(header, justify="right", no_wrap=True)
    view.add_column("share", justify="right", no_wrap=True)
    grand_total = float(pivot["total"].sum())
    for key, values in pivot.iterrows():
        label = _label(name, key, names)
        cells = [
            format_amount(float(values[partner])) if values[partner] else "" for partner in pivot.columns
        ]
        view.add_row(label, *cells, _percent(values["total"] / grand_total if grand_total else float("nan")))
    console.print(view)


def _label(breakdown: str, key: object, names: Names | None = None) -> str:
    if key is None or (isinstance(key, float) and math.isnan(key)):
        return "(none)"
    if isinstance(key, float) and key.is_integer():
        key = int(key)  # a tier column with gaps comes back from pandas as float
    if breakdown == "city_tier":
        return f"tier {key}"
    if breakdown == "category" and names is not None:
        return _named(key, names.categories)
    return _CHANNEL_LABELS.get(str(key), str(key))


def _render_months(frame: pd.DataFrame, console: Console) -> None:
    if frame.empty:
        return
    monthly = frame.groupby("month", as_index=False)[["gmv_yuan", "units"]].sum().tail(_MONTHS_SHOWN)
    largest = float(monthly["gmv_yuan"].max())
    view = _table(f"GMV by month (last {len(monthly)}, all partners)")
    view.add_column("month")
    view.add_column("GMV", justify="right")
    view.add_column("units", justify="right")
    view.add_column("", min_width=_BAR_WIDTH)
    for row in monthly.to_dict("records"):
        month = pd.Timestamp(row["month"]).strftime("%Y-%m")
        view.add_row(
            month,
            format_amount(row["gmv_yuan"]),
            format_amount(row["units"], "units"),
            _bar(row["gmv_yuan"], largest),
        )
    console.print(view)


def solve_result_table(title: str, result: Mapping[str, object], *, most: int | None = None) -> Table:
    """Return a solved instance's result keys (``kind`` aside) as a two-column table.

    ``most`` shortens long lists and mappings to their first entries (with the count in all);
    with it, numbers also get thousands separators (network results run to millions of yuan).
    """
    table = Table(title=title, title_justify="left")
    table.add_column("result")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "kind":
            table.add_row(key, _shown(value, most))
    return table


def _shown(value: object, most: int | None, inner: bool = False) -> str:
    shorter = None if most is None else (4 if inner else most)
    if isinstance(value, dict):
        items = list(value.items())
        text = ", ".join(f"{key}: {_shown(item, most, True)}" for key, item in items[:shorter])
        return text + (f", ... ({len(items)} in all)" if shorter is not None and len(items) > shorter else "")
    if isinstance(value, list):
        text = ", ".join(_shown(item, most, True) for item in value[:shorter])
        return text + (f", ... ({len(value)} in all)" if shorter is not None and len(value) > shorter else "")
    if isinstance(value, float):
        return f"{value:.6g}" if most is None else f"{value:,.6g}"
    return str(value)
