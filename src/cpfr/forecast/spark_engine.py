"""Adapter over Apache Spark: the one module that imports pyspark, owns the session and the conversions.

cpfr's work on Spark is always the same shape: a long pandas table whose rows
carry a group key, a function of one group's rows (a pandas frame) that
returns a pandas frame, and the results gathered back on the driver. Spark's
``groupBy(...).applyInPandas(...)`` does exactly that (Arrow batches between
the JVM and the Python workers), so cpfr keeps no scheduler of its own:
:meth:`SparkEngine.map_groups` is that call, with the session, the sizing of
the shuffle, the progress of the job and the mapping of failures around it.

What runs inside a group is cpfr's own code, unchanged: the same model fits as
the local engine (:func:`run_fits_on_spark`) or the same order optimisation
(:mod:`cpfr.inventory.replenish`), so the results are the local engine's.

pyspark is an optional extra (``pip install cpfr[spark]``, plus a Java
runtime); it is imported here only, and only when the Spark engine is used.
On a cluster, cpfr must be installed on the executors as on the driver.

References
----------
Zaharia et al. (2016), "Apache Spark: a unified engine for big data processing", CACM 59(11).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cpfr.exceptions import ForecastError, InputError
from cpfr.forecast.base import Setup

if TYPE_CHECKING:
    from cpfr.forecast.parallel import Fit

ENGINES = ("local", "spark")
"""The execution engines of the forecasting and replenishment layers."""

DEFAULT_MASTER = "local[*]"
"""Spark master used when none is given: every core of this machine."""

SERIES_PER_BUCKET = 2_000
"""Most series of one fit in one Spark task: small enough to spread, big enough to pay a task's overhead."""

TASKS_PER_CORE = 3
"""Groups per core at least, so a slow group does not leave the other cores idle at the end."""

POLL_SECONDS = 0.5
"""How often the progress thread asks Spark's status tracker about the running stages."""

_LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")

# The last line of a Python traceback: ``ValueError: ...`` (a worker's exception inside Spark's message).
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b:?")

_ERROR_SCHEMA = "fit long, unique_id string, ds long, value double, error string"


def check_engine(engine: str) -> str:
    """Return ``engine`` if it is one of :data:`ENGINES` (InputError naming them otherwise)."""
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    return engine


