r"""Calibrated quantiles from backtest errors: split-conformal, scaled by series and step, by zero-distance.

A backtest error :math:`e_{i,h} = y - \hat y` of series :math:`i` at step
:math:`h` is standardised as

.. math:: u = e_{i,h} / (\sigma_i\, g_h)

- :math:`\sigma_i`, the series' error scale: its backtest RMS error, shrunk
  towards a prior (``c x`` its mean squared one-step change, ``c`` the median
  ratio over series) by ``_SHRINK_PERIODS`` pseudo-errors, so a few windows
  do not make it noisy;
- :math:`g_h`, the step profile: the RMS of :math:`e / \sigma_i` at step
  :math:`h`, pooled over series, made non-decreasing in :math:`h` by isotonic
  regression (the mean squared error of an optimal :math:`h`-step forecast
  never falls with :math:`h`), mean 1; intervals widen with the horizon as far
  as the errors do, and no further.

Quantiles of :math:`u` are pooled over series and steps within *Mondrian
bins* of :math:`r = \hat y / (\sigma_i g_h)`, the forecast's distance from
zero in error scales: where that distance is small (slow movers, intermittent
demand), errors are bounded below by :math:`-\hat y` and skewed up, unlike
a fast mover's; each bin gets its own error quantiles. A series' quantile is
:math:`\hat y + \sigma_i g_h\, q_{bin}(\tau)`. Pooling across thousands of
series is what makes the intervals calibrated with only a few backtest
windows per series.

References
----------
Vovk, Gammerman & Shafer (2005), *Algorithmic Learning in a Random World*, sec. 4.5 (conformal
prediction; Mondrian conformal predictors, conditional on a taxonomy);
Stankeviciute, Alaa & van der Schaar (2021), "Conformal time-series forecasting", NeurIPS;
Barlow, Bartholomew, Bremner & Brunk (1972), *Statistical Inference under Order Restrictions*
(isotonic regression, pool adjacent violators).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.forecast.base import quantile_column

_SHRINK_PERIODS = 8  # pseudo-observations of the prior scale added to each series' own
_PER_BIN = 500  # errors per Mondrian bin: q0.05 and q0.95 each rest on 25 or more errors beyond them
_MAX_BINS = 5


@dataclass(frozen=True)
class ConformalQuantiles:
    r"""Standardised error quantiles by bin, the step profile and each series' error scale.

    Attributes
    ----------
    levels : tuple of float
        Quantile levels.
    step_scale : numpy.ndarray
        :math:`g_h`, shape (horizon,): non-decreasing, mean 1.
    bin_edges : numpy.ndarray
        Upper edges of the bins of :math:`r` (``bins - 1`` values; empty for one bin).
    bin_quantiles : numpy.ndarray
        Shape (bins, len(levels)): the quantiles of :math:`u` in each bin.
    scale : pandas.Series
        :math:`\sigma_i` by ``unique_id``; ``default_scale`` for series not seen.
    default_scale : float
        Median scale, for series absent from the backtest.
    lower_bound : float or None
        Quantiles are clipped below at this value (0 for sales; None when the
        history had negative values).
    """

    levels: tuple[float, ...]
    step_scale: np.ndarray
    bin_edges: np.ndarray
    bin_quantiles: np.ndarray
    scale: pd.Series
    default_scale: float
    lower_bound: float | None = 0.0

    def spread(self, ids: pd.Series, steps: np.ndarray) -> np.ndarray:
        r"""Return :math:`\sigma_i g_h` for rows of series ``ids`` at 0-based ``steps``."""
        sigma = ids.map(self.scale).fillna(self.default_scale).to_numpy(dtype=float)
        return sigma * self.step_scale[np.minimum(steps, len(self.step_scale) - 1)]

    def bins(self, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """Return the bin of each row from its forecast ``mean`` and ``spread``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = np.where(spread > 0, mean / spread, np.inf)
        return np.searchsorted(self.bin_edges, distance, side="right")

    def apply(self, forecast: pd.DataFrame) -> pd.DataFrame:
        """Add quantile columns to ``forecast`` (``unique_id, ds, mean``, rows in step order per series)."""
        frame = forecast.copy()
        step = frame.groupby("unique_id", sort=False).cumcount().to_numpy()
        mean = frame["mean"].to_numpy(dtype=float)
        spread = self.spread(frame["unique_id"], step)
        table = self.bin_quantiles[self.bins(mean, spread)]
        values = np.sort(mean[:, None] + spread[:, None] * table, axis=1)  # quantiles never cross
        if self.lower_bound is not None:
            values = np.maximum(values, self.lower_bound)
        for position, level in enumerate(self.levels):
            frame[quantile_column(level)] = values[:, position]
        return frame


