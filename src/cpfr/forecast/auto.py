"""The default forecaster: backtest candidate models, keep the best combination, calibrate quantiles.

``AutoForecaster`` runs every candidate (local statistical models, an
intermittent-demand model, a global LightGBM with covariates) through a
rolling-origin backtest on the history, scores each candidate and each
equal-weight combination of the best few by the M5 accuracy measure
(weighted RMSSE), and keeps the winner. Its backtest errors calibrate the
quantiles (see :mod:`cpfr.forecast.conformal`). Combining forecasts is the
most reliable single gain in forecasting practice, which is why
combinations compete with single models.

References
----------
Makridakis, Spiliotis & Assimakopoulos (2020), "The M4 Competition: 100,000 time series and 61
forecasting methods", IJF 36(1) (combinations);
Tashman (2000), "Out-of-sample tests of forecasting accuracy", IJF 16(4) (rolling origin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError, NotFittedError
from cpfr.forecast.base import DEFAULT_QUANTILES, future_dates, season_length
from cpfr.forecast.conformal import fit_conformal, sample_paths, standardised_paths
from cpfr.forecast.limits import HORIZON, STEP, WINDOWS
from cpfr.forecast.ml_models import (
    ML_MODELS,
    ml_cross_validation,
    ml_forecast,
    ml_min_history,
    ml_min_training,
)
from cpfr.forecast.pooled import POOLED_MODELS, pooled_cross_validation, pooled_forecast
from cpfr.forecast.stats_models import STATS_MODELS, stats_cross_validation, stats_forecast

MODELS: tuple[str, ...] = (*STATS_MODELS, *POOLED_MODELS, *ML_MODELS)
# Beyond this many history points the data is "large": the slow local models
# (ETS, Theta: minutes per thousand long daily series) are left out, models
# see only the recent window, and the backtest uses at most two origins.
_LARGE = 3_000_000
_SLOW_LIMIT = 1_000_000  # history points up to which ETS and Theta are candidates
_RECENT_SEASONS = 56  # the recent window on large data: 56 cycles (392 days of daily data)
_MAX_COMBINED = 4
_TIE = 0.01  # backtest scores within 1 % of the best count as tied
_SWITCH_MARGIN = 0.2  # a series leaves the winner only for a 20 % lower backtest MSE


@dataclass(frozen=True)
class Candidate:
    """A single model or an equal-weight combination, with its backtest score."""

    models: tuple[str, ...]
    score: float

    @property
    def name(self) -> str:
        """Name it: the model, or 'mean(a, b)' for a combination."""
        return self.models[0] if len(self.models) == 1 else f"mean({', '.join(self.models)})"


class AutoForecaster:
    """Choose or combine models per dataset from rolling-origin backtests; calibrated quantiles.

    Parameters
    ----------
    horizon : int
        Periods to forecast.
    models : sequence of str or 'auto'
        Candidates (see ``MODELS``); 'auto' picks a set suited to the data's size and season.
    quantiles : sequence of float
        Quantile levels of the output.
    n_windows : int
        Backtest windows (origins) used to choose and calibrate.
    step : int or None
        Periods between backtest origins (default: the horizon).
    per_series : bool
        Let a series switch from the dataset's winner to one of the next two
        candidates when its own backtest error is clearly lower (by
        ``_SWITCH_MARGIN``); otherwise every series gets the winner.

    Attributes
    ----------
    chosen_ : Candidate
        The winning model or combination.
    alternatives_ : list of Candidate
        The winner, then the candidates a series may switch to.
    series_choice_ : pandas.Series
        Index into ``alternatives_`` by ``unique_id`` (series not listed use the winner).
    leaderboard_ : pandas.DataFrame
        Every candidate's backtest weighted RMSSE, best first.
    conformal_ : ConformalQuantiles
        The quantile calibration.
    fallback_series_ : int
        Series too short for the backtest (forecast, but not used to choose).
    backtest_ : pandas.DataFrame
        The rolling-origin forecasts: ``unique_id, ds, cutoff, y`` and a column per candidate model.
    error_paths_ : numpy.ndarray
        Standardised backtest error paths, shape (paths, horizon), for :meth:`sample_paths`.
    residuals_ : pandas.DataFrame
        ``unique_id, ds, residual`` (actual - forecast) of the chosen candidate in the backtest,
        e.g. for MinT reconciliation.
    """

    def __init__(
        self,
        *,
        horizon: int,
        models: Sequence[str] | str = "auto",
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        n_windows: int = 3,
        step: int | None = None,
        per_series: bool = True,
    ) -> None:
        self.horizon = horizon
        self.models = models
        self.quantiles = quantiles
        self.n_windows = n_windows
        self.step = step
        self.per_series = per_series

    def fit(self, history: pd.DataFrame, *, freq: str, covariates: Sequence[str] = ()) -> AutoForecaster:
        """Backtest the candidates on ``history`` (``unique_id, ds, y`` + ``covariates``) and choose.

        ``horizon``, ``n_windows`` and ``step`` must lie within the bounds of
        :mod:`cpfr.forecast.limits` (InputError or LimitError naming the parameter).
        """
        HORIZON.check("horizon", self.horizon)
        WINDOWS.check("n_windows", self.n_windows)
        if self.step is not None:
            STEP.check("step", self.step)
        self.freq_ = freq
        self.season_ = season_length(freq)
        self.covariates_ = tuple(covariates)
        self.large_ = len(history) > _LARGE
        if self.large_:
            recent = (
                history.groupby("unique_id", sort=False).cumcount(ascending=False)
                < _RECENT_SEASONS * self.season_
            )
            history = history[recent.to_numpy()]
        self.history_ = history
        self.windows_ = min(self.n_windows, 2) if self.large_ else self.n_windows
        candidates = self._candidates(history)
        lengths = history.groupby("unique_id", sort=False).size()
        long_enough = lengths.index[lengths >= self._backtest_length()]
        self.fallback_series_ = int(len(lengths) - len(long_enough))
        scales = _scales(history, self.season_)
        if len(long_enough) == 0:
            # No series can be backtested: a robust average, with the spread of
            # one-period changes standing in for forecast errors.
            fallback = "window_average" if "window_average" in candidates else candidates[0]
            self.chosen_ = Candidate((fallback,), np.nan)
            self.leaderboard_ = pd.DataFrame({"candidate": [self.chosen_.name], "wrmsse": [np.nan]})
            ordered = history.sort_values(["unique_id", "ds"])
            changes = ordered.groupby("unique_id", sort=False)["y"].diff()
            errors = pd.DataFrame({"unique_id": ordered["unique_id"], "step": 0, "error": changes}).dropna()
            self.residuals_ = pd.DataFrame(columns=["unique_id", "ds", "residual"])
            self.backtest_ = pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
            self.conformal_ = fit_conformal(
                errors, self.quantiles, self.horizon, reference=scales["sq_scale"]
            )
            self.error_paths_ = np.zeros((0, self.horizon))
            return self
        step = self.step or self.horizon
        backtest = self._backtest(history[history["unique_id"].isin(long_enough)], candidates, step)
        self.backtest_ = backtest
        board = _leaderboard(backtest, candidates, scales)
        self.leaderboard_ = pd.DataFrame(
            {"candidate": [c.name for c in board], "wrmsse": [c.score for c in board]}
        )
        self.chosen_ = _robust_choice(board)
        self.alternatives_ = [self.chosen_]
        if self.per_series:
            self.alternatives_ += [c for c in board if c.models != self.chosen_.models][:2]
        columns = np.column_stack([backtest[list(c.models)].mean(axis=1) for c in self.alternatives_])
        squared = (
            pd.DataFrame((backtest["y"].to_numpy()[:, None] - columns) ** 2)
            .groupby(backtest["unique_id"].to_numpy(), sort=False)
            .mean()
        )
        best = squared.to_numpy().argmin(axis=1)
        keep = squared.to_numpy()[np.arange(len(best)), best] >= (1 - _SWITCH_MARGIN) * squared[0].to_numpy()
        self.series_choice_ = pd.Series(np.where(keep, 0, best), index=squared.index)
        pick = backtest["unique_id"].map(self.series_choice_).to_numpy()
        combined = pd.Series(columns[np.arange(len(pick)), pick], index=backtest.index)
        errors = pd.DataFrame(
            {
                "unique_id": backtest["unique_id"],
                "step": backtest.groupby(["unique_id", "cutoff"], sort=False).cumcount(),
                "error": backtest["y"] - combined,
            }
        )
        self.conformal_ = fit_conformal(errors, self.quantiles, self.horizon, reference=scales["sq_scale"])
        self.error_paths_ = standardised_paths(
            errors.assign(window=backtest["cutoff"].to_numpy()), self.conformal_, self.horizon
        )
        self.residuals_ = pd.DataFrame(
            {"unique_id": backtest["unique_id"], "ds": backtest["ds"], "residual": errors["error"]}
        )
        return self

    def predict(self, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``unique_id, ds, mean`` and a ``q<level>`` column per quantile, per series and period."""
        if not hasattr(self, "chosen_"):
            raise NotFittedError("AutoForecaster is not fitted: call fit() first")
        history = self.history_
        alternatives = getattr(self, "alternatives_", [self.chosen_])
        used = sorted({int(k) for k in getattr(self, "series_choice_", pd.Series([0])).unique()} | {0})
        models = list(dict.fromkeys(name for k in used for name in alternatives[k].models))
        frames = []
        stats = [name for name in models if name in STATS_MODELS]
        if stats:
            frames.append(
                stats_forecast(history, stats, horizon=self.horizon, freq=self.freq_, season=self.season_)
            )
        if "pooled_seasonal" in models:
            frames.append(
                pooled_forecast(history, horizon=self.horizon, freq=self.freq_, season=self.season_)
            )
        for name in (model for model in models if model in ML_MODELS):
            frames.append(
                ml_forecast(
                    history,
                    name,
                    horizon=self.horizon,
                    freq=self.freq_,
                    season=self.season_,
                    covariates=self.covariates_,
                    future=future,
                )
            )
        last = history.groupby("unique_id", sort=False)["ds"].max()
        forecast = future_dates(last, self.freq_, self.horizon)
        forecast["unique_id"] = forecast["unique_id"].astype(str)
        for frame in frames:
            forecast = forecast.merge(
                frame[["unique_id", "ds", *[m for m in models if m in frame]]],
                on=["unique_id", "ds"],
                how="left",
            )
        mapped = forecast["unique_id"].map(getattr(self, "series_choice_", pd.Series(dtype=int)))
        choice = mapped.fillna(0).astype(int).to_numpy()
        unused = np.full(len(forecast), np.nan)
        means = np.column_stack(
            [
                forecast[list(alternatives[k].models)].mean(axis=1).to_numpy() if k in used else unused
                for k in range(len(alternatives))
            ]
        )
        picked = means[np.arange(len(choice)), choice]
        forecast["mean"] = np.maximum(np.nan_to_num(picked, nan=0.0), 0.0)
        forecast = forecast[["unique_id", "ds", "mean"]]
        return self.conformal_.apply(forecast)

    def sample_paths(
        self, forecast: pd.DataFrame, *, n_paths: int = 500, seed: int = 0
    ) -> tuple[list[str], np.ndarray]:
        """Joint sample paths of each series' forecast (from :meth:`predict`): ids and (series, paths, steps).

        Whole backtest error paths are resampled, so sums over periods (lead-time
        demand, a month's sales) get their spread from real multi-period errors.
        """
        if not hasattr(self, "conformal_"):
            raise NotFittedError("AutoForecaster is not fitted: call fit() first")
        return sample_paths(forecast, self.conformal_, self.error_paths_, n_paths=n_paths, seed=seed)

    def _candidates(self, history: pd.DataFrame) -> list[str]:
        names = self._named_candidates(history)
        longest = int(history.groupby("unique_id").size().max())
        needed = ml_min_history(self.season_, self.horizon)
        kept = [name for name in names if name not in ML_MODELS]
        if kept and longest - self.horizon * self.windows_ <= needed:
            # Too short for the lags: the earliest backtest window would train the global model on
            # next to nothing, so the other candidates compete alone (unless it is all that was asked).
            names = kept
        if not kept:
            # Only global models were asked for: they need a few rows with every lag known, in the
            # earliest backtest window if there is a backtest, else in the whole history.
            step = self.step or self.horizon
            backtested = longest >= self._backtest_length()
            training = longest - self.horizon - step * (self.windows_ - 1) if backtested else longest
            least = ml_min_training(self.season_, self.horizon)
            if training < least:
                where = "before the first backtest origin" if backtested else "in all"
                raise InputError(
                    f"{names[0]} learns from lags of up to {least - 2} periods and needs a series of "
                    f"{least} periods {where}; the longest has {training}: add a statistical model, "
                    "give more history or use fewer backtest windows"
                )
        return names

    def _backtest_length(self) -> int:
        """Return the periods a series needs to take part in the backtest."""
        step = self.step or self.horizon
        # Enough training before the first origin for a few lags and a trend.
        return self.horizon + step * (self.windows_ - 1) + max(8, 2 * self.horizon)

    def _named_candidates(self, history: pd.DataFrame) -> list[str]:
        if self.models != "auto":
            names = list(dict.fromkeys(self.models))  # a model named twice is one candidate
            unknown = [name for name in names if name not in MODELS]
            if unknown:
                raise InputError(
                    f"unknown model {unknown[0]!r}; expected 'auto' or some of {', '.join(MODELS)}"
                )
            return names
        pooled = ["pooled_seasonal"] if self.season_ > 1 else []
        if self.large_:
            return ["seasonal_naive", "historic_average", "window_average", "tsb", *pooled, "lightgbm"]
        names = [
            "seasonal_naive",
            "historic_average",
            "window_average",
            "tsb",
            *pooled,
            "lightgbm",
            "lightgbm_tweedie",
        ]
        if len(history) <= _SLOW_LIMIT:
            names.insert(3, "theta")
            if self.season_ <= 24:  # statsforecast's ETS has no seasonal form beyond 24
                names.insert(3, "ets")
        return names

    def _backtest(self, history: pd.DataFrame, candidates: Sequence[str], step: int) -> pd.DataFrame:
        frames = []
        stats = [name for name in candidates if name in STATS_MODELS]
        if stats:
            frames.append(
                stats_cross_validation(
                    history,
                    stats,
                    horizon=self.horizon,
                    n_windows=self.windows_,
                    step=step,
                    freq=self.freq_,
                    season=self.season_,
                )
            )
        if "pooled_seasonal" in candidates:
            frames.append(
                pooled_cross_validation(
                    history,
                    horizon=self.horizon,
                    n_windows=self.windows_,
                    step=step,
                    freq=self.freq_,
                    season=self.season_,
                )
            )
        for name in (model for model in candidates if model in ML_MODELS):
            frames.append(
                ml_cross_validation(
                    history,
                    name,
                    horizon=self.horizon,
                    n_windows=self.windows_,
                    step=step,
                    freq=self.freq_,
                    season=self.season_,
                    covariates=self.covariates_,
                )
            )
        backtest = frames[0]
        for frame in frames[1:]:
            backtest = backtest.merge(
                frame.drop(columns=["y"]), on=["unique_id", "ds", "cutoff"], how="inner"
            )
        return backtest.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)


