"""The report's inline SVG charts: bar, line, waterfall and histogram, with their axes and ticks.

The charts are drawn by hand rather than with matplotlib or plotly: four kinds
(bar, line, waterfall, histogram) cover the planners' reports, and hand-drawn
SVG keeps the install lean and a report a few hundred kilobytes at most.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError
from cpfr.web._common import Chart, _cell, _esc, _series, format_value

_WIDTH, _HEIGHT = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 76, 16, 28, 44
_ROTATED_BOTTOM = 96  # room for x labels turned 40 degrees
_ROTATE_ABOVE = 12  # categories; beyond this the x labels are turned so they do not overlap
_MAX_X_LABELS = 40  # beyond this only every k-th category is labelled
_LABEL_CHARS = 14
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_UP, _DOWN, _TOTAL = "#2e7d32", "#c62828", "#546e7a"


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _render_chart(chart: Chart) -> str:
    caption = [chart.note] if chart.note else []
    drawing = None
    if not chart.data.empty:
        wanted = [chart.x] if chart.kind == "histogram" else [chart.x, *_series(chart)]
        missing = [column for column in wanted if column not in chart.data.columns]
        if missing:
            raise InputError(
                f"chart {chart.title!r}: no column {', '.join(map(repr, missing))} "
                f"(has {', '.join(map(str, chart.data.columns))})"
            )
        drawing = _DRAW[chart.kind](chart)
    if drawing is None:
        figure = f'<p class="no-data" role="note">No data for {_esc(chart.title)}.</p>'
    else:
        body, extra = drawing
        caption += [extra] if extra else []
        label = _esc(chart.title)
        figure = (
            f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{label}">'
            f"<title>{label}</title>{body}</svg>"
        )
    notes = f"<figcaption>{_esc(' '.join(caption))}</figcaption>" if caption else ""
    return f'<figure class="chart"><h3>{_esc(chart.title)}</h3>{figure}{notes}</figure>\n'


@dataclass(frozen=True)
class _Scale:
    """Map values in ``[low, high]`` linearly to pixels in ``[start, end]``."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _padded(low: float, high: float) -> tuple[float, float]:
    """Widen an empty range so a single value still gets an axis around it."""
    if high - low > 1e-12 * max(1.0, abs(low)):
        return low, high
    pad = abs(low) * 0.1 or 1.0
    return low - pad, high + pad


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about ``count`` round tick values (steps of 1, 2, 2.5 or 5 x 10^k) covering the range."""
    low, high = _padded(low, high)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= raw)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(tick * step, 12) for tick in range(first, last + 1)]


def _hline(css: str, level: float, left: float = _LEFT, right: float = _WIDTH - _RIGHT) -> str:
    return f'<line class="{css}" x1="{left:.1f}" x2="{right:.1f}" y1="{level:.1f}" y2="{level:.1f}"/>'


def _text(css: str, x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{_esc(text)}</text>'


def _value_axis(
    values: np.ndarray, unit: str, marker: float | None, bottom: float, *, from_zero: bool = False
) -> tuple[_Scale, str]:
    """Return the y scale and the drawn y axis (grid lines and labels) covering the values and marker."""
    finite = values[np.isfinite(values)]
    extra = [0.0] if from_zero else []
    extra += [marker] if marker is not None else []
    ticks = _nice_ticks(min([float(finite.min()), *extra]), max([float(finite.max()), *extra]))
    scale = _Scale(ticks[0], ticks[-1], bottom, _TOP)
    drawn = "".join(
        _hline("grid", scale(tick))
        + _text("tick", _LEFT - 6, scale(tick) + 4, format_value(tick, unit), "end")
        for tick in ticks
    )
    return scale, drawn


def _marker_line(chart: Chart, scale: _Scale) -> str:
    """Draw the chart's marker as a labelled horizontal line (none when it has no marker)."""
    if chart.marker is None:
        return ""
    level = scale(chart.marker)
    label = chart.marker_label or format_value(chart.marker, chart.unit)
    return _hline("marker", level) + _text("marker-label", _WIDTH - _RIGHT, level - 4, label, "end")


def _category_layout(count: int) -> tuple[float, float]:
    """Return the band width of each of ``count`` categories and the plot's bottom pixel."""
    bottom = _HEIGHT - (_ROTATED_BOTTOM if count > _ROTATE_ABOVE else _BOTTOM)
    return (_WIDTH - _LEFT - _RIGHT) / count, bottom


def _category_labels(labels: list[str], band: float, bottom: float) -> str:
    """Draw category labels under their bands: turned and cut short when there are many.

    A cut label is whole in its bar's hover tip.
    """
    rotate = len(labels) > _ROTATE_ABOVE
    width = _LABEL_CHARS if rotate else max(3, int(band / 7))
    parts = []
    for index in range(0, len(labels), math.ceil(len(labels) / _MAX_X_LABELS)):
        label = labels[index]
        shown = label if len(label) <= width else label[: width - 1] + "…"
        center, baseline = _LEFT + (index + 0.5) * band, bottom + 16
        if rotate:
            turn = f' transform="rotate(-40 {center:.1f} {baseline:.1f})"'
            parts.append(_text("tick", center, baseline, shown, "end", turn))
        else:
            parts.append(_text("tick", center, baseline, shown))
    return "".join(parts)


