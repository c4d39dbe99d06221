"""Forecast accuracy on the shared public datasets: cpfr ``auto`` against plain open-source baselines.

Run with ``make bench-forecast`` (or ``python benchmarks/forecast_accuracy.py [--datasets vn2,stallion]``).
For each dataset under ``../shared/data`` (or ``$CPFR_SHARED_DATA``): hold out the last horizon
(13 weeks; 6 months for Stallion), fill gaps inside series with zero, forecast with cpfr's
``AutoForecaster(models="auto", n_jobs=-1)`` and, in the same run, statsforecast's seasonal naive,
historic average, AutoETS and AutoTheta (and the median of ETS, Theta and seasonal naive) and an
mlforecast LightGBM with lags, calendar and covariates, each run as a new user would (library
defaults; quantiles of the statsforecast models from their 80/90 % intervals), and score everything
with the M5-style WRMSSE, MASE, WSPL, 90 % coverage and bias of ``cpfr.forecast.metrics`` (the
definitions of ``../shared/tools/score_forecast.py``).

Goal: cpfr ``auto`` <= 0.90 x the best baseline on WRMSSE and on WSPL (the mean pinball loss over
q0.05, q0.1, q0.9 and q0.95, the quantiles the baselines have), 90 % coverage in 0.87-0.93, in at
most 2 x the wall time of the baseline run that gave the best baseline (statsforecast's run for its
models, mlforecast's for LightGBM), on two cores.

``--dev`` moves everything one horizon back: the last horizon of the training part is held out and
the test window is never read. Choices of models and settings are made on it (and on cpfr's own
backtests), never on the test window.
"""

from __future__ import annotations

import argparse
import pickle
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import pandas as pd
from mlforecast import MLForecast
from rich.console import Console
from rich.table import Table
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoTheta, HistoricAverage, SeasonalNaive

from cpfr.data.datasets import fill_gaps, load_shared, shared_data_root
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import DEFAULT_QUANTILES, season_length
from cpfr.forecast.metrics import score

# Known-future covariates of each dataset (prices, promotions, calendar events).
COVARIATES: dict[str, list[str]] = {
    "dominicks_oj": ["price", "deal", "feature"],
    "stallion": [
        "price_regular",
        "price_actual",
        "discount",
        "discount_in_percent",
        "easter_day",
        "good_friday",
        "new_year",
        "christmas",
        "labor_day",
        "independence_day",
        "revolution_day_memorial",
        "regional_games",
        "fifa_u_17_world_cup",
        "football_gold_cup",
        "beer_capital",
        "music_fest",
    ],
    "vn2": [],
}
HORIZON = {"dominicks_oj": 13, "stallion": 6, "vn2": 13}
# Best WRMSSE and WSPL of ../shared/data/README.md's reference table.
REFERENCE = {"vn2": (0.658, 0.181), "stallion": (0.951, 0.216), "dominicks_oj": (0.470, 0.169)}
TAILS = ["q0.05", "q0.1", "q0.9", "q0.95"]  # the quantiles the baselines have
GOAL_RATIO = 0.90
GOAL_COVERAGE = (0.87, 0.93)
GOAL_TIME_RATIO = 2.0


@dataclass(frozen=True)
class Result:
    """One model's forecast on one dataset, and the wall time of the run that made it."""

    forecast: pd.DataFrame
    seconds: float
    run: str


def split(name: str, *, dev: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, str, int]:
    """Return (train, test, freq, horizon) with the last horizon of every series held out.

    With ``dev``, the last horizon is dropped first, so the test is the last horizon of the
    real training part.
    """
    dataset = load_shared(name)
    frame = fill_gaps(dataset).df
    static = dataset.static
    if static is not None:
        frame = frame.merge(static, on="unique_id", how="left", suffixes=("", "_static"))
    horizon = HORIZON[name]
    offset = pd.tseries.frequencies.to_offset(dataset.freq)
    end = frame["ds"].max() - (offset * horizon if dev else pd.Timedelta(0))
    frame = frame[frame["ds"] <= end]
    cutoff = end - offset * horizon
    for column in COVARIATES[name]:
        frame[column] = frame.groupby("unique_id")[column].ffill().bfill().fillna(0.0)
    train, test = frame[frame["ds"] <= cutoff], frame[frame["ds"] > cutoff]
    # Series that ended before the cutoff have nothing to score: leave them out.
    complete = test.groupby("unique_id").size().loc[lambda sizes: sizes == horizon].index
    train, test = train[train["unique_id"].isin(complete)], test[test["unique_id"].isin(complete)]
    return train, test, dataset.freq, horizon


