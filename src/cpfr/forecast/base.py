"""What every forecaster shares: the model protocol, frequencies and seasons, quantile names, frames.

Frames are long, as in Nixtla's libraries: ``unique_id, ds, y`` plus
exogenous columns for history; ``unique_id, ds, mean, q0.05, ...`` for
forecasts. Quantile columns are named ``q`` + the level as Python prints it.

A model is an object behind :class:`ForecastModel`: told the task in a
:class:`Setup`, it forecasts every series of a history; the orchestrator
(:class:`cpfr.forecast.auto.AutoForecaster`) backtests, combines and
calibrates models, and owns the parallelism, as statsforecast's
``StatsForecast`` does for its models. Models are found by name in
:data:`cpfr.forecast.registry.MODELS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from cpfr.data.schema_types import QUANTILE_LEVELS
from cpfr.exceptions import InputError, LimitError
from cpfr.forecast.limits import MAX_QUANTILE_LEVELS

DEFAULT_QUANTILES: tuple[float, ...] = QUANTILE_LEVELS  # one definition, beside the store's columns


@dataclass(frozen=True)
class Setup:
    """The forecasting task every model is told.

    Attributes
    ----------
    horizon : int
        Periods to forecast after each series' last period.
    freq : str
        Pandas offset alias of the periods.
    season : int
        Main seasonal period (:func:`season_length`).
    covariates : tuple of str
        Known-future exogenous columns of the history (and of ``future``).
    threads : int
        Threads the model may use (the orchestrator's share of ``n_jobs``).
    """

    horizon: int
    freq: str
    season: int
    covariates: tuple[str, ...] = ()
    threads: int = 1


class ForecastModel(Protocol):
    """A forecasting model: forecasts every series of a history, ``horizon`` periods ahead.

    Attributes
    ----------
    name : str
        The model's name in the registry and the column of its forecasts.
    nonnegative : bool
        The model needs ``y >= 0`` (counts, multiplicative seasonality, Tweedie):
        the orchestrator gives it the history with negative values clipped to 0.
    per_series : bool
        The forecast of a series depends on that series' history only (statistical models
        fitted series by series): the fit can be split by series into buckets run anywhere
        (the Spark engine) with the same result. False for global and pooled models, which
        learn across series.
    """

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    @property
    def nonnegative(self) -> bool:
        """True if the model needs ``y >= 0``."""
        ...

    @property
    def per_series(self) -> bool:
        """True if a series' forecast depends on that series only."""
        ...

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        """Return ``unique_id, ds, <name>`` for the ``setup.horizon`` periods after each series' end.

        ``history`` is ``unique_id, ds, y`` + ``setup.covariates``, sorted, without gaps;
        ``future`` gives the covariates for the forecast periods (None without covariates).
        """
        ...

    def min_history(self, setup: Setup) -> int:
        """Return the periods the longest series needs for the model to be fitted (1: any)."""
        ...


def quantile_column(level: float) -> str:
    """Name the column of quantile ``level``: 0.05 → 'q0.05', 0.5 → 'q0.5'."""
    return f"q{level!r}" if isinstance(level, float) else f"q{float(level)!r}"


def parse_quantiles(text: str | Sequence[float]) -> tuple[float, ...]:
    """Read quantile levels from '0.05,0.1,...' or a sequence: each in (0, 1); sorted, unique.

    At most ``MAX_QUANTILE_LEVELS`` distinct levels (LimitError).
    """
    if isinstance(text, str):
        try:
            levels = [float(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise InputError(
                f"quantiles {text[:60]!r}: expected numbers separated by commas, e.g. 0.1,0.5,0.9"
            ) from None
    else:
        levels = [float(level) for level in text]
    if not levels or any(not 0 < level < 1 for level in levels):
        raise InputError(f"quantiles {str(levels)[:60]}: each must be strictly between 0 and 1")
    unique = sorted(set(levels))
    if len(unique) > MAX_QUANTILE_LEVELS:
        raise LimitError(f"quantiles: {len(unique):,} levels, at most {MAX_QUANTILE_LEVELS} are supported")
    return tuple(unique)


def season_length(freq: str) -> int:
    """Return the main seasonal period of a frequency: 7 daily, 52 weekly, 12 monthly, 4 quarterly."""
    code = freq.upper().split("-")[0]
    if code in {"D", "B"}:
        return 7
    if code.startswith("W"):
        return 52
    if code in {"M", "MS", "ME"}:
        return 12
    if code in {"Q", "QS", "QE"}:
        return 4
    if code in {"H", "h"}:
        return 24
    return 1


def calendar_features(dates: np.ndarray, freq: str) -> dict[str, np.ndarray]:
    """Return calendar features of an array of dates, by name, each shaped like ``dates``.

    Daily data: day of week, day of month, month, day of year; weekly: ISO week
    and month; monthly and coarser: month. Each distinct date is decoded once.
    """
    unique, position = np.unique(dates.ravel(), return_inverse=True)
    index = pd.DatetimeIndex(unique)
    code = freq.upper().split("-")[0]
    found: dict[str, object]
    if code in {"D", "B"}:
        found = {
            "day_of_week": index.dayofweek,
            "day_of_month": index.day,
            "month": index.month,
            "day_of_year": index.dayofyear,
        }
    elif code.startswith("W"):
        found = {"week": index.isocalendar().week.to_numpy(), "month": index.month}
    elif code in {"H", "h"}:
        found = {"hour": index.hour, "day_of_week": index.dayofweek}
    else:
        found = {"month": index.month}
    return {
        name: np.asarray(values, dtype=float)[position].reshape(dates.shape) for name, values in found.items()
    }


def future_dates(last: pd.Series, freq: str, horizon: int) -> pd.DataFrame:
    """Return ``unique_id, ds`` of the ``horizon`` periods after each series' last date (``last`` by id)."""
    # Series mostly end on the same few dates: build each distinct calendar once.
    calendars = {
        end: pd.date_range(end, periods=horizon + 1, freq=freq)[1:].to_numpy()
        for end in pd.unique(pd.to_datetime(last.to_numpy()))
    }
    ends = pd.to_datetime(last.to_numpy())
    dates = np.concatenate([calendars[end] for end in ends]) if len(ends) else np.array([], "datetime64[ns]")
    return pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), horizon), "ds": dates})


def monotone_quantiles(
    frame: pd.DataFrame, levels: Sequence[float], *, lower_bound: float | None = 0.0
) -> pd.DataFrame:
    """Sort each row's quantile columns so they never cross, and clip them at ``lower_bound``."""
    columns = [quantile_column(level) for level in sorted(levels)]
    values = np.sort(frame[columns].to_numpy(dtype=float), axis=1)
    if lower_bound is not None:
        values = np.maximum(values, lower_bound)
    frame = frame.copy()
    frame[columns] = values
    return frame
