"""Adapter over statsforecast: local statistical and intermittent-demand models as cpfr models.

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
from statsforecast import StatsForecast
from statsforecast import models as sf

from cpfr.forecast.base import Setup

# cpfr name -> factory(season_length) of a statsforecast model, aliased to the cpfr name.
_FACTORIES: dict[str, Callable[[int], Any]] = {
    "naive": lambda season: sf.Naive(alias="naive"),
    "seasonal_naive": lambda season: sf.SeasonalNaive(season_length=season, alias="seasonal_naive"),
    "historic_average": lambda season: sf.HistoricAverage(alias="historic_average"),
    "window_average": lambda season: sf.WindowAverage(
        window_size=max(4, min(season, 13)), alias="window_average"
    ),
    "ses": lambda season: sf.SimpleExponentialSmoothingOptimized(alias="ses"),
    "ets": lambda season: sf.AutoETS(season_length=season, alias="ets"),
    "theta": lambda season: sf.AutoTheta(season_length=season, alias="theta"),
    "arima": lambda season: sf.AutoARIMA(season_length=season, alias="arima"),
    "croston_sba": lambda season: sf.CrostonSBA(alias="croston_sba"),
    "adida": lambda season: sf.ADIDA(alias="adida"),
    "imapa": lambda season: sf.IMAPA(alias="imapa"),
    "tsb": lambda season: sf.TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb"),
}
# Intermittent-demand methods model the size and occurrence of positive demands.
_COUNTS_ONLY = frozenset({"croston_sba", "adida", "imapa", "tsb"})


@dataclass(frozen=True)
class StatsModel:
    """One statsforecast model, fitted to each series separately.

    Parameters
    ----------
    name : str
        cpfr's name of the model (a key of the adapter's factories).
    nonnegative : bool
        True for the intermittent-demand methods, which need counts.
    """

    name: str
    nonnegative: bool = False
    per_series: ClassVar[bool] = True  # each series is fitted on its own history

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        """Fit the model on every series of ``history``; return ``unique_id, ds, <name>``."""
        engine = StatsForecast(
            models=[_FACTORIES[self.name](setup.season)],
            freq=setup.freq,
            n_jobs=setup.threads,
            # A series too short for the model gets the fallback instead of failing the run.
            fallback_model=sf.Naive(alias=self.name),
        )
        frame = engine.forecast(h=setup.horizon, df=history[["unique_id", "ds", "y"]])
        frame = frame.reset_index() if "unique_id" not in frame.columns else frame
        frame["unique_id"] = frame["unique_id"].astype(str)
        return frame[["unique_id", "ds", self.name]].reset_index(drop=True)

    def min_history(self, setup: Setup) -> int:
        """Any history: a series too short for the model gets the naive fallback."""
        return 1


STATS_MODELS: dict[str, StatsModel] = {
    name: StatsModel(name, nonnegative=name in _COUNTS_ONLY) for name in _FACTORIES
}