def _scales(history: pd.DataFrame, season: int) -> pd.DataFrame:
    """M5 scale (mean squared one-step difference) and weight (units over the last season) per series."""
    ordered = history.sort_values(["unique_id", "ds"])
    difference = ordered.groupby("unique_id", sort=False)["y"].diff()
    squared = (difference**2).groupby(ordered["unique_id"], sort=False).mean()
    weight = ordered.groupby("unique_id", sort=False).tail(season).groupby("unique_id", sort=False)["y"].sum()
    return pd.DataFrame({"sq_scale": squared, "weight": weight.clip(lower=0)})


def _robust_choice(board: list[Candidate]) -> Candidate:
    """Among candidates within ``_TIE`` of the best backtest score, take the largest combination.

    Backtest scores a few percent apart are within the noise of a few windows;
    of statistically tied candidates, the one averaging more models is the
    more robust out of sample (forecast combination's variance reduction).
    """
    best = board[0].score
    tied = [candidate for candidate in board if candidate.score <= best * (1 + _TIE)]
    return max(tied, key=lambda candidate: (len(candidate.models), -candidate.score))


def _leaderboard(backtest: pd.DataFrame, candidates: Sequence[str], scales: pd.DataFrame) -> list[Candidate]:
    """Score each model and each equal-weight combination of the best few by weighted RMSSE."""
    ids = backtest["unique_id"]
    stats = scales.reindex(ids.unique())
    valid = stats.index[(stats["sq_scale"] > 0) & stats["sq_scale"].notna()]
    if len(valid) == 0:  # only constant series: rank by plain RMSE
        stats = stats.assign(sq_scale=1.0)
        valid = stats.index
    weights = stats.loc[valid, "weight"]
    weights = weights / weights.sum() if weights.sum() > 0 else pd.Series(1.0 / len(valid), index=valid)

    def score(columns: tuple[str, ...]) -> float:
        error = (backtest["y"] - backtest[list(columns)].mean(axis=1)) ** 2
        mse = error.groupby(ids, sort=False).mean().reindex(valid)
        return float((weights * np.sqrt(mse / stats.loc[valid, "sq_scale"])).sum())

    singles = sorted((Candidate((name,), score((name,))) for name in candidates), key=lambda c: c.score)
    best = [candidate.models[0] for candidate in singles[:_MAX_COMBINED]]
    combos = [
        Candidate(group, score(group))
        for size in range(2, len(best) + 1)
        for group in combinations(best, size)
    ]
    return sorted([*singles, *combos], key=lambda c: (c.score, len(c.models)))