def baselines(
    train: pd.DataFrame, test: pd.DataFrame, freq: str, horizon: int, covariates: list[str]
) -> dict[str, Result]:
    """Forecasts of the plain baselines, each as ``unique_id, ds, mean, q...``, run with defaults."""
    season = season_length(freq)
    results = {}
    engine = StatsForecast(
        models=[
            SeasonalNaive(season_length=season),
            HistoricAverage(),
            AutoETS(season_length=season),
            AutoTheta(season_length=season),
        ],
        freq=freq,
    )
    started = time.perf_counter()
    frame = engine.forecast(h=horizon, df=train[["unique_id", "ds", "y"]], level=[80, 90])
    seconds = time.perf_counter() - started
    # The reference table's combination: the median of AutoETS, AutoTheta and
    # seasonal naive, point and interval bounds alike.
    members = ("AutoETS", "AutoTheta", "SeasonalNaive")
    for suffix in ("", "-lo-80", "-hi-80", "-lo-90", "-hi-90"):
        frame[f"Median{suffix}"] = frame[[f"{m}{suffix}" for m in members]].median(axis=1)
    for model in ("SeasonalNaive", "HistoricAverage", "AutoETS", "AutoTheta", "Median"):
        out = frame[["unique_id", "ds"]].copy()
        out["mean"] = frame[model]
        for level, low, high in ((90, 0.05, 0.95), (80, 0.1, 0.9)):
            out[f"q{low}"] = frame[f"{model}-lo-{level}"]
            out[f"q{high}"] = frame[f"{model}-hi-{level}"]
        results[model] = Result(out, seconds, "statsforecast")
    started = time.perf_counter()
    ml = MLForecast(
        models={"LightGBM": lgb.LGBMRegressor(verbosity=-1, n_estimators=200, random_state=0)},
        freq=freq,
        lags=[1, 2, 3, 4, season],
        date_features=["month"],
    )
    ml.fit(train[["unique_id", "ds", "y", *covariates]], static_features=[])
    future = test[["unique_id", "ds", *covariates]] if covariates else None
    out = ml.predict(h=horizon, X_df=future).rename(columns={"LightGBM": "mean"})
    results["LightGBM (lags)"] = Result(out, time.perf_counter() - started, "mlforecast")
    return results


def run(name: str, console: Console, *, dev: bool, cache: Path | None = None) -> dict[str, float | str]:
    """Score cpfr auto and the baselines on one dataset; print its table, return its goal row.

    With ``cache``, the baselines' forecasts and times are kept there and reused (repeated runs).
    """
    train, test, freq, horizon = split(name, dev=dev)
    covariates = COVARIATES[name]
    season = season_length(freq)
    stored = None if cache is None else cache / f"{name}{'_dev' if dev else ''}_baselines.pickle"
    if stored is not None and stored.exists():
        results = pickle.loads(stored.read_bytes())
    else:
        results = baselines(train, test, freq, horizon, covariates)
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(pickle.dumps(results))
    started = time.perf_counter()
    auto = AutoForecaster(horizon=horizon, quantiles=DEFAULT_QUANTILES, n_jobs=-1)
    auto.fit(train, freq=freq, covariates=covariates)
    forecast = auto.predict(future=test[["unique_id", "ds", *covariates]])
    results["cpfr auto"] = Result(forecast, time.perf_counter() - started, "cpfr")
    window = "dev window (last horizon of the training part)" if dev else "test window"
    table = Table(
        title=f"{name}: {train['unique_id'].nunique()} series, horizon {horizon} ({freq}), {window}"
    )
    for column in ("model", "WRMSSE", "MASE", "WSPL", "WSPL+q.5", "cover 90", "bias", "run seconds"):
        table.add_column(column, justify="left" if column == "model" else "right")
    truth = test[["unique_id", "ds", "y"]]
    scores: dict[str, dict[str, float]] = {}
    for model, result in results.items():
        frame = result.forecast
        if "q0.05" in frame and "q0.5" not in frame:
            frame = frame.assign(**{"q0.5": frame["mean"]})
        present = [column for column in TAILS if column in frame.columns]
        scores[model] = _scores(train, truth, frame, present, season)
        with_median = _scores(train, truth, frame, [*present, "q0.5"], season)["wspl"] if present else None
        table.add_row(
            model,
            *(_figure(scores[model].get(key)) for key in ("wrmsse", "mase", "wspl")),
            _figure(with_median),
            _figure(scores[model].get("coverage_90")),
            _figure(scores[model].get("bias"), "+.3f"),
            f"{result.seconds:.1f}",
        )
    table.caption = f"cpfr auto = {auto.chosen_.name}"
    console.print(auto.leaderboard_.head(8).to_string(index=False), style="dim")
    console.print(table)
    return _goal_row(name, scores, results)


