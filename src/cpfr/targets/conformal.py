r"""How wrong the forecast of a rest has been: its errors replayed over the history, by horizon.

The forecast of :mod:`cpfr.targets.growth` is replayed from weekly origins
over the history of the target's own scope and of every partner's range in
the store (what the forecast sees at each origin is only what was known
then), and each replay is scored on the sums over a ladder of horizons
(:data:`HORIZONS`, as far as the history reaches): the log ratio of actual
to forecast. These errors are the sample of *normalised* split conformal
prediction (Papadopoulos, Vovk & Gammerman 2011, "Regression conformal
prediction with nearest neighbours", *JAIR* 40; Lei et al. 2018,
"Distribution-free predictive inference for regression", *JASA* 113(523)):
each is divided by its expected size,

.. math::

    e_{s,o,h} = k_s\, a\, h^{b}\, z_{s,o,h},

with a horizon law :math:`a h^b` shared by every range (fitted by weighted
least squares on the log root-mean-square error per horizon, *b* kept in
[0, 1]: from errors that do not grow to those of a random walk) and a scale
:math:`k_s` per range, shrunk towards 1 with the weight of
:data:`PRIOR_ORIGINS` errors (a range of two lumpy SKUs errs more than one
of fifty, and a few errors say little about how much more). The pooled
:math:`z` carry the shape of the errors — skew, heavy tails, bias — and the
rest of a target is ``forecast x exp(k a H^b z)`` for every *z*, at the
target's own horizon *H*, which the history need not reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpfr.exceptions import InputError
from cpfr.targets.growth import HISTORY_DAYS, daily_forecast
from cpfr.targets.panel import SalesPanel

HORIZONS = (7, 14, 28, 56, 91, 122, 152, 183, 244, 305, 365)
ORIGIN_STEP_DAYS = 7
FIRST_ORIGIN_MARGIN_DAYS = 28  # a replay starts once young SKUs have a month of history
MIN_ERRORS = 8  # errors needed in all before a spread is measured
MIN_PER_HORIZON = 5  # errors needed at a horizon for it to inform the horizon law
PRIOR_ORIGINS = 20  # a range's own scale counts as much as this many errors at the pooled scale


@dataclass(frozen=True)
class ErrorModel:
    """Normalised errors of the forecast of a rest, and the law that scales them.

    Attributes
    ----------
    scale, exponent : float
        *a* and *b* of the horizon law :math:`a h^b`.
    range_scales : numpy.ndarray
        :math:`k_s` of every range, the target's first.
    normalised : numpy.ndarray
        The pooled :math:`z`.
    errors : int
        Errors measured.
    """

    scale: float
    exponent: float
    range_scales: np.ndarray
    normalised: np.ndarray
    errors: int

    def log_errors(self, horizon: int) -> np.ndarray:
        """Return the target's error sample at ``horizon`` days: :math:`k_0 a H^b z`."""
        return self.range_scales[0] * self.scale * horizon**self.exponent * self.normalised


def origin_errors(
    panel: SalesPanel, *, uplift: float = 0.0, horizons: Sequence[int] = HORIZONS
) -> np.ndarray:
    """Return ``(n, 2)`` rows of (horizon, log(actual / forecast)) from weekly origins over ``panel``.

    Only sums that are known by the panel's origin and positive on both sides are scored.
    """
    last = panel.origin
    rows: list[tuple[int, float]] = []
    total = panel.total
    earliest = HISTORY_DAYS - 1 + FIRST_ORIGIN_MARGIN_DAYS
    for origin in range(last - min(horizons), earliest - 1, -ORIGIN_STEP_DAYS):
        reach = [horizon for horizon in horizons if horizon <= last - origin]
        if not reach:
            continue
        forecast = np.cumsum(daily_forecast(panel.up_to(origin), origin, max(reach), uplift=uplift))
        actual = np.cumsum(total[origin + 1 : origin + 1 + max(reach)])
        for horizon in reach:
            if forecast[horizon - 1] > 0 and actual[horizon - 1] > 0:
                rows.append((horizon, float(np.log(actual[horizon - 1] / forecast[horizon - 1]))))
    return np.asarray(rows, dtype=float).reshape(-1, 2)


def error_model(errors: Sequence[np.ndarray]) -> ErrorModel:
    """Fit the error model (module docstring) to the :func:`origin_errors` of every range, the target's first.

    Raises
    ------
    InputError
        Fewer than :data:`MIN_ERRORS` errors could be measured.
    """
    pooled = np.concatenate(errors)
    if len(pooled) < MIN_ERRORS:
        raise InputError(
            f"too little history to measure the error of the forecast ({len(pooled)} replayed "
            f"forecasts, need {MIN_ERRORS}: about {HISTORY_DAYS + FIRST_ORIGIN_MARGIN_DAYS + 14} days)"
        )
    scale, exponent = _horizon_law(pooled)
    range_scales = np.ones(len(errors))
    for position, own in enumerate(errors):
        if len(own):
            mean_square = float(np.mean((own[:, 1] / (scale * own[:, 0] ** exponent)) ** 2))
            range_scales[position] = np.sqrt(
                (len(own) * mean_square + PRIOR_ORIGINS) / (len(own) + PRIOR_ORIGINS)
            )
    normalised = np.concatenate(
        [
            own[:, 1] / (range_scales[position] * scale * own[:, 0] ** exponent)
            for position, own in enumerate(errors)
            if len(own)
        ]
    )
    return ErrorModel(scale, exponent, range_scales, normalised, len(pooled))


def _horizon_law(errors: np.ndarray) -> tuple[float, float]:
    """Fit :math:`a h^b` to the root-mean-square error per horizon (weighted by the errors at each)."""
    horizons, logs, weights = [], [], []
    for horizon in np.unique(errors[:, 0]):
        at = errors[errors[:, 0] == horizon, 1]
        if len(at) >= MIN_PER_HORIZON and np.any(at != 0):
            horizons.append(np.log(horizon))
            logs.append(0.5 * np.log(np.mean(at**2)))
            weights.append(len(at))
    if not horizons:  # too few at any single horizon: one scale, growing as a random walk
        rms = float(np.sqrt(np.mean(errors[:, 1] ** 2))) or 1e-3
        return rms / float(np.sqrt(np.mean(errors[:, 0]))), 0.5
    x, y, w = np.asarray(horizons), np.asarray(logs), np.asarray(weights, dtype=float)
    exponent = 0.5
    if len(x) >= 2 and np.ptp(x) > 0:
        exponent = float(np.clip(np.polyfit(x, y, 1, w=np.sqrt(w))[0], 0.0, 1.0))
    log_scale = float(np.average(y - exponent * x, weights=w))
    return float(np.exp(log_scale)), exponent
