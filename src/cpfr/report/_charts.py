"""The report's inline SVG charts: bar, line, waterfall and histogram, with axes, titles and legends.

The charts are drawn by hand rather than with matplotlib or plotly: four kinds
(bar, line, waterfall, histogram) cover the planners' reports, and hand-drawn
SVG keeps the install lean and a report a few hundred kilobytes at most.

Category labels are never cut: under vertical bars they wrap onto up to
three lines; when there are more categories than fit side by side, or a
label would need more lines, the bars turn horizontal with the labels whole
beside them, and the picture grows as tall as its rows need.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError
from cpfr.report._common import Chart, _cell, _esc, _series, format_value

_WIDTH, _HEIGHT = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 84, 16, 32, 48
_FONT = 11  # the tick and label font size, in px (the page's CSS)
_LINE = 13  # the height of a line of label text, in px
_MAX_LINES = 3  # a category label wrapping onto more lines turns the bars horizontal
_MAX_VERTICAL = 12  # more categories than this are drawn as horizontal bars
_LABEL_SHARE = 0.4  # of the width, at most, for the labels beside horizontal bars
_ROW = 22  # the least height of a horizontal bar's row, in px
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_UP, _DOWN, _TOTAL = "#2e7d32", "#c62828", "#546e7a"


@dataclass(frozen=True)
class _Drawing:
    """A chart's SVG content, the height it needs, and a sentence for its caption."""

    body: str
    height: float = _HEIGHT
    caption: str = ""


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
        caption += [drawing.caption] if drawing.caption else []
        label = _esc(chart.title)
        figure = (
            f'<svg viewBox="0 0 {_WIDTH} {drawing.height:.0f}" role="img" aria-label="{label}">'
            f"<title>{label}</title>{drawing.body}</svg>"
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


def _tick_label(value: float, unit: str) -> str:
    # Axis ticks are round numbers: whole percentages and compact quantities read best there.
    if unit == "percent":
        return format_value(value, unit, digits=0 if abs(value) >= 0.1 or value == 0 else 1)
    return format_value(value, "compact" if unit in ("units", "number") and abs(value) >= 1e4 else unit)


def _hline(css: str, level: float, left: float = _LEFT, right: float = _WIDTH - _RIGHT) -> str:
    return f'<line class="{css}" x1="{left:.1f}" x2="{right:.1f}" y1="{level:.1f}" y2="{level:.1f}"/>'


def _vline(css: str, where: float, top: float, bottom: float) -> str:
    return f'<line class="{css}" x1="{where:.1f}" x2="{where:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>'


def _text(css: str, x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{_esc(text)}</text>'


def _text_width(text: str, size: float = _FONT) -> float:
    """Estimate a text's width in px: wide (CJK) characters take a full em, others six tenths."""
    return sum(size if unicodedata.east_asian_width(char) in "WF" else 0.6 * size for char in text)


def _wrap(text: str, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` px at spaces; a longer word is split, never cut."""
    lines: list[str] = []
    for word in text.split():
        for piece in _split_word(word, width):
            if lines and _text_width(f"{lines[-1]} {piece}") <= width:
                lines[-1] = f"{lines[-1]} {piece}"
            else:
                lines.append(piece)
    return lines or [""]


def _split_word(word: str, width: float) -> list[str]:
    pieces = []
    while len(word) > 1 and _text_width(word) > width:
        cut = max([1, *(end for end in range(1, len(word)) if _text_width(word[:end]) <= width)])
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word]


def _lines(css: str, x: float, y: float, lines: Sequence[str], anchor: str) -> str:
    """Draw text on several lines, the first with its baseline at ``y``."""
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if index == 0 else _LINE}">{_esc(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{spans}</text>'


def _axis_titles(*, across: str, down: str, plot: tuple[float, float], height: float) -> str:
    """Draw the title under the plot (``across``) and the turned one beside it (``down``)."""
    parts = []
    if across:
        parts.append(_text("axis-title", (_LEFT + _WIDTH - _RIGHT) / 2, height - 8, across))
    if down:
        middle = (plot[0] + plot[1]) / 2
        turn = f' transform="rotate(-90 14 {middle:.1f})"'
        parts.append(_text("axis-title", 14, middle, down, "middle", turn))
    return "".join(parts)


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    """Draw ``(label, colour)`` swatches in a row above the plot."""
    parts, left = [], float(_LEFT)
    for label, colour in entries:
        parts.append(f'<rect class="swatch" x="{left:.1f}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(_text("legend", left + 16, 18, label, "start"))
        left += 32 + _text_width(label)
    return "".join(parts)


def _value_ticks(values: np.ndarray, marker: float | None, from_zero: bool) -> list[float]:
    finite = values[np.isfinite(values)]
    extra = [0.0] if from_zero else []
    extra += [marker] if marker is not None else []
    return _nice_ticks(min([float(finite.min()), *extra]), max([float(finite.max()), *extra]))


def _value_axis(
    values: np.ndarray, unit: str, marker: float | None, bottom: float, *, from_zero: bool = False
) -> tuple[_Scale, str]:
    """Return the y scale and the drawn y axis (grid lines and labels) covering the values and marker."""
    ticks = _value_ticks(values, marker, from_zero)
    scale = _Scale(ticks[0], ticks[-1], bottom, _TOP)
    drawn = "".join(
        _hline("grid", scale(tick))
        + _text("tick", _LEFT - 6, scale(tick) + 4, _tick_label(tick, unit), "end")
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


def _rect(box: tuple[float, float, float, float], colour: str, tip: str) -> str:
    """Draw one bar, ``box`` = (x, y, width, height) in px, with a hover tip."""
    x, y, width, height = box
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" height="{max(height, 0.0):.1f}" '
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


@dataclass(frozen=True)
class _Bars:
    """What a bar or waterfall chart draws: per category, one (bottom, top) span per series."""

    labels: list[str]
    series: list[str]
    values: np.ndarray  # categories x series
    spans: list[list[tuple[float, float]]]
    colours: list[list[str]]
    kinds: list[str]


def _bars(chart: Chart) -> _Bars | None:
    waterfall = chart.kind == "waterfall"
    names = list(_series(chart)[:1] if waterfall else _series(chart))
    values = np.column_stack([_numbers(chart.data[name]) for name in names])
    keep = np.isfinite(values).any(axis=1)
    if not keep.any():
        return None
    kinds = _waterfall_kinds(chart.data) if waterfall else ["total"] * len(chart.data)
    labels = [_cell(label)[0] for label, kept in zip(chart.data[chart.x], keep, strict=True) if kept]
    values, kinds = values[keep], [kind for kind, kept in zip(kinds, keep, strict=True) if kept]
    if waterfall:
        column = values[:, 0]
        spans = [[span] for span in _waterfall_bars(np.nan_to_num(column).tolist(), kinds)]
        colours = [
            [_TOTAL if kind == "total" else _UP if value >= 0 else _DOWN]
            for kind, value in zip(kinds, column, strict=True)
        ]
    else:
        spans = [[(min(0.0, value), max(0.0, value)) for value in row] for row in values]
        colours = [[_PALETTE[index % len(_PALETTE)] for index in range(len(names))] for _ in labels]
    return _Bars(labels, names, values, spans, colours, kinds)


def _bar_tip(chart: Chart, bars: _Bars, index: int, series: int) -> str:
    value = float(bars.values[index, series])
    signed = chart.kind == "waterfall" and bars.kinds[index] == "delta"
    shown = format_value(value, chart.unit, signed=signed)
    name = f" — {bars.series[series]}" if len(bars.series) > 1 else ""
    return f"{bars.labels[index]}{name}: {shown}"


def _bar_legend(chart: Chart, bars: _Bars) -> str:
    if chart.kind == "waterfall":
        return _legend([("total", _TOTAL), ("increase", _UP), ("decrease", _DOWN)])
    if len(bars.series) > 1:
        return _legend([(name, _PALETTE[index % len(_PALETTE)]) for index, name in enumerate(bars.series)])
    return ""


def _column_chart(chart: Chart) -> _Drawing | None:
    """Draw a bar chart, or a waterfall (a bar chart whose deltas float from the running sum).

    Vertical bars while the category labels fit under them in at most three
    lines; horizontal bars, labels whole at their left, otherwise.
    """
    bars = _bars(chart)
    if bars is None:
        return None
    band = (_WIDTH - _LEFT - _RIGHT) / len(bars.labels)
    wrapped = [_wrap(label, band - 6) for label in bars.labels]
    if len(bars.labels) <= _MAX_VERTICAL and max(map(len, wrapped)) <= _MAX_LINES:
        return _vertical_bars(chart, bars, wrapped, band)
    return _horizontal_bars(chart, bars)


def _vertical_bars(chart: Chart, bars: _Bars, wrapped: list[list[str]], band: float) -> _Drawing:
    bottom = _HEIGHT - _BOTTOM
    height = _HEIGHT + _LINE * (max(map(len, wrapped)) - 1)  # room for labels of several lines
    spans = np.array([[edge for span in row for edge in span] for row in bars.spans], dtype=float)
    scale, axis = _value_axis(spans.ravel(), chart.unit, chart.marker, bottom, from_zero=True)
    parts = [axis]
    count = len(bars.series)
    for index, row in enumerate(bars.spans):
        for series, span in enumerate(row):
            if not np.isfinite(bars.values[index, series]):
                continue
            left = _LEFT + (index + 0.15 + 0.7 * series / count) * band
            top, low = scale(span[1]), scale(span[0])
            box = (left, top, 0.7 * band / count, low - top)
            parts.append(_rect(box, bars.colours[index][series], _bar_tip(chart, bars, index, series)))
        if chart.kind == "waterfall" and index + 1 < len(bars.spans):
            # A connector at the running sum leads the eye from one bar to where the next starts.
            value, span = float(bars.values[index, 0]), row[0]
            level = scale(span[1] if value >= 0 else span[0])
            parts.append(
                _hline("connector", level, *(_LEFT + (index + edge) * band for edge in (0.85, 1.15)))
            )
    parts.append(_hline("zero", scale(0.0)))
    parts += [
        _lines("tick", _LEFT + (index + 0.5) * band, bottom + 16, lines, "middle")
        for index, lines in enumerate(wrapped)
    ]
    parts += [_marker_line(chart, scale), _bar_legend(chart, bars)]
    parts.append(_axis_titles(across=chart.x_title, down=chart.y_title, plot=(_TOP, bottom), height=height))
    return _Drawing("".join(parts), height)


def _horizontal_bars(chart: Chart, bars: _Bars) -> _Drawing:
    room = _LABEL_SHARE * _WIDTH
    wrapped = [_wrap(label, room) for label in bars.labels]
    label_width = max(_text_width(line) for lines in wrapped for line in lines)
    left = 12 + label_width + 8
    count = len(bars.series)
    rows = [max(_ROW, _LINE * len(lines) + 9, 8 + 12 * count) for lines in wrapped]
    top = _TOP + (16 if chart.x_title else 0)  # the category title sits above the labels
    bottom = top + sum(rows)
    height = bottom + _BOTTOM
    spans = np.array([[edge for span in row for edge in span] for row in bars.spans], dtype=float)
    ticks = _value_ticks(spans.ravel(), chart.marker, from_zero=True)
    scale = _Scale(ticks[0], ticks[-1], left, _WIDTH - _RIGHT - 12)
    parts = []
    for tick in ticks:
        parts.append(_vline("grid", scale(tick), top, bottom))
        parts.append(_text("tick", scale(tick), bottom + 16, _tick_label(tick, chart.unit)))
    starts = np.concatenate([[top], top + np.cumsum(rows)])
    for index, (row, lines) in enumerate(zip(bars.spans, wrapped, strict=True)):
        thickness = (rows[index] - 8) / count
        for series, span in enumerate(row):
            if not np.isfinite(bars.values[index, series]):
                continue
            box = (
                scale(span[0]),
                starts[index] + 4 + series * thickness,
                scale(span[1]) - scale(span[0]),
                thickness,
            )
            parts.append(_rect(box, bars.colours[index][series], _bar_tip(chart, bars, index, series)))
        middle = starts[index] + rows[index] / 2
        first = middle - _LINE * (len(lines) - 1) / 2 + 4
        parts.append(_lines("tick", left - 8, first, lines, "end"))
        if chart.kind == "waterfall" and index + 1 < len(bars.spans):
            value, span = float(bars.values[index, 0]), row[0]
            where = scale(span[1] if value >= 0 else span[0])
            parts.append(_vline("connector", where, starts[index] + rows[index] - 4, starts[index + 1] + 4))
    parts.append(_vline("zero", scale(0.0), top, bottom))
    if chart.marker is not None:
        where = scale(chart.marker)
        label = chart.marker_label or format_value(chart.marker, chart.unit)
        parts.append(
            _vline("marker", where, top, bottom) + _text("marker-label", where, top - 4, label, "end")
        )
    parts.append(_bar_legend(chart, bars))
    if chart.x_title:
        parts.append(_text("axis-title", 12, top - 6, chart.x_title, "start"))
    if chart.y_title:
        parts.append(_text("axis-title", (left + _WIDTH - _RIGHT) / 2, height - 8, chart.y_title))
    return _Drawing("".join(parts), height)


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


def _spaced(ticks: Sequence[tuple[float, str]]) -> list[tuple[float, str, str]]:
    """Return the x tick labels that fit side by side, as (x, label, anchor), keeping the last.

    A label near the right edge ends there rather than spilling out of the picture; one that
    would touch the label before it is left out (the one before, when it is the last).
    """
    kept: list[tuple[float, str, str, float, float]] = []
    for index, (where, label) in enumerate(ticks):
        width = _text_width(label)
        anchor = "end" if where > _WIDTH - _RIGHT - width / 2 else "middle"
        left = where - width if anchor == "end" else where - width / 2
        if index + 1 == len(ticks):
            while kept and left < kept[-1][4] + 6:
                kept.pop()  # the last tick wins over the ones before it
        elif kept and left < kept[-1][4] + 6:
            continue
        kept.append((where, label, anchor, left, left + width))
    return [(where, label, anchor) for where, label, anchor, _, _ in kept]


def _line_chart(chart: Chart) -> _Drawing | None:
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
    for where, label, anchor in _spaced([(scale_x(tick), label) for tick, label in axis_x.ticks]):
        parts.append(_text("tick", where, bottom + 18, label, anchor))
    entries = []
    for index, (name, values) in enumerate(series.items()):
        colour = _PALETTE[index % len(_PALETTE)]
        entries.append((name, colour))
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
    if len(entries) > 1:
        parts.append(_legend(entries))
    parts.append(_marker_line(chart, scale_y))
    parts.append(_axis_titles(across=chart.x_title, down=chart.y_title, plot=(_TOP, bottom), height=_HEIGHT))
    return _Drawing("".join(parts))


def _share_at_or_above(values: np.ndarray, marker: float) -> float:
    """Return the share of values at or above the marker, e.g. the chance of reaching a target."""
    return float(np.mean(values >= marker))


def _histogram_chart(chart: Chart) -> _Drawing | None:
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
        top = scale_y(float(count))
        parts.append(_rect((scale_x(left), top, width, scale_y(0.0) - top), _PALETTE[0], tip))
    ticks = [tick for tick in _nice_ticks(low, high) if low <= tick <= high]
    parts += [_text("tick", scale_x(tick), bottom + 18, _tick_label(tick, chart.unit)) for tick in ticks]
    parts.append(_hline("zero", scale_y(0.0)))
    parts.append(_axis_titles(across=chart.x_title, down=chart.y_title, plot=(_TOP, bottom), height=_HEIGHT))
    if chart.marker is None:
        return _Drawing("".join(parts))
    where = scale_x(chart.marker)
    label = chart.marker_label or format_value(chart.marker, chart.unit)
    parts.append(_vline("marker", where, _TOP, bottom))
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
    return _Drawing("".join(parts), caption=f"{share} of {len(values):,} values are at or above {label}.")


_DRAW = {"bar": _column_chart, "line": _line_chart, "waterfall": _column_chart, "histogram": _histogram_chart}
