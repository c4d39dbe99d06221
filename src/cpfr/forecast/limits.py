"""How far cpfr forecasts: the bounds of the horizon, the backtest and the history, stated once.

A forecast's cost grows with its horizon, the backtest's windows and the
periods of history; a horizon far beyond the data is not a forecast but an
extrapolation of nothing. These bounds refuse such work before it starts
(:class:`~cpfr.exceptions.LimitError`, naming the parameter: ``horizon``,
``n_windows``, ``step``); the command line checks the same bounds under its
flags' names.
"""

from __future__ import annotations

import pandas as pd

from cpfr.bounds import Bound, shown
from cpfr.exceptions import InputError

MAX_HORIZON = 10_000
"""Most periods forecast: 27 years of days; beyond it a calendar stops being a forecast."""

HORIZON_HISTORY_RATIO = 10
"""A horizon may be at most this many times the longest series: further out is extrapolation of nothing."""

MAX_WINDOWS = 100
"""Most backtest windows: each refits every candidate model, so 100 windows are 100 fits per model."""

MAX_QUANTILE_LEVELS = 100
"""Most quantile levels of a forecast (one output column each)."""

MAX_SERIES_PERIODS = 100_000
"""Most periods of one series once its gaps are filled: 270 years of days, 11 years of hours."""

MAX_PANEL_PERIODS = 100_000_000
"""Most periods of all series together once gaps are filled (M5, the largest public retail panel,
has 59 million)."""

MAX_VALUE = 1e12
"""Largest value of ``y`` in one period (units sold): sums over years of periods stay exact enough
in double precision, and no retailer sells a trillion units of one item in a period."""

HORIZON = Bound(1, MAX_HORIZON, whole=True, reason="periods")
WINDOWS = Bound(1, MAX_WINDOWS, whole=True, reason="each window refits every candidate model")
STEP = Bound(1, MAX_HORIZON, whole=True, reason="periods between backtest origins")
SEED = Bound(0, 2**63 - 1, whole=True)


def horizon_bound(longest: int, *, last: pd.Timestamp | None = None, freq: str | None = None) -> Bound:
    """Return the horizons allowed for a history whose longest series has ``longest`` periods.

    At least 1; at most ``MAX_HORIZON`` and ``HORIZON_HISTORY_RATIO`` times ``longest``; given
    the history's ``last`` date and ``freq``, no further than the last date pandas can hold
    (2262-04-11).

    Examples
    --------
    >>> horizon_bound(84).maximum
    840
    >>> horizon_bound(5_000).maximum
    10000
    >>> horizon_bound(5_000, last=pd.Timestamp("2024-12-01"), freq="MS").maximum
    2848
    """
    most = min(MAX_HORIZON, HORIZON_HISTORY_RATIO * max(longest, 1))
    reason = (
        f"periods: at most {MAX_HORIZON:,} and {HORIZON_HISTORY_RATIO} x the longest series ({longest:,})"
    )
    if last is not None and freq is not None and not _fits(last, freq, most):
        low, high = 0, most  # low fits, high does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _fits(last, freq, middle) else (low, middle)
        most = low
        reason += f", and the calendar pandas can hold ends on {pd.Timestamp.max.date()}"
    return Bound(1, most, whole=True, reason=reason)


def _fits(last: pd.Timestamp, freq: str, periods: int) -> bool:
    """Tell whether ``periods`` periods of ``freq`` after ``last`` stay within pandas' calendar."""
    try:
        pd.date_range(last, periods=periods + 1, freq=freq)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return False
    return True


def check_freq(name: str, freq: str | None) -> None:
    """Refuse a frequency that is not a pandas offset alias with a positive step ('0D', '-1D').

    ``name`` is what the caller calls the value (``freq``; the command line: ``--freq``);
    None (infer the frequency) passes.
    """
    if freq is None:
        return
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise InputError(f"{name} {shown(freq)}: not a pandas frequency (e.g. D, W-MON, MS)") from None
    if offset.n < 1:
        raise InputError(
            f"{name} {shown(freq)}: expected a frequency with a positive step (e.g. D, 2D, W-MON)"
        )
