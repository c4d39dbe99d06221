"""Forecast a partitioned Parquet dataset one partition (a hierarchy subtree) at a time, on either engine.

At the scale of a platform (tens of millions of SKU x location series) no single process can
hold the history: the driver-side orchestrator of :class:`~cpfr.forecast.auto.AutoForecaster`
(model choice, ensemble weights, conformal quantiles over all series) stops fitting in one
machine's memory around a few hundred thousand daily series. Here the unit of work is a
partition of the data lake instead (``partner_id=XIAOMI/category_id=PHONE/``, as written by
``cpfr export --partition-by``): each partition runs the whole pipeline of
:class:`~cpfr.forecast.auto.AutoForecaster` on its own series, so each partner x category
chooses its own models and calibrates its own quantiles, and a partner's rows never meet
another's. Nothing passes through the driver:

* ``engine="local"``: partitions run in worker processes on this machine (joblib's loky), each
  reading its partition's files and writing its output files;
* ``engine="spark"``: Spark reads the dataset, groups it by the partition columns and runs
  the same function in its Python workers (``groupBy().applyInPandas()``), then writes the
  output dataset (:meth:`cpfr.forecast.spark_engine.SparkEngine.map_dataset`).

Both engines call :func:`forecast_partition` on the same rows, which it sorts by series and
date before anything else (repeats refused), so the order they arrive in does not matter and
their forecasts are equal. The output is a new Hive-partitioned Parquet folder, written under a
temporary name and renamed when every partition succeeded: a failure leaves no half-written
output.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cpfr.data.datasets import LongDataset, fill_gaps, infer_freq
from cpfr.exceptions import ForecastError, InputError
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import DEFAULT_QUANTILES, quantile_column
from cpfr.forecast.limits import HORIZON, WINDOWS, horizon_bound
from cpfr.forecast.parallel import effective_jobs
from cpfr.forecast.spark_engine import SparkEngine, check_engine

KEY = ("unique_id", "ds", "y")
"""The long-format columns every partition must hold."""


@dataclass(frozen=True)
class PartitionPlan:
    """What every partition's forecast uses: horizon, frequency, candidates, quantiles, backtest windows."""

    horizon: int
    freq: str | None = None
    models: Sequence[str] | str = "auto"
    quantiles: Sequence[float] = field(default_factory=lambda: tuple(DEFAULT_QUANTILES))
    n_windows: int = 3

    def columns(self, by: Sequence[str]) -> list[str]:
        """Return the output's columns, in order."""
        return [*by, "unique_id", "ds", "mean", *map(quantile_column, self.quantiles), "model"]

    def spark_schema(self, by: Sequence[str]) -> str:
        """Return the output's Spark DDL (with the ``error`` column a failed partition fills)."""
        quantiles = ", ".join(f"`{quantile_column(level)}` double" for level in self.quantiles)
        keys = ", ".join(f"`{column}` string" for column in by)
        return (
            f"{keys}, unique_id string, ds timestamp_ntz, mean double, {quantiles}, "
            "model string, error string"
        )


def forecast_partition(rows: pd.DataFrame, by: Sequence[str], plan: PartitionPlan) -> pd.DataFrame:
    """Forecast one partition's series: checked, gaps filled with zero sales, models chosen on them alone.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``unique_id, ds, y`` and the partition columns ``by`` (one value each), in any order.
    by : sequence of str
        The partition columns, copied to the output.
    plan : PartitionPlan
        Horizon, frequency (inferred per partition when None), candidates, quantiles, windows.

    Returns
    -------
    pandas.DataFrame
        :meth:`PartitionPlan.columns`: the partition's keys, ``unique_id, ds, mean``, the quantiles
        and the ``model`` chosen for the partition.

    Raises
    ------
    ForecastError
        A bad row (missing id or date, a non-finite ``y``, a repeated ``unique_id, ds``) or a
        failing model; the message names the partition and the series.
    """
    label = partition_label(rows, by)
    history = _checked(rows, label)
    freq = plan.freq or infer_freq(history["ds"])
    filled = fill_gaps(LongDataset(history, freq=freq, name=label)).df
    longest = int(filled.groupby("unique_id", sort=False).size().max())
    horizon_bound(longest, last=filled["ds"].max(), freq=freq).check("horizon", plan.horizon)
    forecaster = AutoForecaster(
        horizon=plan.horizon,
        models=plan.models,
        quantiles=plan.quantiles,
        n_windows=plan.n_windows,
        n_jobs=1,
    )
    try:
        forecaster.fit(filled, freq=freq)
        out = forecaster.predict()
    except (InputError, ForecastError) as error:
        raise ForecastError(f"{label}: {error}") from None
    for column in by:
        out[column] = str(rows[column].iloc[0])
    out["model"] = forecaster.chosen_.name
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[us]")
    return out[plan.columns(by)]