def _goal_row(
    name: str, scores: dict[str, dict[str, float]], results: dict[str, Result]
) -> dict[str, float | str]:
    """Compare cpfr with the best baseline on each measure, with the wall time of the run behind it."""
    mine = scores["cpfr auto"]
    others = {model: found for model, found in scores.items() if model != "cpfr auto"}

    def best(key: str) -> str:
        usable = {model: found[key] for model, found in others.items() if found.get(key) == found.get(key)}
        return min(usable, key=usable.__getitem__)

    wrmsse_model, wspl_model = best("wrmsse"), best("wspl")
    baseline_seconds = max(results[wrmsse_model].seconds, results[wspl_model].seconds)
    return {
        "dataset": name,
        "wrmsse": mine["wrmsse"],
        "best_wrmsse": others[wrmsse_model]["wrmsse"],
        "wrmsse_model": wrmsse_model,
        "wspl": mine["wspl"],
        "best_wspl": others[wspl_model]["wspl"],
        "wspl_model": wspl_model,
        "coverage": mine["coverage_90"],
        "seconds": results["cpfr auto"].seconds,
        "baseline_seconds": baseline_seconds,
        "reference_wrmsse": REFERENCE[name][0],
        "reference_wspl": REFERENCE[name][1],
    }


def goal_table(rows: list[dict[str, float | str]], *, dev: bool) -> Table:
    """Tabulate the goal, dataset by dataset: ratios to the best baseline, coverage and wall time."""
    table = Table(title="Goal: cpfr auto vs the best plain baseline" + (" (dev window)" if dev else ""))
    for column in (
        "dataset",
        "WRMSSE cpfr / best",
        "ratio",
        "WSPL cpfr / best",
        "ratio",
        "cover 90",
        "seconds cpfr / baseline",
        "time ratio",
        "met",
    ):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for row in rows:
        wrmsse_ratio = float(row["wrmsse"]) / float(row["best_wrmsse"])
        wspl_ratio = float(row["wspl"]) / float(row["best_wspl"])
        time_ratio = float(row["seconds"]) / float(row["baseline_seconds"])
        coverage = float(row["coverage"])
        met = (
            wrmsse_ratio <= GOAL_RATIO
            and wspl_ratio <= GOAL_RATIO
            and GOAL_COVERAGE[0] <= coverage <= GOAL_COVERAGE[1]
            and time_ratio <= GOAL_TIME_RATIO
        )
        table.add_row(
            str(row["dataset"]),
            f"{row['wrmsse']:.3f} / {row['best_wrmsse']:.3f} ({row['wrmsse_model']})",
            f"{wrmsse_ratio:.2f}x",
            f"{row['wspl']:.3f} / {row['best_wspl']:.3f} ({row['wspl_model']})",
            f"{wspl_ratio:.2f}x",
            f"{coverage:.3f}",
            f"{row['seconds']:.0f} / {row['baseline_seconds']:.0f}",
            f"{time_ratio:.2f}x",
            "yes" if met else "no",
        )
    if not dev:
        references = "; ".join(
            f"{row['dataset']} {float(row['wrmsse']) / float(row['reference_wrmsse']):.2f}x / "
            f"{float(row['wspl']) / float(row['reference_wspl']):.2f}x"
            for row in rows
        )
        table.caption = f"against ../shared/data/README.md's reference table (WRMSSE / WSPL): {references}"
    return table


def _scores(
    train: pd.DataFrame, truth: pd.DataFrame, frame: pd.DataFrame, quantiles: list[str], season: int
) -> dict[str, float]:
    columns = ["unique_id", "ds", "mean", *quantiles]
    return score(train[["unique_id", "ds", "y"]], truth, frame[columns], season=season)


def _figure(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None or value != value else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="vn2,stallion,dominicks_oj")
    parser.add_argument("--dev", action="store_true", help="score on the last horizon before the test window")
    parser.add_argument("--cache", type=Path, help="keep and reuse the baselines' forecasts in this folder")
    args = parser.parse_args()
    console = Console(width=170)
    if shared_data_root() is None:
        console.print("../shared/data is absent: nothing to benchmark")
        return
    warnings.simplefilter("ignore")  # library chatter, not results
    rows = [run(name, console, dev=args.dev, cache=args.cache) for name in args.datasets.split(",")]
    console.print(goal_table(rows, dev=args.dev))


if __name__ == "__main__":
    main()
