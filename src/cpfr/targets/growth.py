r"""The point forecast of a target's rest: seasonal growth on like-for-like SKUs, and what changes.

Each day ahead is the same day a year earlier times the year-on-year growth
of the last :data:`WINDOW_DAYS` days, the way planners read 618, Double 11
and the subsidy seasons. Growth is read *like for like* (Fildes, Ma &
Kolassa 2022, "Retail forecasting: research and practice", *International
Journal of Forecasting* 38(4), sec. 3.1): only on SKUs that sold through
the whole window a year earlier, since a SKU launched since then has no
base to grow from and would pass its launch off as growth of the range.
The rest of the range is added as planners do:

- a *young* SKU (on sale for less than a year plus the window) at its rate
  of the last :data:`YOUNG_WINDOW_DAYS` days, spread over the days ahead by
  the seasonal shape of the like-for-like SKUs a year earlier (of the whole
  store's sales where the range is too new to have like-for-like SKUs);
- a SKU whose launch date in the product master falls in the horizon at the
  average sales by age since launch of the scope's SKUs launched in the
  history (a launch analogue);
- a SKU with a last day on sale in the horizon is dropped after it.

A trade-in subsidy that began during the base year is *lapped*: with
:math:`\Delta S_{s,d} = S_{s,d} - S_{s,d-365}` the change in subsidy cover
of SKU *s* between day *d* and the same day a year earlier, and *u* the log
uplift of a subsidy (:mod:`cpfr.targets.uplift`), the growth measured on
the window is first cleared of the subsidy it contains and each day ahead
then gets its own,

.. math::

    \hat y_d = g_0 \sum_s y_{s,d-365}\, e^{u\,\Delta S_{s,d}}, \qquad
    \log g_0 = \log\frac{\sum_{w,s} y_{s,w}}{\sum_{w,s} y_{s,w-365}} - u\,\bar x_w,

where :math:`\bar x_w` is the base-weighted mean :math:`\Delta S` over the
window *w* (a regression on the year-on-year log ratio with the subsidy as
an intervention: Box & Tiao 1975, "Intervention analysis with applications
to economic and environmental problems", *JASA* 70(349)). Beyond a year the
forecast grows from its own first year. Nothing is damped: the errors of
this very forecast, replayed over the history, set its spread
(:mod:`cpfr.targets.conformal`).
"""

from __future__ import annotations

import numpy as np

from cpfr.exceptions import InputError
from cpfr.targets.panel import SalesPanel

YEAR = 365
WINDOW_DAYS = 91  # growth is read on the last 13 weeks against the same weeks a year earlier
YOUNG_WINDOW_DAYS = 28  # a young SKU's rate is its last 4 weeks'
ANALOGUE_MIN_AGE_DAYS = 28  # a launch is an analogue once it has sold for 4 weeks
HISTORY_DAYS = YEAR + WINDOW_DAYS  # the least history a forecast needs


