"""What the report and its charts share: the Chart and Table specs, cell formatting and HTML escaping.

A private module, so that ``report`` (the page) and ``_charts`` (the SVG
drawing) can both use these without importing each other. Numbers are
formatted by :func:`cpfr.formatting.format_value`, the formatter the
terminal uses too.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError
from cpfr.formatting import MISSING, UNITS, format_value

_KINDS = ("bar", "line", "waterfall", "histogram")
# What a table column may hold besides a number of one of the formatter's units.
_CELL_KINDS = ("auto", "text", "date", "yes/no")


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
        The value column(s): one line each on a line chart, one bar each per
        category on a bar chart (grouped, with a legend); a waterfall draws the
        first; a histogram ignores it. The column names are the legend's labels.
    unit : str
        A unit of :func:`cpfr.formatting.format_value` (``"yuan"``, ``"units"``, ``"percent"``, ...).
    x_title, y_title : str
        The axis titles: what the axis shows and its unit (``"GMV, ¥"``). On a
        bar chart drawn with horizontal bars (many or long category labels),
        ``x_title`` names the categories and ``y_title`` the values still.
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
    x_title: str = ""
    y_title: str = ""
    marker: float | None = None
    marker_label: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InputError(f"chart {self.title!r}: kind {self.kind!r} is not one of {', '.join(_KINDS)}")
        if self.unit not in UNITS:
            raise InputError(f"chart {self.title!r}: unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.kind != "histogram" and not _series(self):
            raise InputError(f"chart {self.title!r}: a {self.kind} chart needs a y column")


@dataclass(frozen=True)
class Column:
    """One column of a report table: which data column, its header, and how its cells read.

    Parameters
    ----------
    name : str
        The data column.
    header : str
        The header people read (default: ``name``).
    unit : str
        ``"auto"`` (by the cell's type), ``"text"``, ``"date"``, ``"yes/no"`` or a unit of
        :func:`cpfr.formatting.format_value` (``"yuan"``, ``"units"``, ``"percent"``, ...).
    unit_from : str
        A data column holding each row's unit, for a column that mixes them (a
        target in yuan on one row, in units on the next); overrides ``unit``.
    """

    name: str
    header: str = ""
    unit: str = "auto"
    unit_from: str = ""

    def __post_init__(self) -> None:
        if self.unit not in _CELL_KINDS and self.unit not in UNITS:
            raise InputError(
                f"column {self.name!r}: unit {self.unit!r} is not one of {', '.join(_CELL_KINDS + UNITS)}"
            )


@dataclass(frozen=True, eq=False)
class Table:
    """A table of a report section: a caption, the rows, and the columns shown.

    Parameters
    ----------
    caption : str
        Shown above the table.
    data : pandas.DataFrame
        The rows (a named index is shown as a first column when ``columns`` is empty).
    columns : tuple of Column
        The columns shown, in order; empty shows every column, formatted by its type.
    note : str
        A line under the table (what a column means, where more rows are).
    """

    caption: str
    data: pd.DataFrame
    columns: tuple[Column, ...] = ()
    note: str = ""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: object, unit: str = "auto") -> tuple[str, str]:
    """Return a table cell's text and its class: numbers are right-aligned.

    ``unit`` is a :class:`Column`'s; ``"auto"`` formats by the value's type.
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return MISSING, "num" if unit in UNITS else "text"
    if unit == "text":
        return str(value), "text"
    if unit == "yes/no" or (unit == "auto" and isinstance(value, bool | np.bool_)):
        return ("yes" if bool(value) else "no"), "text"
    if unit == "date" or (unit == "auto" and isinstance(value, dt.date | pd.Timestamp)):
        return _date(value), "text"
    if unit in UNITS and isinstance(value, int | float | np.integer | np.floating):
        return format_value(float(value), unit), "num"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}", "num"
    if isinstance(value, float | np.floating):
        return format_value(float(value)), "num"
    return str(value), "text"


def _date(value: object) -> str:
    """Show a day as 2025-07-07, a time of day as 2025-07-07 13:05."""
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]  # a date, a datetime or ISO text
    except ValueError:
        return str(value)  # not a date after all: shown as it is rather than failing the report
    if stamp is pd.NaT:
        return MISSING
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")


def _series(chart: Chart) -> tuple[str, ...]:
    return (chart.y,) if isinstance(chart.y, str) else tuple(chart.y)