def partition_label(rows: pd.DataFrame, by: Sequence[str]) -> str:
    """Return a partition's name as its folder: ``partner_id=XIAOMI/category_id=PHONE``."""
    return "/".join(f"{column}={rows[column].iloc[0]}" for column in by) or "the dataset"


def _checked(rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """Return ``unique_id, ds, y`` sorted, or raise ForecastError naming the first bad series and date."""
    history = pd.DataFrame(
        {
            "unique_id": rows["unique_id"].astype("string"),
            "ds": _naive(rows["ds"]),
            "y": pd.to_numeric(rows["y"], errors="coerce").astype(float),
        }
    )
    bad = history["unique_id"].isna() | history["ds"].isna()
    if bad.any():
        row = history[bad].iloc[0]
        raise ForecastError(f"{label}: a row without unique_id or ds (unique_id {row['unique_id']!s})")
    history["unique_id"] = history["unique_id"].astype(str)
    history = history.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    problems = (
        ("y is not a finite number", ~np.isfinite(history["y"].to_numpy())),
        ("the unique_id and ds repeat", history.duplicated(["unique_id", "ds"]).to_numpy()),
    )
    for what, flags in problems:
        if flags.any():
            row = history[flags].iloc[0]
            raise ForecastError(f"{label}: series {row['unique_id']!r} at {row['ds']:%Y-%m-%d}: {what}")
    return history


def _naive(values: pd.Series) -> pd.Series:
    """Return dates as tz-naive datetime64 (UTC wall time where the dataset stored an instant)."""
    dates = pd.to_datetime(values, errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def forecast_dataset(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    by: Sequence[str],
    plan: PartitionPlan,
    engine: str = "local",
    spark_master: str | None = None,
    n_jobs: int = -1,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Forecast every partition of a Parquet dataset into a new partitioned dataset; return the partitions.

    Parameters
    ----------
    source : path
        A Parquet file or a Hive-partitioned folder (``cpfr export --partition-by``) with
        ``unique_id, ds, y`` and the columns ``by``.
    output : path
        The output folder, which must not exist or be empty; partitioned by ``by``.
    by : sequence of str
        The partition columns (e.g. ``partner_id, category_id``); each value is forecast alone.
    plan : PartitionPlan
        What each partition's forecast uses.
    engine : {'local', 'spark'}
        Worker processes on this machine, or Spark (``spark_master``, default ``local[*]``).
    n_jobs : int
        Local worker processes (-1: every core).
    progress : callable or None
        Receives ``forecast: partition k/n`` lines (local) or Spark's stage progress.

    Raises
    ------
    InputError
        ``output`` is not new, ``by`` is empty or names a column the dataset lacks.
    ForecastError
        A partition failed (named with its series); ``output`` is then not written.
    """
    check_engine(engine)
    HORIZON.check("horizon", plan.horizon)
    WINDOWS.check("n_windows", plan.n_windows)
    target = Path(output)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target}: exists and is not an empty folder — the forecast writes a new one")
    if not by:
        raise InputError("partition columns are required (e.g. partner_id,category_id)")
    dataset = _open(Path(source))
    missing = [column for column in (*KEY, *by) if column not in dataset.schema.names]
    if missing:
        raise InputError(
            f"{source}: no column {', '.join(missing)} (its columns: {', '.join(dataset.schema.names)})"
        )
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if engine == "spark":
            spark = SparkEngine(spark_master or "local[*]", progress=progress)
            task = _SparkTask(list(by), plan)
            count = spark.map_dataset(
                str(source),
                list(by),
                task,
                plan.spark_schema(by),
                str(staging),
                columns=KEY,
                job=f"forecast: partitions by {','.join(by)}",
            )
        else:
            count = _run_local(dataset, list(by), plan, staging, n_jobs, progress)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return count


def _open(path: Path) -> ds.Dataset:
    """Open a Parquet file or Hive folder; partition values are read as text (``012`` stays ``012``)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    try:
        partitioning = ds.HivePartitioning.discover(infer_dictionary=True)
        return ds.dataset(path, format="parquet", partitioning=partitioning)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{path}: not a readable Parquet dataset ({error})") from None


def _keys(dataset: ds.Dataset, by: list[str]) -> list[tuple[str, ...]]:
    """Return the distinct partition values, from the folder names when ``by`` are its partition keys."""
    keys: set[tuple[str, ...]] = set()
    for fragment in dataset.get_fragments():
        found = ds.get_partition_keys(fragment.partition_expression)
        if any(column not in found for column in by):
            break
        keys.add(tuple(str(found[column]) for column in by))
    else:
        return sorted(keys)
    table = dataset.to_table(columns=by)
    frame = table.to_pandas().astype(str).drop_duplicates()
    return sorted(map(tuple, frame.to_numpy().tolist()))


def _run_local(
    dataset: ds.Dataset,
    by: list[str],
    plan: PartitionPlan,
    staging: Path,
    n_jobs: int,
    progress: Callable[[str], None] | None,
) -> int:
    """Forecast each partition in a worker process; each reads its rows and writes its file."""
    from joblib import Parallel, delayed

    keys = _keys(dataset, by)
    staging.mkdir(parents=True)
    files = dataset.files
    partitioning = dataset.partitioning
    run = Parallel(n_jobs=effective_jobs(n_jobs), backend="loky", return_as="generator_unordered")
    jobs = (delayed(_local_partition)(files, partitioning, by, key, plan, staging) for key in keys)
    for done, _ in enumerate(run(jobs), start=1):
        if progress is not None:
            progress(f"forecast: partition {done}/{len(keys)}")
    return len(keys)


def _local_partition(
    files: list[str],
    partitioning: ds.Partitioning | None,
    by: list[str],
    key: tuple[str, ...],
    plan: PartitionPlan,
    staging: Path,
) -> None:
    """One local worker's partition: read its rows, forecast, write ``staging/<keys>/part-0.parquet``."""
    dataset = ds.dataset(files, format="parquet", partitioning=partitioning)
    condition = None
    for column, value in zip(by, key, strict=True):
        term = pc.field(column).cast(pa.string()) == value
        condition = term if condition is None else condition & term
    rows = dataset.to_table(columns=[*KEY, *by], filter=condition).to_pandas()
    out = forecast_partition(rows, by, plan)
    folder = staging.joinpath(*(f"{column}={value}" for column, value in zip(by, key, strict=True)))
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(out.drop(columns=by), preserve_index=False), folder / "part-0.parquet"
    )


class _SparkTask:
    """What a Spark task runs on one partition's rows: the local function, failures returned as a row."""

    def __init__(self, by: list[str], plan: PartitionPlan) -> None:
        self.by = by
        self.plan = plan

    def __call__(self, rows: pd.DataFrame) -> pd.DataFrame:
        try:
            out = forecast_partition(rows, self.by, self.plan)
        except Exception as error:  # named on the driver, never a Java trace
            failed = pd.DataFrame(
                {column: pd.Series([np.nan], dtype=float) for column in self.plan.columns(self.by)}
            )
            for column in [*self.by, "unique_id", "model"]:
                failed[column] = pd.Series([None], dtype=object)
            failed[self.by] = [str(rows[column].iloc[0]) for column in self.by]
            failed["ds"] = pd.Series([pd.NaT], dtype="datetime64[us]")
            return failed.assign(error=f"{type(error).__name__}: {error}")
        return out.assign(error=None)
