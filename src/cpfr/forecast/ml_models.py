r"""Adapter over LightGBM (and mlforecast): global gradient-boosted models across all series.

Two strategies for the ``H`` steps ahead, each with two losses:

- *recursive* (``lightgbm``, ``lightgbm_tweedie``, through mlforecast): one
  model of the next period from lags and rolling means of the target,
  calendar features and known-future covariates, applied step after step
  with its own forecasts as lags;
- *direct* (``lightgbm_direct``, ``lightgbm_direct_tweedie``): one model of
  :math:`y_{t+h}` for every step :math:`h` at once (the step is a feature),
  from what is known at the origin :math:`t` (:mod:`cpfr.forecast.features`):
  no error feeds back through the steps.

The squared-error variants learn each series' target divided by its scale,
so one model serves series of very different volume. The Tweedie variants
model counts (zero-inflated, skewed sales) with the Tweedie deviance and a
log link, as the M5 winners did; the direct one takes the series' scale as
an offset, :math:`\log\\mu = \log s_{i,t} + f(x)`, so the trees learn the
multiplicative shape and not the level. Tweedie needs ``y >= 0``.

References
----------
Ke et al. (2017), "LightGBM: A highly efficient gradient boosting decision tree", NeurIPS;
Januschowski et al. (2022), "Forecasting with trees", IJF 38(4) (the M5 winners' global LightGBM);
Jørgensen (1987), "Exponential dispersion models", JRSS B 49(2) (the Tweedie family);
Taieb et al. (2012), "A review and comparison of strategies for multi-step ahead time series
forecasting", Expert Systems with Applications 39(8) (recursive and direct strategies).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import ExpandingMean, RollingMean
from mlforecast.target_transforms import LocalStandardScaler

from cpfr.exceptions import InputError
from cpfr.forecast.base import Setup
from cpfr.forecast.features import MIN_HISTORY, DirectFeatures, Panel

_LEARNING_RATE = 0.05
_TREES = 300
_LARGE_ROWS = 2_000_000  # beyond this many training rows the recursive model grows half the trees
_TWEEDIE_POWER = 1.2  # between Poisson (1) and gamma (2): zero-inflated counts, as in the M5 solutions
_DIRECT_ROWS = 300_000  # training rows of the direct model (a uniform sample beyond)
_DIRECT_ORIGINS = 156  # origins the direct model learns from: three years of weeks


def _lags(season: int, horizon: int) -> list[int]:
    base = {1, 2, 3, 4, season, max(horizon, 1)}
    if season >= 12:
        base |= {season // 4, season // 2}
    return sorted(lag for lag in base if lag >= 1)


def ml_min_training(season: int, horizon: int) -> int:
    """Return the shortest training series that gives the recursive model rows to learn from.

    Rows need every lag known; LightGBM refuses to train on fewer than two, so a
    series must be two periods longer than the longest lag.
    """
    return max(_lags(season, horizon)) + 2


def _regressor(objective: str, threads: int, trees: int) -> lgb.LGBMRegressor:
    extra: dict[str, Any] = {"tweedie_variance_power": _TWEEDIE_POWER} if objective == "tweedie" else {}
    return lgb.LGBMRegressor(
        objective=objective,
        n_estimators=trees,
        learning_rate=_LEARNING_RATE,
        num_leaves=31,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        verbosity=-1,
        n_jobs=threads,
        random_state=0,
        deterministic=True,
        force_row_wise=True,
        **extra,
    )


def _date_features(freq: str) -> list[str]:
    code = freq.upper().split("-")[0]
    if code in {"D", "B"}:
        return ["dayofweek", "day", "month", "dayofyear"]
    if code.startswith("W"):
        return ["week", "month"]
    return ["month"]


@dataclass(frozen=True)
class RecursiveBoosting:
    """A global one-step LightGBM applied recursively over the horizon (mlforecast).

    Parameters
    ----------
    name : str
        ``lightgbm`` or ``lightgbm_tweedie``.
    objective : {'l2', 'tweedie'}
        Squared error on each series' standardised target, or Tweedie deviance on raw counts.
    """

    name: str
    objective: str = "l2"
    per_series: ClassVar[bool] = False  # one LightGBM learns across every series

    @property
    def nonnegative(self) -> bool:
        """Tweedie needs ``y >= 0``."""
        return self.objective == "tweedie"

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        """Fit on ``history``; forecast ``unique_id, ds, <name>`` (``future`` must give the covariates)."""
        frame = _prepare(history, setup.covariates)
        trees = _TREES if len(frame) < _LARGE_ROWS else _TREES // 2
        engine = MLForecast(
            models={self.name: _regressor(self.objective, setup.threads, trees)},
            freq=setup.freq,
            lags=_lags(setup.season, setup.horizon),
            lag_transforms={
                1: [
                    RollingMean(window_size=4),
                    RollingMean(window_size=max(setup.season // 4, 4)),
                    ExpandingMean(),
                ]
            },
            date_features=_date_features(setup.freq),
            target_transforms=None if self.objective == "tweedie" else [LocalStandardScaler()],
            num_threads=1,
        )
        ahead = _future(future, setup.covariates)
        with _quiet():
            engine.fit(frame, static_features=[])
            result = engine.predict(h=setup.horizon, X_df=ahead)
        result["unique_id"] = result["unique_id"].astype(str)
        return result[["unique_id", "ds", self.name]].reset_index(drop=True)

    def min_history(self, setup: Setup) -> int:
        """Return the longest lag plus two periods (see :func:`ml_min_training`)."""
        return ml_min_training(setup.season, setup.horizon)


@dataclass(frozen=True)
class DirectBoosting:
    r"""A global LightGBM of every step ahead at once, from features known at the origin.

    Trained on the last ``_DIRECT_ORIGINS`` origins of every series (a sample of
    ``_DIRECT_ROWS`` rows beyond), features from :class:`~cpfr.forecast.features.DirectFeatures`.

    Parameters
    ----------
    name : str
        ``lightgbm_direct`` or ``lightgbm_direct_tweedie``.
    objective : {'l2', 'tweedie'}
        Squared error of :math:`y_{t+h} / s_{i,t}`, or Tweedie deviance of :math:`y_{t+h}`
        with offset :math:`\log s_{i,t}`.
    """

    name: str
    objective: str = "l2"
    per_series: ClassVar[bool] = False  # one LightGBM learns across every series

    @property
    def nonnegative(self) -> bool:
        """Tweedie needs ``y >= 0``."""
        return self.objective == "tweedie"

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        """Fit on ``history``; forecast ``unique_id, ds, <name>`` (``future`` must give the covariates)."""
        ahead = _future(future, setup.covariates)
        season = setup.season
        scale_window = max(min(season, 52), 2 * setup.horizon, 8)
        keep = _DIRECT_ORIGINS + setup.horizon + 2 * season + scale_window + 1
        panel = Panel.from_frame(
            _prepare(history, setup.covariates),
            freq=setup.freq,
            horizon=setup.horizon,
            covariates=setup.covariates,
            future=ahead,
            periods=keep,
        )
        features = DirectFeatures(panel, freq=setup.freq, season=season, scale_window=scale_window)
        last = panel.periods - 1
        series, origin, step = features.training_rows(
            np.full(len(panel.ids), last), max_origins=_DIRECT_ORIGINS, max_rows=_DIRECT_ROWS
        )
        if len(series) < 2:
            raise InputError(
                f"{self.name}: no series is long enough to learn from ({_direct_min(setup)} periods needed)"
            )
        rows = features.rows(series, origin, step)
        target = panel.values[series, origin + step]
        scale = features.scale[series, origin]
        model = _regressor(self.objective, setup.threads, _TREES)
        every = np.arange(len(panel.ids))
        ahead_series = np.repeat(every, setup.horizon)
        ahead_origin = np.full(len(ahead_series), last)
        ahead_step = np.tile(np.arange(1, setup.horizon + 1), len(every))
        ahead_rows = features.rows(ahead_series, ahead_origin, ahead_step)
        ahead_scale = features.scale[ahead_series, ahead_origin]
        if self.objective == "tweedie":
            model.fit(rows, np.maximum(target, 0.0), init_score=np.log(scale))
            predicted = np.exp(model.predict(ahead_rows, raw_score=True) + np.log(ahead_scale))
        else:
            model.fit(rows, target / scale)
            predicted = model.predict(ahead_rows) * ahead_scale
        return pd.DataFrame(
            {
                "unique_id": panel.ids[ahead_series],
                "ds": panel.dates[ahead_series, last + ahead_step],
                self.name: predicted,
            }
        )

    def min_history(self, setup: Setup) -> int:
        """Return a few periods before the first origin and targets after it."""
        return _direct_min(setup)


def _direct_min(setup: Setup) -> int:
    return MIN_HISTORY + 2  # periods before the first origin, then targets at two origins


def _prepare(history: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    frame = history[["unique_id", "ds", "y", *covariates]].copy()
    for column in covariates:
        frame[column] = frame[column].astype(float)
    return frame


def _future(future: pd.DataFrame | None, covariates: Sequence[str]) -> pd.DataFrame | None:
    if not covariates:
        return None
    if future is None:
        raise InputError("the LightGBM models need future values of the covariates")
    frame = future[["unique_id", "ds", *covariates]].copy()
    for column in covariates:
        frame[column] = frame[column].astype(float)
    return frame


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence mlforecast's notes on series shorter than the longest lag: expected, and handled."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The following series were dropped", category=UserWarning)
        warnings.filterwarnings("ignore", message="Found null values in lag", category=UserWarning)
        yield


ML_MODELS: dict[str, RecursiveBoosting | DirectBoosting] = {
    "lightgbm": RecursiveBoosting("lightgbm", "l2"),
    "lightgbm_tweedie": RecursiveBoosting("lightgbm_tweedie", "tweedie"),
    "lightgbm_direct": DirectBoosting("lightgbm_direct", "l2"),
    "lightgbm_direct_tweedie": DirectBoosting("lightgbm_direct_tweedie", "tweedie"),
}