@dataclass
class SparkEngine:
    """A Spark session and the jobs cpfr runs on it.

    Parameters
    ----------
    master : str
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``); default every local core.
    progress : callable or None
        Receives progress lines ``spark: stage N: k/n tasks`` while a job runs.
    app_name : str
        The application's name in the cluster manager.
    driver_memory : str
        The driver JVM's heap (``spark.driver.memory``), e.g. ``6g``.

    Examples
    --------
    >>> engine = SparkEngine("local[2]")  # doctest: +SKIP
    >>> engine.map_groups(frame, ["group"], task, "group long, total double")  # doctest: +SKIP
    """

    master: str = DEFAULT_MASTER
    progress: Callable[[str], None] | None = None
    app_name: str = "cpfr"
    # In local mode the driver's JVM holds the data Arrow hands over; Spark's 1 GB default ran out
    # at 100,000 daily series (benchmarks/spark_scale.py). Ignored once a session is running.
    driver_memory: str = "6g"

    @property
    def session(self) -> Any:
        """The SparkSession (built on first use, or the running one reused)."""
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise InputError(
                "the Spark engine needs pyspark: pip install 'cpfr[spark]' (and a Java runtime)"
            ) from None
        builder = SparkSession.builder
        if self.master.startswith("local"):
            # Local workers must run this interpreter (its packages, cpfr); pyspark takes the
            # workers' interpreter from this variable only (a cluster's executors bring their own).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            spark = (
                builder.master(self.master)
                .appName(self.app_name)
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.showConsoleProgress", "false")  # cpfr reports progress itself
                .config("spark.ui.enabled", "false")
                .config("spark.driver.memory", self.driver_memory)
                # cpfr sizes the shuffle to its groups; AQE would merge them into one task on small data.
                .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG_CONFIG}")
                .getOrCreate()
            )
        except Exception as error:  # the JVM did not start: no Java, a bad master URL
            raise ForecastError(
                f"spark: cannot start a session on {self.master!r} ({_first_line(error)}); "
                "is a Java runtime installed (e.g. Debian's default-jre-headless)?"
            ) from None
        spark.sparkContext.setLogLevel("ERROR")
        return spark

    def parallelism(self) -> int:
        """Return the cores Spark runs tasks on (``defaultParallelism``)."""
        return int(self.session.sparkContext.defaultParallelism)

    def map_groups(
        self,
        frame: pd.DataFrame,
        by: Sequence[str],
        task: Callable[[pd.DataFrame], pd.DataFrame],
        schema: str,
        *,
        job: str = "cpfr",
    ) -> pd.DataFrame:
        """Run ``task`` on the rows of each group of ``frame`` (by the ``by`` columns) on Spark; gather.

        Parameters
        ----------
        frame : pandas.DataFrame
            The rows, with the group columns; Arrow-convertible columns only.
        by : sequence of str
            The group columns: each call of ``task`` sees exactly one group's rows, in no set order.
        task : callable
            pandas frame -> pandas frame matching ``schema``; runs in Spark's Python workers.
        schema : str
            Spark DDL of ``task``'s output, e.g. ``"group long, value double"``.
        job : str
            The job's description in Spark.

        Returns
        -------
        pandas.DataFrame
            Every group's output, concatenated (in no set order).
        """
        spark = self.session
        groups = len(frame[list(by)].drop_duplicates()) if len(frame) else 0
        result = self._grouped(spark.createDataFrame(frame), by, task, schema, groups)
        with self._tracked(job):
            return pd.DataFrame(result.toPandas())

    def map_dataset(
        self,
        source: str,
        by: Sequence[str],
        task: Callable[[pd.DataFrame], pd.DataFrame],
        schema: str,
        output: str,
        *,
        columns: Sequence[str] = (),
        job: str = "cpfr",
    ) -> int:
        """Run ``task`` on each group of a Parquet dataset and write the results partitioned by ``by``.

        Nothing passes through the driver: Spark reads ``source`` (a file or a Hive-partitioned
        folder; partition values kept as text), groups it by ``by``, runs ``task`` per group in
        its Python workers and writes ``output`` (Hive-partitioned by ``by``). ``schema`` must end
        with an ``error string`` column that ``task`` fills on a failed group instead of raising.

        Parameters
        ----------
        source, output : str
            The dataset read, and the new folder written.
        by : sequence of str
            The group columns (also the output's partition columns).
        task : callable
            One group's rows -> its output rows (``schema``); runs in Spark's Python workers.
        schema : str
            Spark DDL of ``task``'s output, ending with ``error string``.
        columns : sequence of str
            Columns of ``source`` ``task`` needs besides ``by`` (default: all).
        job : str
            The job's description in Spark.

        Returns
        -------
        int
            The groups.

        Raises
        ------
        ForecastError
            A group failed (``task``'s error text), or Spark did; ``output`` is then incomplete
            and the caller removes it.
        """
        from pyspark import StorageLevel

        spark = self.session
        spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        # pandas writes nanosecond timestamps, which Spark cannot hold: read as int64 nanoseconds
        # (the task turns them back into dates).
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        spark.conf.set("spark.sql.shuffle.partitions", str(self.parallelism()))  # for the distinct keys
        with self._tracked(f"{job}: partitions"):
            data = spark.read.parquet(source)
            if columns:
                data = data.select(*dict.fromkeys([*columns, *by]))
            groups = data.select(*by).distinct().count()
        result = self._grouped(data, by, task, schema, groups).persist(
            StorageLevel.MEMORY_AND_DISK
        )  # checked for failures, then written
        try:
            with self._tracked(job):
                # One pass (a limit would scan the partitions in rounds); failures are a row per group.
                failed = result.where("error IS NOT NULL").select("error").collect()
                if failed:
                    raise ForecastError(f"spark: job {job!r}: {failed[0]['error']}")
                result.drop("error").write.partitionBy(*by).parquet(output)
        finally:
            result.unpersist()
        return int(groups)

    def _grouped(
        self,
        data: Any,
        by: Sequence[str],
        task: Callable[[pd.DataFrame], pd.DataFrame],
        schema: str,
        groups: int,
    ) -> Any:
        """``task`` applied to each group of the Spark DataFrame ``data``, the shuffle sized to ``groups``."""
        # One shuffle partition per group up to a few per core: no empty tasks on small
        # data, and enough of them on big data for the slowest not to hold the job back.
        partitions = max(1, min(groups, TASKS_PER_CORE * self.parallelism()))
        self.session.conf.set("spark.sql.shuffle.partitions", str(partitions))

        def one_group(rows: pd.DataFrame) -> pd.DataFrame:
            # A plain function of one argument: pyspark tells (rows) from (key, rows) by its signature.
            return task(rows)

        return data.groupBy(*by).applyInPandas(one_group, schema=schema)

    @contextmanager
    def _tracked(self, job: str) -> Iterator[None]:
        """Run the Spark actions of the block as one job group: progress reported, failures in one line."""
        context = self.session.sparkContext
        group = f"cpfr-{uuid.uuid4().hex[:12]}"
        context.setJobGroup(group, job)
        tracker = _Progress(context.statusTracker(), group, self.progress)
        tracker.start()
        try:
            yield
        except ForecastError:
            raise
        except Exception as error:  # a worker died or Spark failed: say it in one line, no JVM trace
            raise ForecastError(f"spark: job {job!r} failed: {_first_line(error)}") from None
        finally:
            tracker.finish()


