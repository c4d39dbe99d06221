"""Forecast accuracy on the shared public datasets: cpfr ``auto`` against plain open-source baselines.

Run with ``make bench-forecast`` (or ``python benchmarks/forecast_accuracy.py [--datasets vn2,stallion]``).
For each dataset under ``../shared/data`` (or ``$CPFR_SHARED_DATA``): hold out the last horizon
(13 weeks; 6 months for Stallion), fill gaps inside series with zero, forecast with cpfr's
``AutoForecaster`` and, in the same run, statsforecast's seasonal naive, AutoETS and AutoTheta
and an mlforecast LightGBM with lags (quantiles of the baselines from their 80/90 % intervals),
and score everything with the M5-style WRMSSE, MASE, WSPL, 90 % coverage and bias.
Goal: cpfr ``auto`` <= 0.90 x the best baseline on WRMSSE and WSPL, 90 % coverage in 0.87-0.93.
"""

from __future__ import annotations

import argparse
import time
import warnings

import lightgbm as lgb
import pandas as pd
from mlforecast import MLForecast
from rich.console import Console
from rich.table import Table
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoTheta, HistoricAverage, SeasonalNaive

from cpfr.data.datasets import fill_gaps, load_shared, shared_data_root
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import season_length
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
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
# Best WRMSSE and WSPL of ../shared/data/README.md's reference table.
REFERENCE = {"vn2": (0.658, 0.181), "stallion": (0.951, 0.216), "dominicks_oj": (0.470, 0.169)}


def split(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str, int]:
    """Return (train, test, freq, horizon) with the last horizon of every series held out."""
    dataset = load_shared(name)
    frame = fill_gaps(dataset).df
    static = dataset.static
    if static is not None:
        frame = frame.merge(static, on="unique_id", how="left", suffixes=("", "_static"))
    horizon = HORIZON[name]
    cutoff = frame["ds"].max() - pd.tseries.frequencies.to_offset(dataset.freq) * horizon
    for column in COVARIATES[name]:
        frame[column] = frame.groupby("unique_id")[column].ffill().bfill().fillna(0.0)
    train, test = frame[frame["ds"] <= cutoff], frame[frame["ds"] > cutoff]
    # Series that ended before the cutoff have nothing to score: leave them out.
    complete = test.groupby("unique_id").size().loc[lambda sizes: sizes == horizon].index
    train, test = train[train["unique_id"].isin(complete)], test[test["unique_id"].isin(complete)]
    return train, test, dataset.freq, horizon


def baselines(
    train: pd.DataFrame, test: pd.DataFrame, freq: str, horizon: int, covariates: list[str]
) -> dict[str, pd.DataFrame]:
    """Forecasts of the plain baselines, each as ``unique_id, ds, mean, q...``."""
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
        n_jobs=1,
    )
    started = time.perf_counter()
    frame = engine.forecast(h=horizon, df=train[["unique_id", "ds", "y"]], level=[80, 90])
    seconds = (time.perf_counter() - started) / 4
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
        out["q0.5"] = frame[model]
        results[model] = (out, seconds)
    started = time.perf_counter()
    lags = [1, 2, 3, 4, season]
    ml = MLForecast(
        models={"LightGBM": lgb.LGBMRegressor(verbosity=-1, n_estimators=200, random_state=0)},
        freq=freq,
        lags=lags,
        date_features=["month"],
    )
    ml.fit(train[["unique_id", "ds", "y", *covariates]], static_features=[])
    future = test[["unique_id", "ds", *covariates]] if covariates else None
    out = ml.predict(h=horizon, X_df=future).rename(columns={"LightGBM": "mean"})
    results["LightGBM (lags)"] = (out, time.perf_counter() - started)
    return results


def run(name: str, console: Console) -> Table:
    """Score cpfr auto and the baselines on one dataset; return the rows as a rich table."""
    train, test, freq, horizon = split(name)
    covariates = COVARIATES[name]
    season = season_length(freq)
    results = baselines(train, test, freq, horizon, covariates)
    started = time.perf_counter()
    auto = AutoForecaster(horizon=horizon, quantiles=QUANTILES).fit(train, freq=freq, covariates=covariates)
    forecast = auto.predict(future=test[["unique_id", "ds", *covariates]])
    results["cpfr auto"] = (forecast, time.perf_counter() - started)
    table = Table(title=f"{name}: {train['unique_id'].nunique()} series, horizon {horizon} ({freq})")
    for column in ("model", "WRMSSE", "MASE", "WSPL", "WSPL+q.5", "cover 90", "bias", "seconds"):
        table.add_column(column, justify="left" if column == "model" else "right")
    truth = test[["unique_id", "ds", "y"]]
    # WSPL averages over the quantile columns given. "WSPL" uses the reference
    # table's set (the 80 and 90 % interval bounds: q0.05, q0.1, q0.9, q0.95);
    # "WSPL+q.5" adds the median (the mean for the baselines).
    tails = ["q0.05", "q0.1", "q0.9", "q0.95"]
    best = {"wrmsse": float("inf"), "wspl": float("inf")}
    mine: dict[str, float] = {}
    for model, (frame, seconds) in results.items():
        if "q0.05" in frame and "q0.5" not in frame:
            frame = frame.assign(**{"q0.5": frame["mean"]})
        present = [column for column in tails if column in frame.columns]
        with_median = [*present, "q0.5"] if present else []
        scores = _season_scores(train, truth, frame, present, season)
        wspl5 = _season_scores(train, truth, frame, with_median, season)["wspl"]
        target = mine if model.startswith("cpfr") else best
        for key in ("wrmsse", "wspl"):
            value = scores.get(key)
            if value is not None and value == value:
                target[key] = value if target is mine else min(target[key], value)
        table.add_row(
            model,
            *(_figure(scores.get(key)) for key in ("wrmsse", "mase", "wspl")),
            _figure(wspl5),
            _figure(scores.get("coverage_90")),
            _figure(scores.get("bias"), "+.3f"),
            f"{seconds:.1f}",
        )
    reference = REFERENCE[name]
    table.caption = (
        f"cpfr auto = {auto.chosen_.name}\n"
        f"cpfr auto / best baseline here: WRMSSE {mine['wrmsse'] / best['wrmsse']:.2f}x, "
        f"WSPL {mine['wspl'] / best['wspl']:.2f}x; / reference table ({reference[0]}, {reference[1]}): "
        f"{mine['wrmsse'] / reference[0]:.2f}x, {mine['wspl'] / reference[1]:.2f}x (goal <= 0.90x)"
    )
    console.print(auto.leaderboard_.head(8).to_string(index=False), style="dim")
    return table


def _season_scores(
    train: pd.DataFrame, truth: pd.DataFrame, frame: pd.DataFrame, quantiles: list[str], season: int
) -> dict[str, float]:
    columns = ["unique_id", "ds", "mean", *quantiles]
    return score(train[["unique_id", "ds", "y"]], truth, frame[columns], season=season)


def _figure(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None or value != value else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="vn2,stallion,dominicks_oj")
    args = parser.parse_args()
    console = Console()
    if shared_data_root() is None:
        console.print("../shared/data is absent: nothing to benchmark")
        return
    warnings.simplefilter("ignore")  # library chatter, not results
    for name in args.datasets.split(","):
        console.print(run(name, console))


if __name__ == "__main__":
    main()