def _rect(left: float, width: float, span: tuple[float, float], scale: _Scale, colour: str, tip: str) -> str:
    """Draw one bar covering the values ``span`` = (bottom, top), with a hover tip."""
    top, bottom = scale(span[1]), scale(span[0])
    return (
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{max(bottom - top, 0.0):.1f}" '
        f'fill="{colour}"><title>{_esc(tip)}</title></rect>'
    )


def _waterfall_kinds(frame: pd.DataFrame) -> list[str]:
    """Return each row's kind: its ``kind`` column, else totals first and last and deltas between."""
    if "kind" in frame.columns:
        kinds = [str(kind) for kind in frame["kind"]]
        unknown = sorted(set(kinds) - {"total", "delta"})
        if unknown:
            raise InputError(f"waterfall kind {unknown[0]!r} is not 'total' or 'delta'")
        return kinds
    return ["total" if index in (0, len(frame) - 1) else "delta" for index in range(len(frame))]


def _waterfall_bars(values: Sequence[float], kinds: Sequence[str]) -> list[tuple[float, float]]:
    """Return each waterfall bar's (bottom, top): totals stand on zero, deltas float from the running sum.

    A total also restarts the running sum at its value.

    Examples
    --------
    >>> _waterfall_bars([100, 20, -50, 70], ["total", "delta", "delta", "total"])
    [(0.0, 100.0), (100.0, 120.0), (70.0, 120.0), (0.0, 70.0)]
    """
    running, bars = 0.0, []
    for value, kind in zip(values, kinds, strict=True):
        start = 0.0 if kind == "total" else running
        running = start + float(value)
        bars.append((min(start, running), max(start, running)))
    return bars


def _column_chart(chart: Chart) -> tuple[str, str] | None:
    """Draw a bar chart, or a waterfall: a bar chart whose deltas float from the running sum."""
    waterfall = chart.kind == "waterfall"
    kinds = _waterfall_kinds(chart.data) if waterfall else ["total"] * len(chart.data)
    values = _numbers(chart.data[_series(chart)[0]])
    keep = np.isfinite(values)
    if not keep.any():
        return None
    labels = [_cell(label)[0] for label, kept in zip(chart.data[chart.x], keep, strict=True) if kept]
    values, kinds = values[keep], [kind for kind, kept in zip(kinds, keep, strict=True) if kept]
    spans = _waterfall_bars(values.tolist(), kinds)
    band, bottom = _category_layout(len(labels))
    scale, axis = _value_axis(np.ravel(spans), chart.unit, chart.marker, bottom, from_zero=True)
    parts = [axis]
    for index, (label, value, kind, span) in enumerate(zip(labels, values, kinds, spans, strict=True)):
        colour = _PALETTE[0] if not waterfall else _TOTAL if kind == "total" else _UP if value >= 0 else _DOWN
        sign = "+" if kind == "delta" and value >= 0 else ""
        tip = f"{label}: {sign}{format_value(value, chart.unit)}"
        parts.append(_rect(_LEFT + (index + 0.15) * band, 0.7 * band, span, scale, colour, tip))
        if waterfall and index + 1 < len(labels):
            # A connector at the running sum leads the eye from one bar to where the next starts.
            level = scale(span[1] if value >= 0 else span[0])
            parts.append(
                _hline("connector", level, *(_LEFT + (index + edge) * band for edge in (0.85, 1.15)))
            )
    parts += [_hline("zero", scale(0.0)), _category_labels(labels, band, bottom), _marker_line(chart, scale)]
    return "".join(parts), ""


@dataclass(frozen=True)
class _XAxis:
    """A line chart's x positions per row, its labelled ticks and its range."""

    positions: np.ndarray
    ticks: list[tuple[float, str]]
    low: float
    high: float


