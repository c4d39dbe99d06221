"""Pooled ("group") seasonality: one seasonal profile learnt across all series, a local level per series.

Short retail series — two or three years of weekly sales — hold only two or
three observations of each week of the year, far too few to estimate a
seasonal index per series (ETS and Theta then either drop seasonality or
chase noise). The products of one retailer share the calendar: Christmas,
Double 11, back to school. The seasonal index is therefore estimated once,
from all series pooled (volume-weighted ratios to a centred moving average,
classical multiplicative decomposition), each series is deseasonalised with
it, its level is forecast by simple exponential smoothing (statsforecast), and
the forecast is reseasonalised.

Hand-written because neither statsforecast nor mlforecast estimates a
seasonal profile across series; the smoothing itself is statsforecast's.

References
----------
Withycombe (1989), "Forecasting with combined seasonal indices", IJF 5(4);
Bunn & Vassilopoulos (1999), "Comparison of seasonal estimation methods in multi-item
short-term forecasting", IJF 15(4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast import models as sf

from cpfr.forecast.base import Setup

_FLOOR = 0.1  # smallest seasonal index: a near-empty period must not blow up the deseasonalised series


def season_position(ds: pd.Series, freq: str, season: int) -> np.ndarray:
    """Position 0..season-1 of each date in the seasonal cycle (month, quarter, ISO week or period count)."""
    code = freq.upper().split("-")[0]
    dates = pd.to_datetime(ds)
    if season == 12 and code.startswith("M"):
        return dates.dt.month.to_numpy() - 1
    if season == 4 and code.startswith("Q"):
        return dates.dt.quarter.to_numpy() - 1
    if season == 52 and code.startswith("W"):
        # ISO week 53 (every five or six years) shares week 52's index.
        return np.minimum(dates.dt.isocalendar().week.to_numpy().astype(int), 52) - 1
    periods = dates.dt.to_period(freq).astype("int64").to_numpy()  # days, hours, ...: count of periods
    return np.mod(periods, season)


def pooled_seasonal_index(history: pd.DataFrame, freq: str, season: int) -> np.ndarray:
    """Seasonal indices (mean 1) pooled over all series: sum of sales / sum of centred moving averages."""
    if season <= 1:
        return np.ones(1)
    ordered = history.sort_values(["unique_id", "ds"])
    groups = ordered.groupby("unique_id", sort=False)["y"]
    trend = groups.transform(lambda y: y.rolling(season, center=True, min_periods=season).mean())
    if season % 2 == 0:  # a 2 x season moving average centres an even season
        trend = trend.groupby(ordered["unique_id"], sort=False).transform(
            lambda y: y.rolling(2, min_periods=2).mean().shift(-1)
        )
    usable = (trend > 0).to_numpy()
    position = season_position(ordered["ds"], freq, season)[usable]
    sales = np.bincount(position, weights=ordered["y"].to_numpy(dtype=float)[usable], minlength=season)
    level = np.bincount(position, weights=trend.to_numpy(dtype=float)[usable], minlength=season)
    index = np.divide(sales, level, out=np.ones(season), where=level > 0)
    index = np.maximum(index, _FLOOR)
    return index / index.mean()


@dataclass(frozen=True)
class PooledSeasonal:
    """Seasonal index pooled over all series, a local level per series by simple exponential smoothing.

    Needs ``y >= 0``: the seasonal index is multiplicative.
    """

    name: str = "pooled_seasonal"
    nonnegative: bool = True
    per_series: ClassVar[bool] = False  # the seasonal index is pooled over every series

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        """Forecast ``unique_id, ds, pooled_seasonal``, ``setup.horizon`` periods after each series' end."""
        train = history[["unique_id", "ds", "y"]]
        freq, season = setup.freq, setup.season
        index = pooled_seasonal_index(train, freq, season)
        factor = index[season_position(train["ds"], freq, season)] if season > 1 else 1.0
        adjusted = train[["unique_id", "ds"]].assign(y=train["y"].to_numpy(dtype=float) / factor)
        engine = StatsForecast(
            models=[sf.SimpleExponentialSmoothingOptimized(alias="level")],
            freq=freq,
            n_jobs=setup.threads,
            fallback_model=sf.Naive(alias="level"),
        )
        out = engine.forecast(h=setup.horizon, df=adjusted)
        out = out.reset_index() if "unique_id" not in out.columns else out
        ahead = index[season_position(out["ds"], freq, season)] if season > 1 else 1.0
        out[self.name] = np.maximum(out["level"].to_numpy(dtype=float) * ahead, 0.0)
        out["unique_id"] = out["unique_id"].astype(str)
        return out[["unique_id", "ds", self.name]].reset_index(drop=True)

    def min_history(self, setup: Setup) -> int:
        """Any history: the level of a one-period series is its value."""
        return 1


POOLED_MODELS: dict[str, PooledSeasonal] = {"pooled_seasonal": PooledSeasonal()}
