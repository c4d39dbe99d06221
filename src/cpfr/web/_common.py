"""What the report and its charts share: the Chart spec, number formatting and HTML escaping.

A private module, so that ``report`` (the page) and ``_charts`` (the SVG
drawing) can both use these without importing each other.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError

_KINDS = ("bar", "line", "waterfall", "histogram")
_UNITS = ("number", "yuan", "percent")


# eq=False: a data frame has no truth value, so field-wise equality and hashing would raise.
@dataclass(frozen=True, eq=False)
class Chart:
    """One chart of a report section.

    Parameters
    ----------
    kind : str
        ``"bar"``, ``"line"``, ``"waterfall"`` or ``"histogram"``.
    title : str
        Shown above the chart and read out by screen readers.
    data : pandas.DataFrame
        The rows to draw; an empty frame draws a "no data" placeholder. A
        waterfall's may hold a ``kind`` column of ``"total"`` or ``"delta"``
        (default: the first and last rows are totals, the rest deltas).
    x : str
        The x column (categories, dates or numbers); a histogram's values.
    y : str or tuple of str
        The value column(s): one line each on a line chart, the first on a
        bar or waterfall chart; a histogram ignores it.
    unit : str
        ``"number"``, ``"yuan"`` or ``"percent"``, as in :func:`format_value`.
    marker, marker_label : float or None, str
        A reference line at this value (e.g. the target) and its label.
    note : str
        A caption under the chart.
    """

    kind: str
    title: str
    data: pd.DataFrame
    x: str
    y: str | tuple[str, ...] = ()
    unit: str = "number"
    marker: float | None = None
    marker_label: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InputError(f"chart {self.title!r}: kind {self.kind!r} is not one of {', '.join(_KINDS)}")
        if self.unit not in _UNITS:
            raise InputError(f"chart {self.title!r}: unit {self.unit!r} is not one of {', '.join(_UNITS)}")
        if self.kind != "histogram" and not _series(self):
            raise InputError(f"chart {self.title!r}: a {self.kind} chart needs a y column")


def format_value(value: float, unit: str = "number") -> str:
    """Format a number for people: compact yuan, percent, or thousands separators.

    Parameters
    ----------
    value : float
        The number; None, NaN and infinities show as ``"–"``.
    unit : str
        ``"yuan"`` (three significant figures: ¥1.23bn, ¥45.6m, ¥12.3k, ¥950), ``"percent"``
        (of a fraction: 0.123 is 12.3%) or ``"number"`` (thousands separators, at most 2 decimals).

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(1.234e9, "yuan"), format_value(0.123, "percent"), format_value(1234567)
    ('¥1.23bn', '12.3%', '1,234,567')
    """
    if unit not in _UNITS:
        raise InputError(f"unit {unit!r} is not one of {', '.join(_UNITS)}")
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "percent":
        return f"{100 * value:.1f}%"
    if unit == "yuan":
        return _compact_yuan(float(value))
    return _plain_number(float(value))


def _compact_yuan(value: float) -> str:
    sign = "-" if value < 0 else ""
    # Round to three significant figures first, so 999,999 shows as ¥1.00m, not ¥1000k.
    rounded = float(f"{abs(value):.3g}")
    for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if rounded >= scale:
            scaled = rounded / scale
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}¥{scaled:.{digits}f}{suffix}"
    return f"{sign}¥{rounded:g}"


def _plain_number(value: float) -> str:
    if value.is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: object) -> tuple[str, str]:
    """Return a table cell's text and its class: numbers are right-aligned."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–", "text"
    if isinstance(value, bool | np.bool_):
        return str(value), "text"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}", "num"
    if isinstance(value, float | np.floating):
        return format_value(float(value)), "num"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat(), "text"
    return str(value), "text"


def _series(chart: Chart) -> tuple[str, ...]:
    return (chart.y,) if isinstance(chart.y, str) else tuple(chart.y)