def _is_dates(column: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    present = column.dropna()
    return column.dtype == object and not present.empty and isinstance(present.iloc[0], dt.date)


def _line_x(column: pd.Series) -> _XAxis:
    """Place a line chart's rows on the x axis: dates by day, numbers by value, anything else in order."""
    if _is_dates(column):
        stamps = pd.to_datetime(column, errors="coerce")
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_localize(None)  # keep the wall-clock dates the data were written in
        days = ((stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float, na_value=np.nan)
        known = np.unique(days[np.isfinite(days)])
        picks = known[np.unique(np.linspace(0, len(known) - 1, min(6, len(known))).round().astype(int))]
        labels = [(pd.Timestamp("1970-01-01") + pd.Timedelta(days=day)).strftime("%Y-%m-%d") for day in picks]
        low, high = _padded(float(known.min()), float(known.max())) if len(known) else (0.0, 1.0)
        return _XAxis(days, list(zip(picks.tolist(), labels, strict=True)), low, high)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = _numbers(column)
        finite = numbers[np.isfinite(numbers)]
        ticks = _nice_ticks(float(finite.min()), float(finite.max())) if len(finite) else [0.0, 1.0]
        return _XAxis(numbers, [(tick, format_value(tick)) for tick in ticks], ticks[0], ticks[-1])
    labels = [str(label) for label in column]
    every = math.ceil(len(labels) / 12)
    shown = [(float(index), labels[index]) for index in range(0, len(labels), every)]
    low, high = _padded(0.0, float(len(labels) - 1))
    return _XAxis(np.arange(len(labels), dtype=float), shown, low, high)


def _line_chart(chart: Chart) -> tuple[str, str] | None:
    axis_x = _line_x(chart.data[chart.x])
    order = np.argsort(axis_x.positions, kind="stable")
    series = {name: _numbers(chart.data[name])[order] for name in _series(chart)}
    positions = axis_x.positions[order]
    drawable = np.isfinite(positions) & np.isfinite(np.vstack(list(series.values()))).any(axis=0)
    if not drawable.any():
        return None
    bottom = _HEIGHT - _BOTTOM
    scale_y, axis = _value_axis(np.concatenate(list(series.values())), chart.unit, chart.marker, bottom)
    scale_x = _Scale(axis_x.low, axis_x.high, _LEFT, _WIDTH - _RIGHT)
    parts = [axis]
    for tick, label in axis_x.ticks:
        # The last label ends at the plot's right edge rather than spilling out of the picture.
        anchor = "end" if scale_x(tick) > _WIDTH - _RIGHT - 30 else "middle"
        parts.append(_text("tick", scale_x(tick), bottom + 18, label, anchor))
    legend_x = float(_LEFT)
    for index, (name, values) in enumerate(series.items()):
        colour = _PALETTE[index % len(_PALETTE)]
        keep = np.isfinite(positions) & np.isfinite(values)
        points = " ".join(
            f"{scale_x(x):.1f},{scale_y(y):.1f}" for x, y in zip(positions[keep], values[keep], strict=True)
        )
        tip = f"<title>{_esc(name)}</title>"
        parts.append(f'<polyline class="series" stroke="{colour}" points="{points}">{tip}</polyline>')
        if keep.sum() == 1:  # a line through one point is invisible: show the point
            parts.append(
                f'<circle cx="{points.split(",")[0]}" cy="{points.split(",")[1]}" r="3" fill="{colour}"/>'
            )
        parts.append(f'<rect x="{legend_x:.1f}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(_text("legend", legend_x + 16, 18, name, "start"))
        legend_x += 28 + 7 * len(name)
    parts.append(_marker_line(chart, scale_y))
    return "".join(parts), ""


def _share_at_or_above(values: np.ndarray, marker: float) -> float:
    """Return the share of values at or above the marker, e.g. the chance of reaching a target."""
    return float(np.mean(values >= marker))


def _histogram_chart(chart: Chart) -> tuple[str, str] | None:
    values = _numbers(chart.data[chart.x])
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    bins = int(np.clip(round(math.sqrt(len(values))), 20, 30))
    counts, edges = np.histogram(values, bins=bins)
    low, high = float(edges[0]), float(edges[-1])
    if chart.marker is not None:
        low, high = min(low, chart.marker), max(high, chart.marker)
    bottom = _HEIGHT - _BOTTOM
    scale_x = _Scale(low, high, _LEFT, _WIDTH - _RIGHT)
    # The y axis counts values; the marker lies on the x axis here.
    scale_y, axis = _value_axis(counts.astype(float), "number", None, bottom, from_zero=True)
    parts = [axis]
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        tip = f"{format_value(left, chart.unit)} – {format_value(right, chart.unit)}: {count:,}"
        width = max(scale_x(right) - scale_x(left) - 1, 0.5)
        parts.append(_rect(scale_x(left), width, (0.0, float(count)), scale_y, _PALETTE[0], tip))
    ticks = [tick for tick in _nice_ticks(low, high) if low <= tick <= high]
    parts += [_text("tick", scale_x(tick), bottom + 18, format_value(tick, chart.unit)) for tick in ticks]
    parts.append(_hline("zero", scale_y(0.0)))
    if chart.marker is None:
        return "".join(parts), ""
    where = scale_x(chart.marker)
    label = chart.marker_label or format_value(chart.marker, chart.unit)
    parts.append(f'<line class="marker" x1="{where:.1f}" x2="{where:.1f}" y1="{_TOP}" y2="{bottom}"/>')
    right_half = where > (_LEFT + _WIDTH - _RIGHT) / 2  # the label reads away from the nearer edge
    parts.append(
        _text(
            "marker-label",
            where - 4 if right_half else where + 4,
            _TOP - 6,
            label,
            "end" if right_half else "start",
        )
    )
    share = format_value(_share_at_or_above(values, chart.marker), "percent")
    if chart.marker_label:
        label += f" ({format_value(chart.marker, chart.unit)})"
    return "".join(parts), f"{share} of {len(values):,} values are at or above {label}."


_DRAW = {"bar": _column_chart, "line": _line_chart, "waterfall": _column_chart, "histogram": _histogram_chart}