def daily_forecast(panel: SalesPanel, origin: int, days: int, *, uplift: float = 0.0) -> np.ndarray:
    """Forecast the scope's metric on each of the ``days`` days after row ``origin`` (module docstring).

    Parameters
    ----------
    panel : SalesPanel
        The scope's sales; rows after ``origin`` are not read.
    origin : int
        The last row known (at least :data:`HISTORY_DAYS` - 1).
    days : int
        Days ahead.
    uplift : float
        *u*, the log uplift of a subsidy.

    Returns
    -------
    numpy.ndarray
        ``(days,)`` forecasts.
    """
    if origin + 1 < HISTORY_DAYS:
        raise InputError(f"{origin + 1} days of sales; seasonal growth needs at least {HISTORY_DAYS}")
    if days <= 0:
        return np.zeros(0)
    values = panel.values
    first = np.where(panel.first_sale <= origin, panel.first_sale, np.iinfo(np.int64).max)
    mature = first <= origin - HISTORY_DAYS
    young = (first <= origin) & ~mature
    reference = panel.reference if panel.reference is not None and not mature.any() else None
    if not mature.any() and reference is None:  # a new range and nothing to lend it a shape
        mature, young = first <= origin, np.zeros_like(mature)
    ahead = origin + np.arange(1, days + 1)
    source = ahead - YEAR
    known = (source >= 0) & (source <= origin)
    status = _status(panel, max(int(ahead[-1]), origin) + 1)
    on_sale = ahead[:, None] <= panel.last_on_sale[None, :]

    like_for_like = np.flatnonzero(mature)
    base = np.zeros((days, like_for_like.size))
    base[known] = values[source[known]][:, like_for_like]
    change = status[ahead].astype(float) - status[np.maximum(source, 0)]
    growth = _window_growth(values, status, like_for_like, origin, uplift)
    forecast = growth * (base * np.exp(uplift * change[:, like_for_like]) * on_sale[:, like_for_like]).sum(1)

    if reference is None:
        shape = base.sum(axis=1)
        last_year = values[origin - YEAR - YOUNG_WINDOW_DAYS + 1 : origin - YEAR + 1][:, like_for_like].sum()
    else:  # the range is too new for a shape of its own: the whole store's, a year earlier
        shape = np.zeros(days)
        shape[known] = reference[source[known]]
        last_year = reference[origin - YEAR - YOUNG_WINDOW_DAYS + 1 : origin - YEAR + 1].sum()
    recent = values[origin - YOUNG_WINDOW_DAYS + 1 : origin + 1]
    for sku in np.flatnonzero(young):
        if last_year > 0:
            rate = shape * recent[:, sku].sum() / last_year
        else:
            rate = np.full(days, recent[:, sku].mean())
        lap = uplift * (status[ahead, sku] - status[origin - YOUNG_WINDOW_DAYS + 1 : origin + 1, sku].mean())
        forecast += rate * np.exp(lap) * on_sale[:, sku]

    for step in np.flatnonzero(~known & (source > origin)):  # beyond a year: grow the first year again
        forecast[step] = forecast[source[step] - origin - 1] * growth
    return forecast + _launches(panel, origin, days)


def _status(panel: SalesPanel, rows: int) -> np.ndarray:
    """Return subsidy cover for ``rows`` rows (the last known row repeated where the panel stops)."""
    status = panel.subsidised
    if len(status) >= rows:
        return status
    filler = status[-1:] if len(status) else np.zeros((1, panel.values.shape[1]), dtype=bool)
    return np.concatenate([status, np.repeat(filler, rows - len(status), axis=0)])


def _window_growth(
    values: np.ndarray, status: np.ndarray, skus: np.ndarray, origin: int, uplift: float
) -> float:
    """Return g0: year-on-year growth of ``skus`` over the window, cleared of the subsidy in it."""
    window = slice(origin - WINDOW_DAYS + 1, origin + 1)
    before = slice(origin - YEAR - WINDOW_DAYS + 1, origin - YEAR + 1)
    now, then = values[window][:, skus], values[before][:, skus]
    if then.sum() <= 0:
        return 1.0
    change = status[window][:, skus].astype(float) - status[before][:, skus]
    mean_change = float((then * change).sum() / then.sum())
    return float(now.sum() / then.sum() * np.exp(-uplift * mean_change))


def _launches(panel: SalesPanel, origin: int, days: int) -> np.ndarray:
    """Return the launch analogue's sales of every SKU launched in the horizon (none sold yet)."""
    planned = (panel.first_sale > origin) & (panel.launch > origin) & (panel.launch <= origin + days)
    forecast = np.zeros(days)
    if not planned.any():
        return forecast
    first = panel.first_sale
    analogues = np.flatnonzero((first > 0) & (first <= origin - ANALOGUE_MIN_AGE_DAYS))
    if analogues.size == 0:
        return forecast
    profile = np.zeros(days)
    for sku in analogues:
        sold = panel.values[first[sku] : origin + 1, sku]
        length = min(len(sold), days)
        profile[:length] += sold[:length]
        profile[length:] += sold[-YOUNG_WINDOW_DAYS:].mean()  # older than the analogue: its last rate
    profile /= analogues.size
    for sku in np.flatnonzero(planned):
        begin = int(panel.launch[sku]) - origin - 1
        forecast[begin:] += profile[: days - begin]
    return forecast
