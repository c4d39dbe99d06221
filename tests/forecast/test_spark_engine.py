"""The Spark engine gives the local engine's forecasts: every statistical model, the backtest, the quantiles.

All tests share one ``local[2]`` session (the ``spark_engine`` fixture); they are skipped without
pyspark or Java unless ``CPFR_REQUIRE_SPARK=1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cpfr.cli.main import app
from cpfr.exceptions import ForecastError
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import Setup
from cpfr.forecast.parallel import Fit, run_fits
from cpfr.forecast.registry import MODELS
from cpfr.forecast.spark_engine import SparkEngine, run_fits_on_spark

TOLERANCE = 1e-6


def intermittent(series: int, periods: int, seed: int = 0, freq: str = "D") -> pd.DataFrame:
    """Retail-like series: a level per series, a weekly pattern, 40 % zero periods; 3 partners."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=periods, freq=freq)
    level = rng.gamma(1.5, 3.0, series)[:, None]
    weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 1.3])[np.arange(periods) % 7]
    sold = rng.poisson(level * weekly) * (rng.random((series, periods)) < 0.6)
    ids = [f"P{number % 3}|S{number:04d}" for number in range(series)]
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, periods),
            "ds": np.tile(dates, series),
            "y": sold.ravel().astype(float),
            "partner_id": np.repeat([uid.split("|")[0] for uid in ids], periods),
        }
    )


def test_every_statistical_model_matches_the_local_engine(spark_engine: SparkEngine) -> None:
    history = intermittent(240, 42)
    setup = Setup(horizon=7, freq="D", season=7)
    names = [name for name, model in MODELS.items() if model.per_series]
    assert {"ets", "arima", "theta", "tsb", "seasonal_naive"} <= set(names)
    # Auto-ARIMA costs ~0.14 s a series: 36 of them keep the test short; every other model sees 240.
    few = history[history["unique_id"].isin(history["unique_id"].unique()[:36])]
    inputs = {name: (few if name == "arima" else history) for name in names}
    fits = [Fit(MODELS[name], inputs[name][["unique_id", "ds", "y"]], None, 0) for name in names]
    local = run_fits(fits, setup, 1)
    spark = run_fits(fits, setup, 1, spark=spark_engine, partitions=_partners(history))
    for name, here, there in zip(names, local, spark, strict=True):
        merged = here.merge(there, on=["unique_id", "ds"], suffixes=("_local", "_spark"))
        assert len(merged) == len(here) == inputs[name]["unique_id"].nunique() * 7, name
        gap = np.abs(merged[f"{name}_local"] - merged[f"{name}_spark"]).max()
        assert gap <= TOLERANCE, f"{name}: {gap}"


def test_backtest_table_and_quantiles_match_the_local_engine(spark_engine: SparkEngine) -> None:
    history = intermittent(300, 70, seed=1)
    # pooled_seasonal is global: one fit on the driver with Spark, as locally.
    settings: dict[str, Any] = {"horizon": 7, "models": ["seasonal_naive", "tsb", "ses", "pooled_seasonal"]}
    local = AutoForecaster(**settings, n_windows=2).fit(history, freq="D")
    spark = AutoForecaster(
        **settings, n_windows=2, engine="spark", spark_master="local[2]", partition_by=("partner_id",)
    ).fit(history, freq="D")
    assert local.backtest_.columns.tolist() == spark.backtest_.columns.tolist()
    pd.testing.assert_frame_equal(
        local.backtest_.drop(columns=settings["models"]), spark.backtest_.drop(columns=settings["models"])
    )
    gap = np.abs(
        local.backtest_[settings["models"]].to_numpy() - spark.backtest_[settings["models"]].to_numpy()
    )
    assert gap.max() <= TOLERANCE
    assert local.chosen_.name == spark.chosen_.name
    ahead_local, ahead_spark = local.predict(), spark.predict()
    assert ahead_local["unique_id"].tolist() == ahead_spark["unique_id"].tolist()
    values = [column for column in ahead_local.columns if column == "mean" or column.startswith("q")]
    assert len(values) > 5
    assert np.abs(ahead_local[values].to_numpy() - ahead_spark[values].to_numpy()).max() <= TOLERANCE


def test_global_model_per_partition_is_the_same_on_both_engines(spark_engine: SparkEngine) -> None:
    history = intermittent(90, 56, seed=2)
    history["category_id"] = np.where(history["unique_id"].str[-1].isin(list("01234")), "C1", "C2")
    settings: dict[str, Any] = {
        "horizon": 7,
        "models": ["pooled_seasonal"],
        "n_windows": 1,
        "global_partition": ("partner_id", "category_id"),
    }
    local = AutoForecaster(**settings).fit(history, freq="D").predict()
    spark = (
        AutoForecaster(**settings, engine="spark", spark_master="local[2]").fit(history, freq="D").predict()
    )
    one_model = (
        AutoForecaster(horizon=7, models=["pooled_seasonal"], n_windows=1).fit(history, freq="D").predict()
    )
    assert np.abs(local["mean"] - spark["mean"]).max() <= TOLERANCE
    assert np.abs(local["mean"] - one_model["mean"]).max() > 1e-3  # partitions learn their own season


