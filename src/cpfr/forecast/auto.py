"""The default forecaster: backtest candidate models, weight the best ensemble, calibrate quantiles.

``AutoForecaster`` runs every candidate (local statistical models, an
intermittent-demand model, pooled seasonality, global LightGBM models with
covariates) through a rolling-origin backtest on the history, ranks them by
the M5 accuracy measure (weighted RMSSE), builds a weighted ensemble of them
by greedy forward selection (:mod:`cpfr.forecast.ensemble`), and keeps the
best. Its backtest errors calibrate the quantiles
(:mod:`cpfr.forecast.conformal`). The fits of the backtest run in ``n_jobs``
worker processes (:mod:`cpfr.forecast.parallel`).

Negative values of ``y`` are legal (returns exceeding sales in a period): a
``NegativeValuesWarning`` gives their count, models that need non-negative
data (Tweedie, intermittent-demand methods, multiplicative seasonality) are
fitted on the history with negative values clipped to zero, and forecasts
and quantiles are no longer floored at zero.

References
----------
Tashman (2000), "Out-of-sample tests of forecasting accuracy", IJF 16(4) (rolling origin);
Caruana et al. (2004), "Ensemble selection from libraries of models", ICML.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError, NotFittedError
from cpfr.forecast.base import DEFAULT_QUANTILES, Setup, future_dates, season_length
from cpfr.forecast.conformal import ConformalQuantiles, fit_conformal, sample_paths, standardised_paths
from cpfr.forecast.ensemble import Candidate, leaderboard
from cpfr.forecast.limits import HORIZON, STEP, WINDOWS
from cpfr.forecast.parallel import Fit, run_fits
from cpfr.forecast.registry import GLOBAL_MODELS, MODELS, get_model
from cpfr.forecast.spark_engine import DEFAULT_MASTER, SparkEngine, check_engine

# Beyond this many history points the data is "large": models see only the
# recent window, the backtest uses at most two origins, the slow local models are left out.
_LARGE = 3_000_000
_RECENT_SEASONS = 56  # the recent window on large data: 56 cycles (392 days of daily data)
_SWITCH_MARGIN = 0.2  # a series leaves the winner only for a 20 % lower backtest MSE
_GLOBAL_SLACK = 6  # periods beyond its minimum a global model needs to compete with local ones
_GLOBAL_COST = 20.0  # a global model's fit costs about this many local fits per history row
_AUTO = (
    "seasonal_naive",
    "window_average",
    "historic_average",
    "tsb",
    "pooled_seasonal",
    "lightgbm_tweedie",
    "lightgbm_direct",
    "lightgbm_direct_tweedie",
)
_AUTO_LARGE = ("seasonal_naive", "window_average", "tsb", "pooled_seasonal", "lightgbm_direct_tweedie")


class NegativeValuesWarning(UserWarning):
    """The history has negative values (returns exceeding sales): legal, and counted in the message."""


class AutoForecaster:
    """Choose and weight models per dataset from rolling-origin backtests; calibrated quantiles.

    Parameters
    ----------
    horizon : int
        Periods to forecast.
    models : sequence of str or 'auto'
        Candidates (names of :data:`cpfr.forecast.registry.MODELS`); 'auto' picks a set
        suited to the data's size.
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
    n_jobs : int
        Worker processes for the model fits (-1: every core). Results do not depend on it.
    engine : {'local', 'spark'}
        Where the model fits run: this machine, or Spark (per-series models split by series
        into Spark tasks; see :mod:`cpfr.forecast.parallel`). Results do not depend on it.
    spark_master : str or None
        With ``engine='spark'``: the master URL (default ``local[*]``).
    partition_by : sequence of str
        Columns of the history, constant per series (e.g. ``partner_id``): Spark tasks never
        mix series of two values.
    global_partition : sequence of str
        Columns of the history (e.g. ``("partner_id", "category_id")``): global models
        (LightGBM, pooled seasonality) are fitted once per partition, on either engine;
        empty: once on all series (on the driver with Spark).
    progress : callable or None
        Receives progress lines of Spark jobs (``spark: stage N: k/n tasks``).

    Attributes
    ----------
    chosen_ : Candidate
        The winning model or weighted ensemble.
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
    negative_values_ : int
        Periods of the history with a negative ``y``.
    backtest_ : pandas.DataFrame
        The rolling-origin forecasts: ``unique_id, ds, cutoff, y`` and a column per candidate model.
    error_paths_ : numpy.ndarray
        Standardised backtest error paths, shape (paths, horizon), for :meth:`sample_paths`.
    path_bins_ : numpy.ndarray
        The Mondrian bin of each error path.
    residuals_ : pandas.DataFrame
        ``unique_id, ds, residual`` (actual - forecast) of the chosen candidate in the backtest,
        e.g. for MinT reconciliation.

    Examples
    --------
    >>> history = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=60),
    ...                         "y": np.tile([1.0, 2.0, 3.0], 20)})
    >>> model = AutoForecaster(horizon=3, models=["seasonal_naive"], n_windows=2).fit(history, freq="D")
    >>> model.predict()["mean"].round(6).tolist()
    [2.0, 3.0, 1.0]
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
        n_jobs: int = 1,
        engine: str = "local",
        spark_master: str | None = None,
        partition_by: Sequence[str] = (),
        global_partition: Sequence[str] = (),
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.horizon = horizon
        self.models = models
        self.quantiles = quantiles
        self.n_windows = n_windows
        self.step = step
        self.per_series = per_series
        self.n_jobs = n_jobs
        self.engine = engine
        self.spark_master = spark_master
        self.partition_by = partition_by
        self.global_partition = global_partition
        self.progress = progress

    def fit(self, history: pd.DataFrame, *, freq: str, covariates: Sequence[str] = ()) -> AutoForecaster:
        """Backtest the candidates on ``history`` (``unique_id, ds, y`` + ``covariates``) and choose.

        ``horizon``, ``n_windows`` and ``step`` must lie within the bounds of
        :mod:`cpfr.forecast.limits` (InputError or LimitError naming the parameter).
        """
        HORIZON.check("horizon", self.horizon)
        WINDOWS.check("n_windows", self.n_windows)
        if self.step is not None:
            STEP.check("step", self.step)
        check_engine(self.engine)
        self.partitions_ = _labels(history, self.partition_by)
        self.global_partitions_ = _labels(history, self.global_partition)
        # Series keep the order in which they first appear; periods are sorted within each.
        history = history.assign(unique_id=history["unique_id"].astype(str))
        order = np.lexsort((history["ds"].to_numpy(), pd.factorize(history["unique_id"])[0]))
        history = history.iloc[order]
        self.freq_ = freq
        self.season_ = season_length(freq)
        self.covariates_ = tuple(covariates)
        self.negative_values_ = int((history["y"].to_numpy(dtype=float) < 0).sum())
        if self.negative_values_:
            warnings.warn(
                f"{self.negative_values_:,} periods have a negative y (returns exceeding sales): "
                "models that need non-negative data are fitted with them clipped to 0",
                NegativeValuesWarning,
                stacklevel=2,
            )
        self.lower_bound_: float | None = None if self.negative_values_ else 0.0
        self.large_ = len(history) > _LARGE
        if self.large_:
            recent = (
                history.groupby("unique_id", sort=False).cumcount(ascending=False)
                < _RECENT_SEASONS * self.season_
            )
            history = history[recent.to_numpy()]
        self.history_ = history.reset_index(drop=True)
        self.windows_ = min(self.n_windows, 2) if self.large_ else self.n_windows
        self.step_ = self.step or self.horizon
        self.setup_ = Setup(self.horizon, freq, self.season_, self.covariates_)
        candidates = self._candidates(self.history_)
        lengths = self.history_.groupby("unique_id", sort=False).size()
        long_enough = lengths.index[lengths >= self._backtest_length()]
        self.fallback_series_ = int(len(lengths) - len(long_enough))
        scales = _scales(self.history_, self.season_)
        if len(long_enough) == 0:
            self._fit_without_backtest(candidates, scales)
            return self
        backtest = self._backtest(self.history_[self.history_["unique_id"].isin(long_enough)], candidates)
        self.backtest_ = backtest
        board = leaderboard(backtest, candidates, scales)
        self.leaderboard_ = pd.DataFrame(
            {"candidate": [c.name for c in board], "wrmsse": [c.score for c in board]}
        )
        self.chosen_ = board[0]
        self.alternatives_ = [self.chosen_]
        if self.per_series:
            self.alternatives_ += [c for c in board if c.models != self.chosen_.models][:2]
        columns = np.column_stack([c.combine(backtest) for c in self.alternatives_])
        self.series_choice_ = _series_choice(backtest, columns)
        pick = backtest["unique_id"].map(self.series_choice_).to_numpy()
        combined = columns[np.arange(len(pick)), pick]
        if self.lower_bound_ is not None:
            combined = np.maximum(combined, self.lower_bound_)
        errors = pd.DataFrame(
            {
                "unique_id": backtest["unique_id"],
                "step": backtest.groupby(["unique_id", "cutoff"], sort=False).cumcount(),
                "error": backtest["y"].to_numpy() - combined,
                "forecast": combined,
                "window": backtest["cutoff"].to_numpy(),
            }
        )
        self.conformal_ = fit_conformal(
            errors, self.quantiles, self.horizon, reference=scales["sq_scale"], lower_bound=self.lower_bound_
        )
        self.error_paths_, self.path_bins_ = standardised_paths(errors, self.conformal_, self.horizon)
        self.residuals_ = pd.DataFrame(
            {"unique_id": backtest["unique_id"], "ds": backtest["ds"], "residual": errors["error"]}
        )
        return self

    def _fit_without_backtest(self, candidates: list[str], scales: pd.DataFrame) -> None:
        """No series can be backtested: a robust average, one-period changes standing in for errors."""
        fallback = "window_average" if "window_average" in candidates else candidates[0]
        self.chosen_ = Candidate((fallback,), (1.0,), np.nan)
        self.alternatives_ = [self.chosen_]
        self.series_choice_ = pd.Series(dtype=int)
        self.leaderboard_ = pd.DataFrame({"candidate": [self.chosen_.name], "wrmsse": [np.nan]})
        changes = self.history_.groupby("unique_id", sort=False)["y"].diff()
        errors = pd.DataFrame({"unique_id": self.history_["unique_id"], "step": 0, "error": changes}).dropna()
        self.residuals_ = pd.DataFrame(columns=["unique_id", "ds", "residual"])
        self.backtest_ = pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
        self.conformal_ = fit_conformal(
            errors, self.quantiles, self.horizon, reference=scales["sq_scale"], lower_bound=self.lower_bound_
        )
        self.error_paths_ = np.zeros((0, self.horizon))
        self.path_bins_ = np.zeros(0, dtype=int)

    def predict(self, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast ``unique_id, ds, mean`` and a ``q<level>`` column per quantile, per series and period.

        ``future`` gives the covariates for every series and forecast period (needed with covariates).
        """
        if not hasattr(self, "conformal_"):
            raise NotFittedError("AutoForecaster is not fitted: call fit() first")
        used = sorted({int(k) for k in self.series_choice_.unique()} | {0})
        models = list(dict.fromkeys(name for k in used for name in self.alternatives_[k].models))
        fits = [Fit(get_model(name), self._training(name, self.history_), future, 0) for name in models]
        frames = self._run(fits, [_cost(name) for name in models])
        last = self.history_.groupby("unique_id", sort=False)["ds"].max()
        forecast = future_dates(last, self.freq_, self.horizon)
        forecast["unique_id"] = forecast["unique_id"].astype(str)
        for frame in frames:
            forecast = forecast.merge(frame, on=["unique_id", "ds"], how="left")
        choice = forecast["unique_id"].map(self.series_choice_).fillna(0).astype(int).to_numpy()
        unused = np.full(len(forecast), np.nan)
        means = np.column_stack(
            [
                self.alternatives_[k].combine(forecast) if k in used else unused
                for k in range(len(self.alternatives_))
            ]
        )
        picked = np.nan_to_num(means[np.arange(len(choice)), choice], nan=0.0)
        if self.lower_bound_ is not None:
            picked = np.maximum(picked, self.lower_bound_)
        forecast["mean"] = picked
        return self.conformal_.apply(forecast[["unique_id", "ds", "mean"]])

    def sample_paths(
        self, forecast: pd.DataFrame, *, n_paths: int = 500, seed: int = 0
    ) -> tuple[list[str], np.ndarray]:
        """Joint sample paths of each series' forecast (from :meth:`predict`): ids and (series, paths, steps).

        Whole backtest error paths are resampled, so sums over periods (lead-time
        demand, a month's sales) get their spread from real multi-period errors.
        """
        if not hasattr(self, "conformal_"):
            raise NotFittedError("AutoForecaster is not fitted: call fit() first")
        return sample_paths(
            forecast, self.conformal_, self.error_paths_, self.path_bins_, n_paths=n_paths, seed=seed
        )

    def _run(self, fits: list[Fit], costs: list[float]) -> list[pd.DataFrame]:
        """Run the fits on the chosen engine (:func:`cpfr.forecast.parallel.run_fits`)."""
        spark = (
            SparkEngine(self.spark_master or DEFAULT_MASTER, self.progress)
            if self.engine == "spark"
            else None
        )
        return run_fits(
            fits,
            self.setup_,
            self.n_jobs,
            costs=costs,
            spark=spark,
            partitions=self.partitions_,
            global_partitions=self.global_partitions_,
        )

    def _training(self, name: str, history: pd.DataFrame) -> pd.DataFrame:
        """Return the history a model is fitted on: negative values clipped to 0 for a non-negative model."""
        columns = ["unique_id", "ds", "y", *self.covariates_]
        frame = history[columns]
        if get_model(name).nonnegative and self.negative_values_:
            frame = frame.assign(y=frame["y"].clip(lower=0.0))
        return frame

    def _candidates(self, history: pd.DataFrame) -> list[str]:
        if self.models == "auto":
            names = list(_AUTO_LARGE if self.large_ else _AUTO)
        else:
            names = list(dict.fromkeys(self.models))  # a model named twice is one candidate
            for name in names:
                get_model(name)
        longest = int(history.groupby("unique_id").size().max())
        backtested = longest >= self._backtest_length()
        # The earliest backtest window trains on the longest series cut before its origin.
        training = longest - self.horizon - self.step_ * (self.windows_ - 1) if backtested else longest
        least = {name: get_model(name).min_history(self.setup_) for name in names}
        local = [name for name in names if name not in GLOBAL_MODELS]
        if local:
            # A global model trained on next to nothing would only add noise: with other
            # candidates at hand, it takes part only with a few rows per series to learn from.
            least = {
                name: days + (_GLOBAL_SLACK if name in GLOBAL_MODELS else 0) for name, days in least.items()
            }
        kept = [name for name in names if least[name] <= training]
        if not kept:
            name = min(names, key=least.__getitem__)
            where = "before the first backtest origin" if backtested else "in all"
            raise InputError(
                f"{name} needs a series of {least[name]} periods {where} (it learns from lags of up to "
                f"{least[name] - 2} periods); the longest has {training}: add a statistical model, "
                "give more history or use fewer backtest windows"
            )
        return kept

    def _backtest_length(self) -> int:
        """Return the periods a series needs to take part in the backtest."""
        # Enough training before the first origin for a few lags and a trend.
        return self.horizon + self.step_ * (self.windows_ - 1) + max(8, 2 * self.horizon)

    def _backtest(self, history: pd.DataFrame, candidates: Sequence[str]) -> pd.DataFrame:
        """Fit every candidate at every origin; return ``unique_id, ds, cutoff, y`` + a column per model."""
        position = history.groupby("unique_id", sort=False).cumcount().to_numpy()
        length = history.groupby("unique_id", sort=False)["y"].transform("size").to_numpy()
        truths, fits, costs = [], [], []
        for window in range(self.windows_):
            end = length - self.horizon - self.step_ * (self.windows_ - 1 - window)  # rows before the origin
            train = history[position < end]
            test = history[(position >= end) & (position < end + self.horizon)]
            cutoff = train.groupby("unique_id", sort=False)["ds"].max().rename("cutoff")
            truths.append(test[["unique_id", "ds", "y"]].join(cutoff, on="unique_id"))
            future = test[["unique_id", "ds", *self.covariates_]] if self.covariates_ else None
            for name in candidates:
                fits.append(Fit(get_model(name), self._training(name, train), future, window))
                costs.append(_cost(name))
        frames = self._run(fits, costs)
        windows = []
        for window, truth in enumerate(truths):
            merged = truth
            for fit, frame in zip(fits, frames, strict=True):
                if fit.key == window:
                    merged = merged.merge(frame, on=["unique_id", "ds"], how="left")
            windows.append(merged)
        backtest = pd.concat(windows, ignore_index=True)
        values = _fill_missing(backtest[list(candidates)].to_numpy(dtype=float))
        if self.lower_bound_ is not None:
            values = np.maximum(values, self.lower_bound_)
        backtest[list(candidates)] = values
        return backtest.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)


def _labels(history: pd.DataFrame, columns: Sequence[str]) -> pd.Series | None:
    """Return a label per ``unique_id`` from the history's ``columns`` (``P1/C3``); None without columns."""
    if not columns:
        return None
    missing = [column for column in columns if column not in history.columns]
    if missing:
        raise InputError(f"partition column {missing[0]!r} is not a column of the history")
    first = history.drop_duplicates("unique_id")
    label = first[list(columns)].astype(str).agg("/".join, axis=1)
    return pd.Series(label.to_numpy(), index=first["unique_id"].astype(str).to_numpy())


def _fill_missing(values: np.ndarray) -> np.ndarray:
    """Where a model gave no forecast (NaN), stand in the mean of the others there (0 if none did)."""
    missing = np.isnan(values)
    if not missing.any():
        return values
    present = (~missing).sum(axis=1)
    means = np.where(present > 0, np.nansum(values, axis=1) / np.maximum(present, 1), 0.0)
    return np.where(missing, means[:, None], values)


def _cost(name: str) -> float:
    return _GLOBAL_COST if name in GLOBAL_MODELS else 1.0


def _series_choice(backtest: pd.DataFrame, columns: np.ndarray) -> pd.Series:
    """Index of the alternative each series uses: the winner (0) unless another is clearly better."""
    squared = (
        pd.DataFrame((backtest["y"].to_numpy()[:, None] - columns) ** 2)
        .groupby(backtest["unique_id"].to_numpy(), sort=False)
        .mean()
    )
    best = squared.to_numpy().argmin(axis=1)
    keep = squared.to_numpy()[np.arange(len(best)), best] >= (1 - _SWITCH_MARGIN) * squared[0].to_numpy()
    return pd.Series(np.where(keep, 0, best), index=squared.index)


def _scales(history: pd.DataFrame, season: int) -> pd.DataFrame:
    """M5 scale (mean squared one-step difference) and weight (units over the last season) per series."""
    ordered = history.sort_values(["unique_id", "ds"])
    difference = ordered.groupby("unique_id", sort=False)["y"].diff()
    squared = (difference**2).groupby(ordered["unique_id"], sort=False).mean()
    weight = ordered.groupby("unique_id", sort=False).tail(season).groupby("unique_id", sort=False)["y"].sum()
    return pd.DataFrame({"sq_scale": squared, "weight": weight.clip(lower=0)})


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
            {
                "unique_id": backtest["unique_id"],
                "step": step,
                "error": backtest["y"] - backtest[name],
                "forecast": backtest[name],
            }
        )
        for cutoff, rows_in in windows:
            window = backtest.loc[rows_in]
            train = history[history["ds"] <= cutoff][["unique_id", "ds", "y"]]
            train = train[train["unique_id"].isin(window["unique_id"].unique())]
            forecast = window[["unique_id", "ds"]].assign(mean=window[name].to_numpy())
            if len(windows) > 1:
                others = errors.drop(index=rows_in)
                calibrated = fit_conformal(
                    others,
                    model.quantiles,
                    model.horizon,
                    reference=reference,
                    lower_bound=model.lower_bound_,
                )
                forecast = calibrated.apply(forecast)
            per_window.append(score(train, window[["unique_id", "ds", "y"]], forecast, season=model.season_))
        keys = ("wrmsse", "rmsse", "mase", "bias", "mae", "wspl", "coverage_90")
        rows.append({"model": name, **{key: _mean_of(per_window, key) for key in keys}})
    return pd.DataFrame(rows).sort_values("wrmsse").reset_index(drop=True)


def _mean_of(scores: list[dict[str, float]], key: str) -> float:
    values = [float(found) for found in (one.get(key) for one in scores) if found is not None]
    return float(np.nanmean(values)) if values and not np.isnan(values).all() else float("nan")


__all__ = ["AutoForecaster", "Candidate", "ConformalQuantiles", "NegativeValuesWarning", "backtest_metrics"]
