"""Adapter over mlforecast + LightGBM: one global gradient-boosted model across all series.

Features: lags and rolling means of the target, calendar features, and the
known-future covariates (prices, discounts, promotion, event and subsidy
flags). Two variants: ``lightgbm`` standardises each series' target so one
squared-error model serves series of very different volume; ``lightgbm_tweedie``
models raw counts with the Tweedie loss, as the M5 winners did for
zero-inflated sales. Forecasts are floored at zero.

References
----------
Ke et al. (2017), "LightGBM: A highly efficient gradient boosting decision tree", NeurIPS;
Januschowski et al. (2022), "Forecasting with trees", IJF 38(4) (the M5 winners' global LightGBM).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlforecast import MLForecast
from mlforecast.lag_transforms import ExpandingMean, RollingMean
from mlforecast.target_transforms import LocalStandardScaler

ML_MODELS: tuple[str, ...] = ("lightgbm", "lightgbm_tweedie")


def _lags(season: int, horizon: int) -> list[int]:
    base = {1, 2, 3, 4, season, max(horizon, 1)}
    if season >= 12:
        base |= {season // 4, season // 2}
    return sorted(lag for lag in base if lag >= 1)


def ml_min_history(season: int, horizon: int) -> int:
    """Return the periods of history a series needs before the global model has a row to learn from."""
    return max(_lags(season, horizon)) + 8


def ml_min_training(season: int, horizon: int) -> int:
    """Return the shortest training series that gives the global model rows to learn from.

    Rows need every lag known; LightGBM refuses to train on fewer than two, so a
    series must be two periods longer than the longest lag.
    """
    return max(_lags(season, horizon)) + 2


def _date_features(freq: str) -> list[str]:
    code = freq.upper().split("-")[0]
    if code in {"D", "B"}:
        return ["dayofweek", "day", "month", "dayofyear"]
    if code.startswith("W"):
        return ["week", "month"]
    return ["month"]


def _engine(name: str, freq: str, season: int, horizon: int, n_rows: int) -> MLForecast:
    tweedie = name == "lightgbm_tweedie"
    model = lgb.LGBMRegressor(
        objective="tweedie" if tweedie else "l2",
        n_estimators=300 if n_rows < 2_000_000 else 150,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        verbosity=-1,
        n_jobs=2,
        random_state=0,
    )
    return MLForecast(
        models={name: model},
        freq=freq,
        lags=_lags(season, horizon),
        lag_transforms={
            1: [RollingMean(window_size=4), RollingMean(window_size=max(season // 4, 4)), ExpandingMean()]
        },
        date_features=_date_features(freq),
        target_transforms=None if tweedie else [LocalStandardScaler()],
        num_threads=1,
    )


def _prepare(history: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    frame = history[["unique_id", "ds", "y", *covariates]].copy()
    for column in covariates:
        frame[column] = frame[column].astype(float)
    return frame


def ml_forecast(
    history: pd.DataFrame,
    name: str = "lightgbm",
    *,
    horizon: int,
    freq: str,
    season: int,
    covariates: Sequence[str] = (),
    future: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Fit the LightGBM variant ``name`` on ``history``; forecast ``unique_id, ds, <name>`` for ``horizon``.

    ``future`` must give ``covariates`` for every series and future period.
    """
    frame = _prepare(history, covariates)
    engine = _engine(name, freq, season, horizon, len(frame))
    x_future = _prepare_future(future, covariates)
    with _quiet():
        engine.fit(frame, static_features=[])
        return _finish(engine.predict(h=horizon, X_df=x_future), name)


def ml_cross_validation(
    history: pd.DataFrame,
    name: str = "lightgbm",
    *,
    horizon: int,
    n_windows: int,
    step: int,
    freq: str,
    season: int,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Rolling-origin forecasts of the LightGBM variant ``name``: ``unique_id, ds, cutoff, y, <name>``."""
    frame = _prepare(history, covariates)
    engine = _engine(name, freq, season, horizon, len(frame))
    with _quiet():
        result = engine.cross_validation(
            frame, n_windows=n_windows, h=horizon, step_size=step, static_features=[], refit=True
        )
    return _finish(result, name).reset_index(drop=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence mlforecast's notes on series shorter than the longest lag: expected, and handled."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The following series were dropped", category=UserWarning)
        warnings.filterwarnings("ignore", message="Found null values in lag", category=UserWarning)
        yield


def _finish(result: pd.DataFrame, name: str) -> pd.DataFrame:
    """Floor forecasts at zero (sales are never negative) and give ids as text."""
    result[name] = np.maximum(result[name].to_numpy(dtype=float), 0.0)
    result["unique_id"] = result["unique_id"].astype(str)
    return result


def _prepare_future(future: pd.DataFrame | None, covariates: Sequence[str]) -> pd.DataFrame | None:
    if not covariates:
        return None
    if future is None:
        raise ValueError("the LightGBM model needs future values of its covariates")
    frame = future[["unique_id", "ds", *covariates]].copy()
    for column in covariates:
        frame[column] = frame[column].astype(float)
    return frame
