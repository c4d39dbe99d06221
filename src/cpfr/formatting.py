"""Numbers for people: the one formatter of money, units and percentages.

The terminal (``cpfr.cli.render``) and the HTML report (``cpfr.report``) both
format through :func:`format_value`, so 999,999 yuan reads "¥1.00m" in both
places. The module sits at the top of the package and imports nothing of it,
so every layer may use it.

Units
-----
``"yuan"``
    Money, compact to three significant figures: ¥1.23bn, ¥45.6m, ¥12.3k, ¥950.
``"compact"``
    A plain quantity, compact the same way (no ¥): 1.23m, 176k — for narrow
    terminal columns and chart axes.
``"units"``
    Whole units with thousands separators: 1,234,567 (one decimal below 10,
    where a slow mover's 0.4 units a week would otherwise read 0).
``"percent"``
    A fraction as a percentage: 0.123 is 12.3%.
``"days"``
    A duration: 240.6 is "241 days".
``"number"``
    Anything else: thousands separators, at most two decimals.
"""

from __future__ import annotations

import math

from cpfr.exceptions import InputError

__all__ = ["MISSING", "UNITS", "format_amount", "format_value", "metric_unit"]

UNITS = ("number", "units", "compact", "yuan", "percent", "days")
MISSING = "–"  # an en dash: what None, NaN and infinities show as

_SCALES = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))


def format_value(value: float | None, unit: str = "number", *, digits: int = 1, signed: bool = False) -> str:
    """Format a number for people: compact yuan, whole units, percent, or thousands separators.

    Parameters
    ----------
    value : float or None
        The number; None, NaN and infinities show as ``"–"``.
    unit : str
        One of :data:`UNITS` (see the module docstring).
    digits : int
        Decimals of a percentage (``"percent"`` only). A positive share too small to show at
        that precision reads ``"<1%"`` (digits 0) or ``"<0.1%"`` (digits 1), never ``"0%"``.
    signed : bool
        Put ``+`` before a positive value (a change, a gap).

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(999_999, "yuan"), format_value(-2.5e6, "yuan"), format_value(1.234e9, "yuan")
    ('¥1.00m', '-¥2.50m', '¥1.23bn')
    >>> format_value(0.123, "percent"), format_value(0.004, "percent", digits=0)
    ('12.3%', '<1%')
    >>> format_value(1234567.8, "units"), format_value(0.4, "units"), format_value(176_305, "compact")
    ('1,234,568', '0.4', '176k')
    >>> format_value(0.05, "percent", signed=True), format_value(float("nan"), "yuan")
    ('+5.0%', '–')
    """
    if unit not in UNITS:
        raise InputError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
    if value is None or not math.isfinite(value):
        return MISSING
    value = float(value)
    sign = "+" if signed and value > 0 else ""
    if unit == "percent":
        return sign + _percent(value, digits)
    if unit == "yuan":
        return sign + _compact(value, "¥")
    if unit == "compact":
        return sign + _compact(value, "")
    if unit == "units":
        shown = f"{value:.1f}" if abs(value) < 10 and not value.is_integer() else f"{value:,.0f}"
        return sign + shown
    if unit == "days":
        return f"{sign}{value:,.0f} days" if abs(value) >= 10 else f"{sign}{value:.1f} days"
    return sign + _plain(value)


def metric_unit(metric: str) -> str:
    """Return the unit that formats a target metric's amounts: ``"yuan"`` for GMV, else ``"units"``.

    Examples
    --------
    >>> metric_unit("gmv_yuan"), metric_unit("units")
    ('yuan', 'units')
    """
    return "yuan" if metric == "gmv_yuan" else "units"


def format_amount(value: float | None, metric: str = "gmv_yuan") -> str:
    """Format an amount of a target metric compactly: ``¥1.23bn`` for GMV, ``1.23m`` for units.

    What narrow terminal tables show; the same rounding as :func:`format_value`.

    Examples
    --------
    >>> format_amount(999_999), format_amount(64_034, "units"), format_amount(0)
    ('¥1.00m', '64.0k', '¥0')
    """
    return format_value(value, "yuan" if metric == "gmv_yuan" else "compact")


def _compact(value: float, prefix: str) -> str:
    sign = "-" if value < 0 else ""
    # Round to three significant figures first, so 999,999 shows as ¥1.00m, not ¥1000k.
    rounded = float(f"{abs(value):.3g}")
    for scale, suffix in _SCALES:
        if rounded >= scale:
            scaled = rounded / scale
            decimals = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}{prefix}{scaled:.{decimals}f}{suffix}"
    return f"{sign}{prefix}{rounded:g}"


def _percent(value: float, digits: int) -> str:
    smallest = 10.0**-digits  # the smallest percentage shown at this precision
    if 0 < 100 * value < smallest / 2:
        return f"<{smallest:.{digits}f}%"
    # + 0.0 turns the -0.0 that a tiny negative share rounds to into 0.0: "0%", not "-0%".
    return f"{round(100 * value, digits) + 0.0:.{digits}f}%"


def _plain(value: float) -> str:
    if value.is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"
