"""Calibrated quantiles from backtest errors: split-conformal, pooled over series, per horizon step.

Each series' backtest errors are divided by a per-series scale (its backtest
RMSE, shrunk towards the pool so that a few windows do not make it noisy);
the empirical quantiles of these standardised errors, per horizon step,
pooled over all series, give every series its quantiles as
``mean + scale x quantile``. Pooling across thousands of series is what makes
the intervals calibrated with only a few backtest windows per series.

References
----------
Vovk, Gammerman & Shafer (2005), *Algorithmic Learning in a Random World* (conformal prediction);
Stankeviciute, Alaa & van der Schaar (2021), "Conformal time-series forecasting", NeurIPS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.forecast.base import quantile_column

_SHRINK_PERIODS = 8  # pseudo-observations of the pooled scale added to each series' own
_MIN_PER_STEP = 200  # below this many errors per step, steps share one pool


@dataclass(frozen=True)
class ConformalQuantiles:
    """Standardised error quantiles per horizon step and each series' error scale.

    Attributes
    ----------
    levels : tuple of float
        Quantile levels.
    step_quantiles : numpy.ndarray
        Shape (horizon, len(levels)): quantile of standardised errors by step.
    scale : pandas.Series
        Error scale by ``unique_id``; ``default_scale`` for series not seen.
    default_scale : float
        Median scale, for series absent from the backtest.
    """

    levels: tuple[float, ...]
    step_quantiles: np.ndarray
    scale: pd.Series
    default_scale: float

    def apply(self, forecast: pd.DataFrame, *, nonnegative: bool = True) -> pd.DataFrame:
        """Add quantile columns to ``forecast`` (``unique_id, ds, mean``, rows in step order per series)."""
        frame = forecast.copy()
        step = frame.groupby("unique_id", sort=False).cumcount().to_numpy()
        step = np.minimum(step, self.step_quantiles.shape[0] - 1)
        scale = frame["unique_id"].map(self.scale).fillna(self.default_scale).to_numpy(dtype=float)
        mean = frame["mean"].to_numpy(dtype=float)
        values = mean[:, None] + scale[:, None] * self.step_quantiles[step]
        values = np.sort(values, axis=1)  # quantiles never cross
        if nonnegative:
            values = np.maximum(values, 0.0)
        for position, level in enumerate(self.levels):
            frame[quantile_column(level)] = values[:, position]
        return frame


def fit_conformal(
    errors: pd.DataFrame, levels: Sequence[float], horizon: int, *, reference: pd.Series | None = None
) -> ConformalQuantiles:
    """Learn quantiles from backtest errors ``unique_id, step, error`` (``error`` = actual - forecast).

    ``reference`` (by ``unique_id``) is a variance each series' error variance is
    proportional to a priori, e.g. its mean squared one-step difference; a
    series' own error variance is shrunk towards ``c x reference`` where ``c``
    is the median ratio over all series. Without it, towards the median variance.
    """
    levels = tuple(levels)
    if errors.empty:
        zeros = np.zeros((horizon, len(levels)))
        return ConformalQuantiles(levels, zeros, pd.Series(dtype=float), 0.0)
    squared = errors.assign(squared=errors["error"].to_numpy(dtype=float) ** 2)
    per_series = squared.groupby("unique_id")["squared"].agg(["sum", "count"])
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
    scale = scale.fillna(default if default > 0 else 1.0)
    standardised = errors["error"].to_numpy(dtype=float) / errors["unique_id"].map(scale).to_numpy(
        dtype=float
    )
    steps = errors["step"].to_numpy()
    overall = np.quantile(standardised, levels)
    table = np.tile(overall, (horizon, 1))
    for step in range(horizon):
        chosen = standardised[steps == step]
        if len(chosen) >= _MIN_PER_STEP:
            table[step] = np.quantile(chosen, levels)
    return ConformalQuantiles(levels, table, scale, default)


def standardised_paths(errors: pd.DataFrame, calibration: ConformalQuantiles, horizon: int) -> np.ndarray:
    """Whole backtest error paths (``unique_id, window, step, error``), each divided by its series' scale.

    Returns shape (paths, horizon): one row per series and backtest window that
    covers every step. Keeping whole paths keeps the dependence between the
    errors of successive periods, which sums over periods (lead-time demand,
    a month's total) need and marginal quantiles cannot give.
    """
    complete = errors.groupby(["unique_id", "window"], sort=False)["step"].transform("size") == horizon
    chosen = errors[complete.to_numpy()].sort_values(["unique_id", "window", "step"])
    if chosen.empty:
        return np.zeros((0, horizon))
    scale = chosen["unique_id"].map(calibration.scale).fillna(calibration.default_scale).to_numpy(dtype=float)
    scale = np.where(scale > 0, scale, 1.0)
    return (chosen["error"].to_numpy(dtype=float) / scale).reshape(-1, horizon)


def sample_paths(
    forecast: pd.DataFrame,
    calibration: ConformalQuantiles,
    paths: np.ndarray,
    *,
    n_paths: int = 500,
    seed: int = 0,
    nonnegative: bool = True,
) -> tuple[list[str], np.ndarray]:
    """Draw joint sample paths of each series' future: mean + scale x a resampled standardised error path.

    ``forecast`` is ``unique_id, ds, mean`` in step order per series, all series
    with the same number of steps. Returns the ids and an array of shape
    (series, n_paths, steps). Without backtest paths, each step is drawn
    independently from the calibrated per-step quantiles (interpolated).
    This is a residual bootstrap of whole paths, pooled across series
    (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 9).
    """
    ordered = forecast.reset_index(drop=True)
    ids = list(dict.fromkeys(ordered["unique_id"].astype(str)))
    steps = len(ordered) // max(len(ids), 1)
    if steps * len(ids) != len(ordered):
        raise ValueError("sample_paths: every series needs the same number of forecast steps")
    mean = ordered["mean"].to_numpy(dtype=float).reshape(len(ids), steps)
    scale = pd.Series(ids).map(calibration.scale).fillna(calibration.default_scale).to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    if len(paths):
        usable = (
            paths[:, :steps]
            if paths.shape[1] >= steps
            else np.pad(paths, ((0, 0), (0, steps - paths.shape[1])), mode="edge")
        )
        draws = usable[rng.integers(0, len(usable), size=(len(ids), n_paths))]
    else:
        levels = np.asarray(calibration.levels, dtype=float)
        table = calibration.step_quantiles[np.minimum(np.arange(steps), len(calibration.step_quantiles) - 1)]
        uniform = rng.uniform(levels[0], levels[-1], size=(len(ids), n_paths, steps))
        draws = np.empty_like(uniform)
        for step in range(steps):
            draws[:, :, step] = np.interp(uniform[:, :, step], levels, table[step])
    sampled = mean[:, None, :] + scale[:, None, None] * draws
    return ids, np.maximum(sampled, 0.0) if nonnegative else sampled