class _Progress(threading.Thread):
    """Polls the status tracker for the stages of one job group; one line per change of a stage's count."""

    def __init__(self, tracker: Any, group: str, say: Callable[[str], None] | None) -> None:
        super().__init__(daemon=True, name="cpfr-spark-progress")
        self.tracker = tracker
        self.group = group
        self.say = say
        self.done = threading.Event()
        self.seen: dict[int, tuple[int, int]] = {}

    def run(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            self.report()

    def finish(self) -> None:
        """Stop polling, then report every stage's final count (a short job may end between polls)."""
        self.done.set()
        self.join()
        self.report()

    def report(self) -> None:
        if self.say is None:
            return
        for job_id in sorted(self.tracker.getJobIdsForGroup(self.group)):
            info = self.tracker.getJobInfo(job_id)
            for stage_id in sorted(info.stageIds if info is not None else ()):
                stage = self.tracker.getStageInfo(stage_id)
                if stage is None or stage.numTasks == 0:
                    continue  # a skipped stage (its shuffle output reused) or not yet submitted
                count = (int(stage.numCompletedTasks), int(stage.numTasks))
                if self.seen.get(stage_id) != count:
                    self.seen[stage_id] = count
                    self.say(f"spark: stage {stage_id}: {count[0]}/{count[1]} tasks")


def _first_line(error: BaseException) -> str:
    """Return the line of an error a person needs: a worker's own exception if any, else the first."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    raised = [line for line in lines if _RAISED.match(line)]
    return (raised[-1] if raised else lines[0])[:300]


def run_fits_on_spark(
    engine: SparkEngine, fits: Sequence[Fit], setup: Setup, partitions: pd.Series | None = None
) -> list[pd.DataFrame]:
    """Run model fits on Spark: a per-series model's fit split into buckets of series, any other whole.

    Parameters
    ----------
    engine : SparkEngine
        Where to run.
    fits : sequence of Fit
        The fits (see :func:`cpfr.forecast.parallel.run_fits`).
    setup : Setup
        The task; each Spark task runs single-threaded.
    partitions : pandas.Series or None
        A label per ``unique_id`` (e.g. the partner): a bucket never holds two labels' series.

    Returns
    -------
    list of pandas.DataFrame
        Each fit's ``unique_id, ds, <model name>``, in the order of ``fits``.

    Raises
    ------
    ForecastError
        A model failed on a series: the message names the model, the series and the error's first line.
    """
    frames = [_pack(index, fit, setup, partitions, engine) for index, fit in enumerate(fits)]
    packed = pd.concat(frames, ignore_index=True)
    models = [fit.model for fit in fits]
    single = replace(setup, threads=1)
    output = engine.map_groups(
        packed,
        ["fit", "bucket"],
        _FitTask(models, single),
        _ERROR_SCHEMA,
        job=f"forecast: {len(fits)} fits",
    )
    failed = output[output["error"].notna()]
    if len(failed):
        first = failed.sort_values(["fit", "unique_id"]).iloc[0]
        name = models[int(first["fit"])].name
        raise ForecastError(f"model {name} failed on series {first['unique_id']!r}: {first['error']}")
    results = []
    for index, fit in enumerate(fits):
        rows = output[output["fit"] == index]
        results.append(
            pd.DataFrame(
                {
                    "unique_id": rows["unique_id"].astype(str).to_numpy(),
                    "ds": pd.to_datetime(rows["ds"].to_numpy(dtype=np.int64)),
                    fit.model.name: rows["value"].to_numpy(dtype=float),
                }
            )
        )
    return results


def _pack(
    index: int, fit: Fit, setup: Setup, partitions: pd.Series | None, engine: SparkEngine
) -> pd.DataFrame:
    """One fit's rows for Spark: ``fit, bucket, row, role`` (0 history, 1 future), ``ds`` as int64 ns."""
    columns = ["unique_id", "ds", "y", *setup.covariates]
    parts = [fit.history[columns].assign(role=0)]
    if fit.future is not None and not fit.model.per_series:
        parts.append(fit.future[["unique_id", "ds", *setup.covariates]].assign(y=np.nan, role=1))
    frame = pd.concat(parts, ignore_index=True)
    frame["unique_id"] = frame["unique_id"].astype(str)
    # Rows keep their order through Spark (a task sorts on ``row``): inputs identical to the local fit's.
    frame["row"] = np.arange(len(frame), dtype=np.int64)
    frame["ds"] = pd.to_datetime(frame["ds"]).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    frame["fit"] = np.int64(index)
    frame["bucket"] = _buckets(frame["unique_id"], partitions, engine) if fit.model.per_series else 0
    return frame


def _buckets(ids: pd.Series, partitions: pd.Series | None, engine: SparkEngine) -> np.ndarray:
    """Bucket of each row's series: series spread round-robin over buckets, never across partitions."""
    codes, unique = pd.factorize(ids)
    label = (
        pd.Series(unique).map(partitions).fillna("").astype(str).to_numpy()
        if partitions is not None
        else np.full(len(unique), "")
    )
    part_code, part_names = pd.factorize(label)
    per_part = np.bincount(part_code, minlength=len(part_names))
    wanted = max(TASKS_PER_CORE * engine.parallelism(), -(-len(unique) // SERIES_PER_BUCKET))
    # Each partition gets buckets in proportion to its series, at least one.
    shares = np.maximum(1, np.round(wanted * per_part / max(len(unique), 1))).astype(np.int64)
    shares = np.minimum(shares, np.maximum(per_part, 1))
    offsets = np.r_[0, np.cumsum(shares)[:-1]]
    rank = pd.Series(np.arange(len(unique))).groupby(part_code).cumcount().to_numpy()
    series_bucket = offsets[part_code] + rank % shares[part_code]
    return np.asarray(series_bucket[codes], dtype=np.int64)


class _FitTask:
    """What a Spark task runs: one bucket (or one whole fit) through the model, errors returned as rows."""

    def __init__(self, models: list[Any], setup: Setup) -> None:
        self.models = models
        self.setup = setup

    def __call__(self, rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values("row")
        fit = int(rows["fit"].to_numpy()[0])
        model = self.models[fit]
        decoded = rows.assign(ds=pd.to_datetime(rows["ds"].to_numpy(dtype=np.int64)))
        columns = ["unique_id", "ds", "y", *self.setup.covariates]
        history = decoded.loc[decoded["role"].to_numpy() == 0, columns].reset_index(drop=True)
        future_rows = decoded["role"].to_numpy() == 1
        future = (
            decoded.loc[future_rows, ["unique_id", "ds", *self.setup.covariates]].reset_index(drop=True)
            if future_rows.any()
            else None
        )
        try:
            out = model.forecast(history, self.setup, future)
        except Exception as error:  # named on the driver: which series, which model, what went wrong
            return _error_row(fit, self._culprit(model, history), error)
        return pd.DataFrame(
            {
                "fit": np.int64(fit),
                "unique_id": out["unique_id"].astype(str).to_numpy(),
                "ds": pd.to_datetime(out["ds"]).to_numpy(dtype="datetime64[ns]").astype(np.int64),
                "value": out[model.name].to_numpy(dtype=float),
                "error": None,
            }
        )

    def _culprit(self, model: Any, history: pd.DataFrame) -> str:
        """Return the first series of a failed bucket failing alone (per-series model), else the first."""
        ids = pd.unique(history["unique_id"])
        if model.per_series:
            for uid in ids:
                try:
                    model.forecast(history[history["unique_id"] == uid], self.setup, None)
                except Exception:  # the failing series found; its error is reported by the caller
                    return str(uid)
        return str(ids[0]) if len(ids) else ""


def _error_row(fit: int, uid: str, error: BaseException) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fit": [np.int64(fit)],
            "unique_id": [uid],
            "ds": [np.int64(0)],
            "value": [np.nan],
            "error": [f"{type(error).__name__}: {_first_line(error)}"],
        }
    )
