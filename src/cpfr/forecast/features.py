"""Features of a global model over many series: a right-aligned panel and direct multi-horizon rows.

The history is held as a ``series x periods`` matrix, each series aligned on
its own last period (earlier periods of a shorter series are NaN), so that
"``k`` periods before the origin" is one column for every series. From it,
:class:`DirectFeatures` builds the rows a *direct* multi-horizon model learns
from: one row per series, forecast origin :math:`t` and step
:math:`h = 1..H`, describing what is known at :math:`t` (recent lags, rolling
means, dispersion, share of zero periods, the same period one and two seasons
before the target) and about the target period :math:`t + h` (its calendar,
the known-future covariates and their change against the recent past).

Everything in units of ``y`` is divided by the series' *scale*
:math:`s_{i,t}`, its mean absolute value over the last ``scale_window``
periods before the origin, so one model learns the *shape* of demand across
series whose volumes differ by orders of magnitude; the model's forecast is
multiplied back by :math:`s_{i,t}`.

Rows are built with whole-array numpy indexing: no loop over series.

References
----------
Taieb, Bontempi, Atiya & Sorjamaa (2012), "A review and comparison of strategies for multi-step
ahead time series forecasting based on the NN5 forecasting competition", *Expert Systems with
Applications* 39(8) (the direct strategy);
Januschowski et al. (2022), "Forecasting with trees", IJF 38(4) (global models, per-series scaling);
Makridakis, Spiliotis & Assimakopoulos (2022), "M5 accuracy competition: Results, findings, and
conclusions", IJF 38(4) (lags, rolling statistics, price changes, calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.forecast.base import calendar_features

_ROLLING_WINDOWS = (4, 8, 13, 26)  # plus the season: short, quarter, half-year and yearly levels
_LAGS = 4  # the last four periods, unsmoothed
_DISPERSION_WINDOW = 13  # periods behind the dispersion and zero-share features
_COVARIATE_WINDOW = 13  # a covariate's recent mean, against which its future value is compared
MIN_HISTORY = 8  # periods a series needs before an origin for the origin to train on


@dataclass(frozen=True)
class Panel:
    """Series as a right-aligned matrix, with their dates and covariates.

    Attributes
    ----------
    ids : numpy.ndarray
        Series ids (text), sorted.
    values : numpy.ndarray
        ``series x periods``: each series ends in the last column; NaN before its first period.
    dates : numpy.ndarray
        ``series x (periods + horizon)`` datetime64: the date of each column, including the
        ``horizon`` future periods.
    covariates : numpy.ndarray
        ``covariate x series x (periods + horizon)``; future periods from ``future`` (NaN if absent).
    covariate_names : tuple of str
        The covariates, in the order of the first axis.
    horizon : int
        Future periods held in ``dates`` and ``covariates``.
    """

    ids: np.ndarray
    values: np.ndarray
    dates: np.ndarray
    covariates: np.ndarray
    covariate_names: tuple[str, ...]
    horizon: int

    @classmethod
    def from_frame(
        cls,
        history: pd.DataFrame,
        *,
        freq: str,
        horizon: int,
        covariates: Sequence[str] = (),
        future: pd.DataFrame | None = None,
        periods: int | None = None,
    ) -> Panel:
        """Build the panel from a long ``unique_id, ds, y`` (+ ``covariates``) history.

        ``periods`` keeps only the last ``periods`` periods of every series (memory on long
        histories). ``future`` gives ``covariates`` for the ``horizon`` periods after each
        series' end.
        """
        frame = history.assign(unique_id=history["unique_id"].astype(str)).sort_values(
            ["unique_id", "ds"], kind="stable"
        )
        ids, first_row, counts = np.unique(
            frame["unique_id"].to_numpy(), return_index=True, return_counts=True
        )
        longest = int(counts.max()) if len(counts) else 0
        width = longest if periods is None else min(longest, periods)
        offset = np.arange(len(frame)) - np.repeat(first_row, counts)  # position inside the series
        column = offset + np.repeat(width - counts, counts)
        keep = column >= 0
        row = np.repeat(np.arange(len(ids)), counts)[keep]
        column = column[keep]
        values = np.full((len(ids), width), np.nan)
        values[row, column] = frame["y"].to_numpy(dtype=float)[keep]
        last = pd.to_datetime(frame.groupby("unique_id", sort=True)["ds"].max().to_numpy())
        dates = np.empty((len(ids), width + horizon), dtype="datetime64[ns]")
        for end in pd.unique(last):
            past = pd.date_range(end=end, periods=width, freq=freq)
            ahead = pd.date_range(end, periods=horizon + 1, freq=freq)[1:]
            dates[last == end] = past.append(ahead).to_numpy()
        names = tuple(covariates)
        covariate_values = np.full((len(names), len(ids), width + horizon), np.nan)
        for number, name in enumerate(names):
            covariate_values[number][row, column] = frame[name].to_numpy(dtype=float)[keep]
        if future is not None and names:
            ahead_frame = future.assign(unique_id=future["unique_id"].astype(str)).sort_values(
                ["unique_id", "ds"]
            )
            series = np.searchsorted(ids, ahead_frame["unique_id"].to_numpy())
            found = (series < len(ids)) & (ids[np.minimum(series, len(ids) - 1)] == ahead_frame["unique_id"])
            step = ahead_frame.groupby("unique_id", sort=False).cumcount().to_numpy()
            usable = found.to_numpy() & (step < horizon)
            for number, name in enumerate(names):
                covariate_values[number][series[usable], width + step[usable]] = ahead_frame[name].to_numpy(
                    dtype=float
                )[usable]
        return cls(ids, values, dates, covariate_values, names, horizon)

    @property
    def periods(self) -> int:
        """Columns of history."""
        return int(self.values.shape[1])


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` columns up to and including each column, NaN skipped.

    NaN where the window holds no value. Cumulative sums: no loop over columns.
    """
    present = ~np.isnan(values)
    sums = _cumulative(np.where(present, values, 0.0))
    counts = _cumulative(present.astype(float))
    high = np.arange(1, values.shape[1] + 1)
    low = np.maximum(high - window, 0)
    total, number = sums[:, high] - sums[:, low], counts[:, high] - counts[:, low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(number > 0, total / np.maximum(number, 1.0), np.nan)


def rolling_std(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing standard deviation over the last ``window`` columns (NaN with fewer than two values)."""
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    sums, squares = _cumulative(filled), _cumulative(filled**2)
    counts = _cumulative(present.astype(float))
    high = np.arange(1, values.shape[1] + 1)
    low = np.maximum(high - window, 0)
    number = counts[:, high] - counts[:, low]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums[:, high] - sums[:, low]) / number
        variance = (squares[:, high] - squares[:, low]) / number - mean**2
        return np.where(number > 1, np.sqrt(np.maximum(variance, 0.0)), np.nan)


def _cumulative(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)


class DirectFeatures:
    """Rows of a direct multi-horizon model: what is known at an origin, about a target period.

    Parameters
    ----------
    panel : Panel
        The history (and future covariates).
    freq : str
        Pandas frequency, for the calendar features.
    season : int
        Seasonal period :math:`m`: seasonal lags :math:`y_{t+h-m}`, :math:`y_{t+h-2m}`.
    scale_window : int
        Periods behind the scale :math:`s_{i,t}` (mean absolute value).

    Attributes
    ----------
    scale : numpy.ndarray
        ``series x periods``: :math:`s_{i,t}`, positive.
    """

    def __init__(self, panel: Panel, *, freq: str, season: int, scale_window: int) -> None:
        self.panel = panel
        self.freq = freq
        self.season = season
        values = panel.values
        magnitude = rolling_mean(np.abs(values), scale_window)
        overall = rolling_mean(np.abs(values), values.shape[1])
        scale = np.where(np.isnan(magnitude) | (magnitude <= 0), overall, magnitude)
        # A series that never sold has no scale: 1 unit keeps it finite (its forecast is ~0 anyway).
        scale = np.where(np.isnan(scale) | (scale <= 0), 1.0, scale)
        # A floor of a thousandth of the series' largest mean so far: dividing by a near-zero
        # scale would turn one unit after a long run of zeros into an outlier.
        peak = np.fmax.accumulate(np.where(np.isnan(overall), 0.0, overall), axis=1)
        self.scale = np.maximum(scale, 1e-3 * peak + 1e-9)
        windows = sorted({*(w for w in _ROLLING_WINDOWS if w < values.shape[1]), season})
        self._means = {f"mean_{window}": rolling_mean(values, window) for window in windows if window > 1}
        self._std = rolling_std(values, _DISPERSION_WINDOW)
        self._zero_share = rolling_mean(np.where(np.isnan(values), np.nan, (values == 0).astype(float)), 13)
        self._observed = np.cumsum(~np.isnan(values), axis=1)
        self._calendar = calendar_features(panel.dates, freq)
        self._covariate_means = [
            rolling_mean(covariate[:, : panel.periods], _COVARIATE_WINDOW) for covariate in panel.covariates
        ]

    def rows(self, series: np.ndarray, origin: np.ndarray, step: np.ndarray) -> pd.DataFrame:
        """Return the feature rows of (series, origin column, step >= 1), in that order.

        Only columns up to ``origin`` are read for the target's history, so a row never
        sees the period it forecasts.
        """
        values = self.panel.values
        last = values.shape[1] - 1
        scale = self.scale[series, origin]
        target = origin + step
        columns: dict[str, np.ndarray] = {"step": step.astype(float)}
        for lag in range(_LAGS):
            at = origin - lag
            columns[f"lag_{lag + 1}"] = _take(values, series, at, at >= 0) / scale
        for name, means in self._means.items():
            columns[name] = means[series, origin] / scale
        columns["std"] = self._std[series, origin] / scale
        columns["zero_share"] = self._zero_share[series, origin]
        if self.season > 1:
            for seasons in (1, 2):
                at = target - seasons * self.season
                columns[f"season_lag_{seasons}"] = (
                    _take(values, series, at, (at >= 0) & (at <= origin)) / scale
                )
            # The same period a season ago and its two neighbours (week 52 of last year may be
            # week 51 or 53 of this one).
            total = np.zeros(len(series))
            number = np.zeros(len(series))
            for shift in (-1, 0, 1):
                at = target - self.season + shift
                found = _take(values, series, at, (at >= 0) & (at <= origin))
                total += np.nan_to_num(found)
                number += ~np.isnan(found)
            columns["season_lag_nearby"] = (
                np.where(number > 0, total / np.maximum(number, 1.0), np.nan) / scale
            )
        columns["log_scale"] = np.log1p(np.abs(scale))
        columns["history"] = self._observed[series, np.minimum(origin, last)].astype(float)
        for name, calendar in self._calendar.items():
            columns[name] = calendar[series, target]
        for index, name in enumerate(self.panel.covariate_names):
            ahead = self.panel.covariates[index][series, target]
            columns[f"x_{name}"] = ahead
            columns[f"x_{name}_change"] = ahead - self._covariate_means[index][series, origin]
        return pd.DataFrame(columns)

    def training_rows(
        self, last_origin: np.ndarray, *, max_origins: int, max_rows: int, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (series, origin, step) of every row with a known target up to ``last_origin``.

        Origins are the last ``max_origins`` columns before each series' ``last_origin`` with
        at least ``MIN_HISTORY`` observed periods; beyond ``max_rows`` rows, a uniform sample
        (seeded, so the same data gives the same model).
        """
        values = self.panel.values
        observed = ~np.isnan(values)
        first = np.argmax(observed, axis=1)
        pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for ahead in range(1, self.panel.horizon + 1):
            low = np.maximum(first + MIN_HISTORY - 1, last_origin - ahead - max_origins + 1)
            high = last_origin - ahead
            count = np.maximum(high - low + 1, 0)
            if not count.sum():
                continue
            rows = np.repeat(np.arange(len(count)), count)
            start = np.repeat(low - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
            pieces.append((rows, start + np.arange(int(count.sum())), np.full(len(rows), ahead)))
        if not pieces:
            empty = np.zeros(0, dtype=int)
            return empty, empty, empty
        series, origin, step = (np.concatenate(part) for part in zip(*pieces, strict=True))
        known = observed[series, origin + step]
        series, origin, step = series[known], origin[known], step[known]
        if len(series) > max_rows:
            chosen = np.sort(np.random.default_rng(seed).choice(len(series), max_rows, replace=False))
            series, origin, step = series[chosen], origin[chosen], step[chosen]
        return series, origin, step


def _take(values: np.ndarray, series: np.ndarray, column: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Return ``values[series, column]`` where ``valid``, NaN elsewhere (columns clipped to the matrix)."""
    clipped = np.clip(column, 0, values.shape[1] - 1)
    return np.where(valid, values[series, clipped], np.nan)