def fit_conformal(
    errors: pd.DataFrame,
    levels: Sequence[float],
    horizon: int,
    *,
    reference: pd.Series | None = None,
    lower_bound: float | None = 0.0,
) -> ConformalQuantiles:
    """Learn quantiles from backtest errors ``unique_id, step, error`` (+ ``forecast``).

    ``error`` is actual - forecast, ``step`` 0-based; ``forecast`` (the backtest
    forecast) places each error in its Mondrian bin (one bin without it).
    ``reference`` (by ``unique_id``) is a variance each series' error variance is
    proportional to a priori, e.g. its mean squared one-step difference; a
    series' own error variance is shrunk towards ``c x reference`` where ``c``
    is the median ratio over all series. Without it, towards the median variance.
    """
    levels = tuple(levels)
    if errors.empty:
        return ConformalQuantiles(
            levels,
            np.ones(horizon),
            np.zeros(0),
            np.zeros((1, len(levels))),
            pd.Series(dtype=float),
            0.0,
            lower_bound,
        )
    error = errors["error"].to_numpy(dtype=float)
    steps = np.minimum(errors["step"].to_numpy(), horizon - 1)
    ids = errors["unique_id"]
    scale = _series_scale(ids, error, reference)
    profile = step_profile(error / ids.map(scale).to_numpy(dtype=float), steps, horizon)
    # Scales again, now of errors with the step profile taken out.
    scale = _series_scale(ids, error / profile[steps], reference)
    default = float(np.median(scale)) if len(scale) else 0.0
    spread = ids.map(scale).to_numpy(dtype=float) * profile[steps]
    standardised = error / spread
    if "forecast" in errors:
        forecast = errors["forecast"].to_numpy(dtype=float)
        bins = min(_MAX_BINS, max(len(error) // _PER_BIN, 1))
        distance = forecast / spread
        edges = np.unique(np.quantile(distance, np.arange(1, bins) / bins)) if bins > 1 else np.zeros(0)
    else:
        distance, edges = np.zeros(len(error)), np.zeros(0)
    member = np.searchsorted(edges, distance, side="right")
    table = np.vstack(
        [
            np.quantile(standardised[member == number], levels)
            if (member == number).sum() >= 2
            else np.quantile(standardised, levels)
            for number in range(len(edges) + 1)
        ]
    )
    return ConformalQuantiles(levels, profile, edges, table, scale, default, lower_bound)


def step_profile(standardised: np.ndarray, steps: np.ndarray, horizon: int) -> np.ndarray:
    """Return :math:`g_h`: RMS of standardised errors by step, isotonic (non-decreasing), mean 1.

    Steps without errors take their neighbours' value; a profile of all zeros is flat.
    """
    counts = np.bincount(steps, minlength=horizon).astype(float)[:horizon]
    squares = np.bincount(steps, weights=standardised**2, minlength=horizon)[:horizon]
    seen = counts > 0
    if not seen.any():
        return np.ones(horizon)
    mean_square = np.interp(np.arange(horizon), np.flatnonzero(seen), squares[seen] / counts[seen])
    fitted = isotonic_increasing(mean_square, np.maximum(counts, 1.0))
    profile = np.sqrt(np.maximum(fitted, 0.0))
    average = float(np.average(profile, weights=np.maximum(counts, 1.0)))
    return profile / average if average > 0 else np.ones(horizon)


def isotonic_increasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit of ``values`` (pool adjacent violators).

    Examples
    --------
    >>> isotonic_increasing(np.array([1.0, 3.0, 2.0, 4.0]), np.ones(4)).tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    blocks: list[list[float]] = []  # [weighted mean, weight, length]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean_b, weight_b, length_b = blocks.pop()
            mean_a, weight_a, length_a = blocks.pop()
            total = weight_a + weight_b
            blocks.append([(mean_a * weight_a + mean_b * weight_b) / total, total, length_a + length_b])
    return np.concatenate([np.full(int(length), mean) for mean, _, length in blocks])


def _series_scale(ids: pd.Series, error: np.ndarray, reference: pd.Series | None) -> pd.Series:
    """Each series' error scale: its RMS error shrunk towards the prior (see the module docstring)."""
    per_series = (
        pd.DataFrame({"unique_id": ids.to_numpy(), "squared": error**2})
        .groupby("unique_id")["squared"]
        .agg(["sum", "count"])
    )
    own = per_series["sum"] / per_series["count"]
    index = per_series.index if reference is None else per_series.index.union(reference.index)
    per_series = per_series.reindex(index, fill_value=0)
    prior = pd.Series(float(np.median(own)), index=index)
    if reference is not None:
        base = reference.reindex(index).astype(float)
        usable = base > 0
        seen = usable & index.isin(own.index)
        if seen.any():
            ratio = float(np.median(own[seen[seen].index] / base[seen]))
            prior = (ratio * base).where(usable, prior)
    # Series without backtest errors (too short) get the prior alone.
    variance = (per_series["sum"] + _SHRINK_PERIODS * prior) / (per_series["count"] + _SHRINK_PERIODS)
    scale = pd.Series(np.sqrt(variance.to_numpy(dtype=float)), index=variance.index).where(variance > 0)
    default = float(np.nanmedian(scale)) if scale.notna().any() else 0.0
    return scale.fillna(default if default > 0 else 1.0)


def standardised_paths(
    errors: pd.DataFrame, calibration: ConformalQuantiles, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Whole backtest error paths (``unique_id, window, step, error, forecast``), standardised.

    Returns the paths, shape (paths, horizon), each error divided by
    :math:`\sigma_i g_h`, and each path's Mondrian bin (of its mean distance
    from zero). Keeping whole paths keeps the dependence between the errors of
    successive periods, which sums over periods (lead-time demand, a month's
    total) need and marginal quantiles cannot give.
    """
    complete = errors.groupby(["unique_id", "window"], sort=False)["step"].transform("size") == horizon
    chosen = errors[complete.to_numpy()].sort_values(["unique_id", "window", "step"])
    if chosen.empty:
        return np.zeros((0, horizon)), np.zeros(0, dtype=int)
    spread = calibration.spread(chosen["unique_id"], chosen["step"].to_numpy())
    spread = np.where(spread > 0, spread, 1.0)
    paths = (chosen["error"].to_numpy(dtype=float) / spread).reshape(-1, horizon)
    forecast = chosen["forecast"].to_numpy(dtype=float) if "forecast" in chosen else np.zeros(len(chosen))
    distance = (forecast / spread).reshape(-1, horizon).mean(axis=1)
    return paths, np.searchsorted(calibration.bin_edges, distance, side="right")


def sample_paths(
    forecast: pd.DataFrame,
    calibration: ConformalQuantiles,
    paths: np.ndarray,
    path_bins: np.ndarray,
    *,
    n_paths: int = 500,
    seed: int = 0,
) -> tuple[list[str], np.ndarray]:
    """Draw joint sample paths of each series' future: mean + spread x a resampled standardised path.

    ``forecast`` is ``unique_id, ds, mean`` in step order per series, all series
    with the same number of steps. Returns the ids and an array of shape
    (series, n_paths, steps). Each series draws from the backtest paths of its
    own Mondrian bin (all paths if its bin has none). Without backtest paths,
    each step is drawn independently from the calibrated quantiles
    (interpolated). This is a residual bootstrap of whole paths, pooled across
    series (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 9).
    """
    ordered = forecast.reset_index(drop=True)
    ids = list(dict.fromkeys(ordered["unique_id"].astype(str)))
    steps = len(ordered) // max(len(ids), 1)
    if steps * len(ids) != len(ordered):
        raise ValueError("sample_paths: every series needs the same number of forecast steps")
    mean = ordered["mean"].to_numpy(dtype=float).reshape(len(ids), steps)
    step_index = np.tile(np.arange(steps), len(ids))
    spread = calibration.spread(ordered["unique_id"].astype(str), step_index).reshape(len(ids), steps)
    rng = np.random.default_rng(seed)
    if len(paths):
        usable = (
            paths[:, :steps]
            if paths.shape[1] >= steps
            else np.pad(paths, ((0, 0), (0, steps - paths.shape[1])), mode="edge")
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = np.where(spread > 0, mean / spread, np.inf).mean(axis=1)
        own_bin = np.searchsorted(calibration.bin_edges, distance, side="right")
        draws = np.empty((len(ids), n_paths, steps))
        for number in np.unique(own_bin):
            rows = np.flatnonzero(own_bin == number)
            pool = np.flatnonzero(path_bins == number)
            pool = pool if len(pool) else np.arange(len(usable))
            draws[rows] = usable[pool[rng.integers(0, len(pool), size=(len(rows), n_paths))]]
    else:
        levels = np.asarray(calibration.levels, dtype=float)
        table = calibration.bin_quantiles[0]
        uniform = rng.uniform(levels[0], levels[-1], size=(len(ids), n_paths, steps))
        draws = np.interp(uniform, levels, table)
    sampled = mean[:, None, :] + spread[:, None, :] * draws
    if calibration.lower_bound is not None:
        sampled = np.maximum(sampled, calibration.lower_bound)
    return ids, sampled