def backtest_metrics(model: AutoForecaster, history: pd.DataFrame) -> pd.DataFrame:
    """Score every single model of a fitted forecaster's backtest, window by window, then average.

    Returns one row per model: ``model, wrmsse, rmsse, mase, bias, mae, wspl, coverage_90`` (see
    :func:`cpfr.forecast.metrics.score`), each window scaled by the history before its origin.
    The quantiles scored by ``wspl`` and ``coverage_90`` are cross-conformal: each
    window's quantiles are calibrated on the model's errors in the *other* windows,
    so no window is scored with quantiles learnt from itself (NaN with one window).
    """
    from cpfr.forecast.metrics import score

    backtest = model.backtest_
    names = [column for column in backtest.columns if column in MODELS]
    step = backtest.groupby(["unique_id", "cutoff"], sort=False).cumcount()
    reference = _scales(history, model.season_)["sq_scale"]
    windows = [(cutoff, window.index) for cutoff, window in backtest.groupby("cutoff", sort=True)]
    rows = []
    for name in names:
        per_window = []
        errors = pd.DataFrame(
            {"unique_id": backtest["unique_id"], "step": step, "error": backtest["y"] - backtest[name]}
        )
        for cutoff, rows_in in windows:
            window = backtest.loc[rows_in]
            train = history[history["ds"] <= cutoff][["unique_id", "ds", "y"]]
            train = train[train["unique_id"].isin(window["unique_id"].unique())]
            forecast = window[["unique_id", "ds"]].assign(mean=window[name].to_numpy())
            if len(windows) > 1:
                others = errors.drop(index=rows_in)
                calibrated = fit_conformal(others, model.quantiles, model.horizon, reference=reference)
                forecast = calibrated.apply(forecast)
            per_window.append(score(train, window[["unique_id", "ds", "y"]], forecast, season=model.season_))
        keys = ("wrmsse", "rmsse", "mase", "bias", "mae", "wspl", "coverage_90")
        rows.append({"model": name, **{key: _mean_of(per_window, key) for key in keys}})
    return pd.DataFrame(rows).sort_values("wrmsse").reset_index(drop=True)


def _mean_of(scores: list[dict[str, float]], key: str) -> float:
    values = [float(found) for found in (one.get(key) for one in scores) if found is not None]
    return float(np.nanmean(values)) if values and not np.isnan(values).all() else float("nan")
