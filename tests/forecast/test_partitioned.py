"""A partitioned dataset forecast one partition at a time: same on both engines, partners apart, no half output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from cpfr.cli.main import app
from cpfr.exceptions import ForecastError, InputError
from cpfr.forecast.partitioned import PartitionPlan, forecast_dataset, forecast_partition
from cpfr.forecast.spark_engine import SparkEngine

BY = ["partner_id", "category_id"]
PLAN = PartitionPlan(horizon=7, models=("seasonal_naive", "tsb", "ses"), n_windows=2)
KEYS = [*BY, "unique_id", "ds"]


def lake(series: int = 48, periods: int = 56, seed: int = 0) -> pd.DataFrame:
    """Intermittent daily series of 2 partners x 2 categories; partner P1's are ten times bigger."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=periods, freq="D")
    partner = np.where(np.arange(series) % 2 == 0, "P0", "P1")
    category = np.where(np.arange(series) % 4 < 2, "PHONE", "TV")
    level = rng.gamma(1.5, 3.0, series) * np.where(partner == "P1", 10, 1)
    sold = rng.poisson(level[:, None] * np.ones(periods)) * (rng.random((series, periods)) < 0.6)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"S{number:03d}" for number in range(series)], periods),
            "ds": np.tile(dates, series),
            "y": sold.ravel().astype(float),
            "partner_id": np.repeat(partner, periods),
            "category_id": np.repeat(category, periods),
        }
    )
    # A series sells nothing before its first sale: the gap in the middle is filled as zero sales.
    return frame.drop(index=frame.index[(frame["unique_id"] == "S005") & (frame["ds"] == dates[20])])


def write(frame: pd.DataFrame, folder: Path) -> Path:
    partitioning = ds.partitioning(pa.schema([(column, pa.string()) for column in BY]), flavor="hive")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ds.write_dataset(table, folder, format="parquet", partitioning=partitioning)
    return folder


def read(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder)
    for column in BY:
        frame[column] = frame[column].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[us]")
    return frame.sort_values(KEYS).reset_index(drop=True)


def test_each_partition_is_forecast_on_its_own_series_alone(tmp_path: Path) -> None:
    history = lake()
    count = forecast_dataset(write(history, tmp_path / "in"), tmp_path / "out", by=BY, plan=PLAN, n_jobs=2)
    assert count == 4
    out = read(tmp_path / "out")
    assert len(out) == history["unique_id"].nunique() * 7
    assert out.drop_duplicates(BY).shape[0] == 4
    owner = history.drop_duplicates("unique_id").set_index("unique_id")
    # Every forecast row sits in the partition its series came from.
    assert (out["partner_id"] == out["unique_id"].map(owner["partner_id"])).all()
    assert (out["category_id"] == out["unique_id"].map(owner["category_id"])).all()
    # A partition's forecast is the one it gets alone: no other partner's series weighed in.
    rows = history[(history["partner_id"] == "P0") & (history["category_id"] == "TV")]
    alone = forecast_partition(rows, BY, PLAN).sort_values(KEYS).reset_index(drop=True)
    mine = out[(out["partner_id"] == "P0") & (out["category_id"] == "TV")].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[alone.columns], alone, check_dtype=False)
    assert (out.groupby(BY)["model"].nunique() == 1).all()
    assert (out["q0.05"] <= out["mean"] + 1e-9).all() and (out["mean"] <= out["q0.95"] + 1e-9).all()


def test_spark_gives_the_local_forecast_and_reports_progress(
    tmp_path: Path, spark_engine: SparkEngine
) -> None:
    source = write(lake(seed=1), tmp_path / "in")
    forecast_dataset(source, tmp_path / "local", by=BY, plan=PLAN, n_jobs=1)
    lines: list[str] = []
    count = forecast_dataset(
        source,
        tmp_path / "spark",
        by=BY,
        plan=PLAN,
        engine="spark",
        spark_master="local[2]",
        progress=lines.append,
    )
    assert count == 4
    local, spark = read(tmp_path / "local"), read(tmp_path / "spark")
    assert len(local) == len(spark) > 0
    pd.testing.assert_frame_equal(local[KEYS], spark[KEYS])
    numbers = [column for column in local.columns if column == "mean" or column.startswith("q")]
    assert len(numbers) == 8
    assert np.abs(local[numbers].to_numpy() - spark[numbers].to_numpy()).max() <= 1e-6
    assert (local["model"] == spark["model"]).all()
    assert any(line.startswith("spark: stage ") and "tasks" in line for line in lines)


@pytest.mark.parametrize("engine", ["local", "spark"])
def test_a_bad_series_names_its_partition_and_writes_nothing(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "spark":
        request.getfixturevalue("spark_engine")
    history = lake(seed=2)
    history.loc[history["unique_id"] == "S006", "y"] = np.nan
    source = write(history, tmp_path / "in")
    with pytest.raises(ForecastError, match=r"partner_id=P0/category_id=TV: series 'S006' at 2024-01-01"):
        forecast_dataset(
            source,
            tmp_path / "out",
            by=BY,
            plan=PLAN,
            engine=engine,
            spark_master="local[2]" if engine == "spark" else None,
        )
    assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["in"]  # no staging folder left behind


def test_bad_calls_are_refused_before_any_work(tmp_path: Path) -> None:
    source = write(lake(series=8), tmp_path / "in")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        forecast_dataset(source, tmp_path / "full", by=BY, plan=PLAN)
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    with pytest.raises(InputError, match="no column region"):
        forecast_dataset(source, tmp_path / "out", by=["region"], plan=PLAN)
    with pytest.raises(InputError, match="no such file"):
        forecast_dataset(tmp_path / "missing", tmp_path / "out", by=BY, plan=PLAN)


def test_cli_forecasts_a_partitioned_folder(tmp_path: Path) -> None:
    source = write(lake(series=16), tmp_path / "in")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "forecast", str(source), "--partition-by", "partner_id,category_id", "--horizon", "7",
            "--model", "seasonal_naive,tsb", "--windows", "1", "--output", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "forecast 4 partitions" in result.output
    assert read(tmp_path / "out")["unique_id"].nunique() == 16
    refused = runner.invoke(
        app, ["forecast", str(source), "--partition-by", "partner_id", "--horizon", "7", "--future", "x.csv"]
    )
    assert refused.exit_code != 0 and "--future is not available with --partition-by" in refused.output
