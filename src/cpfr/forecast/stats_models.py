"""Adapter over statsforecast: local statistical and intermittent-demand models by cpfr name.

The rest of cpfr names models (``'ets'``, ``'tsb'``) and never imports
statsforecast; swapping the library touches this module only.

References
----------
Hyndman, Koehler, Ord & Snyder (2008), *Forecasting with Exponential Smoothing*;
Assimakopoulos & Nikolopoulos (2000), "The theta model", IJF 16(4);
Syntetos & Boylan (2005), "The accuracy of intermittent demand estimates", IJF 21(2) (SBA);
Nikolopoulos et al. (2011), "An aggregate-disaggregate intermittent demand approach (ADIDA)", JORS 62(3);
Petropoulos & Kourentzes (2015), "Forecast combinations for intermittent demand", JORS 66(6) (IMAPA);
Teunter, Syntetos & Babai (2011), "Intermittent demand: linking forecasting to inventory obsolescence",
EJOR 214(3) (TSB).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from statsforecast import StatsForecast
from statsforecast import models as sf

# cpfr name -> factory(season_length) of a statsforecast model, aliased to the cpfr name.
_FACTORIES: dict[str, Callable[[int], Any]] = {
    "naive": lambda season: sf.Naive(alias="naive"),
    "seasonal_naive": lambda season: sf.SeasonalNaive(season_length=season, alias="seasonal_naive"),
    "historic_average": lambda season: sf.HistoricAverage(alias="historic_average"),
    "window_average": lambda season: sf.WindowAverage(
        window_size=max(4, min(season, 13)), alias="window_average"
    ),
    "ets": lambda season: sf.AutoETS(season_length=season, alias="ets"),
    "theta": lambda season: sf.AutoTheta(season_length=season, alias="theta"),
    "arima": lambda season: sf.AutoARIMA(season_length=season, alias="arima"),
    "croston_sba": lambda season: sf.CrostonSBA(alias="croston_sba"),
    "adida": lambda season: sf.ADIDA(alias="adida"),
    "imapa": lambda season: sf.IMAPA(alias="imapa"),
    "tsb": lambda season: sf.TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb"),
}
STATS_MODELS: tuple[str, ...] = tuple(_FACTORIES)


def _engine(names: Sequence[str], freq: str, season: int) -> StatsForecast:
    models = [_FACTORIES[name](season) for name in names]
    # A series too short for a model gets the fallback instead of failing the run.
    return StatsForecast(models=models, freq=freq, n_jobs=1, fallback_model=sf.Naive(alias="fallback"))


def stats_forecast(
    history: pd.DataFrame, names: Sequence[str], *, horizon: int, freq: str, season: int
) -> pd.DataFrame:
    """Fit each named model on every series of ``history`` and forecast ``horizon`` periods.

    Returns a long frame ``unique_id, ds`` plus one column per model name.
    """
    frame = _engine(names, freq, season).forecast(h=horizon, df=history[["unique_id", "ds", "y"]])
    return _flatten(frame)


def stats_cross_validation(
    history: pd.DataFrame,
    names: Sequence[str],
    *,
    horizon: int,
    n_windows: int,
    step: int,
    freq: str,
    season: int,
) -> pd.DataFrame:
    """Rolling-origin forecasts: ``unique_id, ds, cutoff, y`` plus one column per model name."""
    frame = _engine(names, freq, season).cross_validation(
        h=horizon, df=history[["unique_id", "ds", "y"]], n_windows=n_windows, step_size=step
    )
    return _flatten(frame)


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    frame["unique_id"] = frame["unique_id"].astype(str)
    return frame.reset_index(drop=True)