@dataclass(frozen=True)
class OnePartnerOnly:
    """A per-series model that checks every series it is given belongs to one partner (the id's prefix)."""

    name: str = "one_partner"
    nonnegative: bool = False
    per_series: ClassVar[bool] = True

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        partners = {uid.split("|")[0] for uid in history["unique_id"]}
        if len(partners) != 1:
            raise AssertionError(f"a task mixed partners {sorted(partners)}")
        last = history.groupby("unique_id", sort=False)["ds"].max()
        rows = [(uid, end + pd.Timedelta(days=step)) for uid, end in last.items() for step in range(1, 4)]
        return pd.DataFrame(rows, columns=["unique_id", "ds"]).assign(**{self.name: float(len(last))})

    def min_history(self, setup: Setup) -> int:
        return 1


@dataclass(frozen=True)
class FailsOn:
    """A per-series model that raises on one series."""

    bad: str
    name: str = "fails_on"
    nonnegative: bool = False
    per_series: ClassVar[bool] = True

    def forecast(self, history: pd.DataFrame, setup: Setup, future: pd.DataFrame | None) -> pd.DataFrame:
        if self.bad in set(history["unique_id"]):
            raise ValueError(f"cannot fit {self.bad}: matrix is singular\nsecond line of detail")
        return OnePartnerOnly().forecast(history, setup, future).rename(columns={"one_partner": self.name})

    def min_history(self, setup: Setup) -> int:
        return 1


def test_a_partners_series_never_share_a_task_with_anothers(spark_engine: SparkEngine) -> None:
    history = intermittent(150, 14, seed=3)
    fit = Fit(OnePartnerOnly(), history[["unique_id", "ds", "y"]], None, 0)
    (result,) = run_fits_on_spark(spark_engine, [fit], Setup(3, "D", 7), _partners(history))
    assert len(result) == 150 * 3
    # Each series saw its bucket's size: buckets split each partner's 50 series, so fewer than 50.
    assert result["one_partner"].max() < 50


def test_a_failing_series_is_named_without_a_java_trace(spark_engine: SparkEngine) -> None:
    history = intermittent(60, 14, seed=4)
    fit = Fit(FailsOn("P1|S0031"), history[["unique_id", "ds", "y"]], None, 0)
    with pytest.raises(ForecastError) as raised:
        run_fits_on_spark(spark_engine, [fit], Setup(3, "D", 7), _partners(history))
    message = str(raised.value)
    assert (
        message
        == "model fails_on failed on series 'P1|S0031': ValueError: cannot fit P1|S0031: matrix is singular"
    )
    assert "java" not in message.lower() and "Traceback" not in message


def test_progress_of_a_spark_job_is_reported(spark_engine: Any) -> None:
    spark_engine.lines.clear()
    history = intermittent(40, 14, seed=5)
    run_fits_on_spark(
        spark_engine, [Fit(MODELS["naive"], history[["unique_id", "ds", "y"]], None, 0)], Setup(3, "D", 7)
    )
    assert spark_engine.lines, "no progress line"
    assert all(line.startswith("spark: stage ") and line.endswith(" tasks") for line in spark_engine.lines)
    done = [
        line
        for line in spark_engine.lines
        if line.split(": ")[-1].split()[0].split("/")[0] == line.split("/")[-1].split()[0]
    ]
    assert done, "no stage reported complete"


def test_cli_forecast_on_spark_writes_the_local_file(spark_engine: SparkEngine, tmp_path: Path) -> None:
    history = intermittent(60, 56, seed=6).drop(columns="partner_id")
    source = tmp_path / "sales.csv"
    history.to_csv(source, index=False)
    runner = CliRunner()
    common = [str(source), "--horizon", "7", "--model", "seasonal_naive,tsb", "--windows", "2"]
    local = runner.invoke(app, ["forecast", *common, "-o", str(tmp_path / "local.csv")])
    assert local.exit_code == 0, local.output
    spark = runner.invoke(
        app,
        [
            "forecast",
            *common,
            "-o",
            str(tmp_path / "spark.csv"),
            "--engine",
            "spark",
            "--spark-master",
            "local[2]",
        ],
    )
    assert spark.exit_code == 0, spark.output
    # Spark's progress reaches the terminal's stderr even when it is not a terminal (captured here).
    assert "spark: stage " in spark.stderr
    assert (tmp_path / "local.csv").read_text() == (tmp_path / "spark.csv").read_text()


def test_cli_refuses_an_unknown_engine(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["backtest", str(tmp_path / "x.csv"), "--horizon", "7", "--engine", "dask"]
    )
    assert result.exit_code == 2
    assert "--engine 'dask': expected one of local, spark" in result.stderr


def _partners(history: pd.DataFrame) -> pd.Series:
    first = history.drop_duplicates("unique_id")
    return pd.Series(first["partner_id"].to_numpy(), index=first["unique_id"].to_numpy())
