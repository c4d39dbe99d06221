"""Run model fits side by side: the orchestrator's ``n_jobs``, spent on whole fits in worker processes.

A backtest is many independent fits (every candidate model at every origin),
so the orchestrator runs them in ``n_jobs`` worker processes (joblib's loky
executor, reused between calls), each fit single-threaded. Whole fits per
process keep every core busy on small and mid-sized data, where a
multi-threaded library spends more time synchronising its threads than
computing (LightGBM on 20,000 rows with two threads ran 10 x slower than
with one on a busy two-core machine), and a fit gives the same answer
whatever ``n_jobs`` is. On very large histories, copying the data to each
worker costs more than it saves: the fits then run one after another in this
process, each with ``n_jobs`` threads inside the library.

With the Spark engine (:mod:`cpfr.forecast.spark_engine`), the fit of a
per-series model (``model.per_series``) is split by series into buckets that
run as Spark tasks; a series' forecast depends on its own history only, so the
result is the local one. A global model (LightGBM, pooled seasonality) learns
across series: asked for (``global_partitions``), it is fitted once per
partition (partner x category), on both engines alike, and on Spark each
partition is one task, trained where its data lives; otherwise it is one fit on
the driver, as on the local engine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from cpfr.forecast.base import ForecastModel, Setup

if TYPE_CHECKING:
    from cpfr.forecast.spark_engine import SparkEngine

PROCESS_ROWS = 3_000_000
"""Rows of history up to which fits run in worker processes (beyond: in this process, threaded)."""


@dataclass(frozen=True)
class Fit:
    """One model fitted on one history: a backtest window, or the final forecast.

    Attributes
    ----------
    model : ForecastModel
        The model.
    history : pandas.DataFrame
        What it is fitted on (negative values already clipped for a non-negative model).
    future : pandas.DataFrame or None
        Covariates of the forecast periods.
    key : int
        The caller's label of the fit (e.g. the backtest window).
    """

    model: ForecastModel
    history: pd.DataFrame
    future: pd.DataFrame | None
    key: int


def effective_jobs(n_jobs: int) -> int:
    """Turn ``n_jobs`` into a count of workers: -1 means every core, -2 all but one, as in joblib."""
    cores = os.cpu_count() or 1
    if n_jobs < 0:
        return max(cores + 1 + n_jobs, 1)
    return max(n_jobs, 1)


def run_fits(
    fits: Sequence[Fit],
    setup: Setup,
    n_jobs: int,
    *,
    costs: Sequence[float] | None = None,
    spark: SparkEngine | None = None,
    partitions: pd.Series | None = None,
    global_partitions: pd.Series | None = None,
) -> list[pd.DataFrame]:
    """Run every fit; return their forecasts in the order given.

    Parameters
    ----------
    fits : sequence of Fit
        The fits.
    setup : Setup
        The task.
    n_jobs : int
        Local workers (-1: every core).
    costs : sequence of float or None
        Relative cost of each fit per history row (higher for global models): the costliest start first.
    spark : SparkEngine or None
        Run per-series fits (and partitioned global fits) on Spark instead of locally.
    partitions : pandas.Series or None
        A label per ``unique_id`` (e.g. the partner) that Spark's buckets of series never mix.
    global_partitions : pandas.Series or None
        A label per ``unique_id`` (e.g. partner x category): a global model is fitted once per
        label, on either engine; None: once on all series.

    Returns
    -------
    list of pandas.DataFrame
        ``unique_id, ds, <model name>`` per fit.
    """
    weights = list(costs) if costs is not None else [1.0] * len(fits)
    expanded: list[Fit] = []
    parents: list[int] = []
    for index, fit in enumerate(fits):
        pieces = [fit] if fit.model.per_series else _split(fit, global_partitions)
        expanded += pieces
        parents += [index] * len(pieces)
    remote = [
        position
        for position, fit in enumerate(expanded)
        if spark is not None and (fit.model.per_series or global_partitions is not None)
    ]
    on_spark = set(remote)
    here = [position for position in range(len(expanded)) if position not in on_spark]
    results: list[pd.DataFrame] = [pd.DataFrame()] * len(expanded)
    if remote and spark is not None:
        from cpfr.forecast.spark_engine import run_fits_on_spark

        found = run_fits_on_spark(spark, [expanded[position] for position in remote], setup, partitions)
        for position, frame in zip(remote, found, strict=True):
            results[position] = frame
    local = _run_local(
        [expanded[position] for position in here], setup, n_jobs, [weights[parents[p]] for p in here]
    )
    for position, frame in zip(here, local, strict=True):
        results[position] = frame
    merged = []
    for index in range(len(fits)):
        parts = [results[position] for position, parent in enumerate(parents) if parent == index]
        merged.append(parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True))
    return merged


def _split(fit: Fit, labels: pd.Series | None) -> list[Fit]:
    """Split a global model's fit by partition label (in order of first appearance); whole without labels."""
    if labels is None:
        return [fit]
    label = fit.history["unique_id"].map(labels).fillna("").astype(str)
    pieces = []
    for value in pd.unique(label):
        history = fit.history[(label == value).to_numpy()]
        future = fit.future
        if future is not None:
            future = future[future["unique_id"].isin(set(history["unique_id"]))]
        pieces.append(Fit(fit.model, history, future, fit.key))
    return pieces


def _run_local(
    fits: Sequence[Fit], setup: Setup, n_jobs: int, weights: Sequence[float]
) -> list[pd.DataFrame]:
    """Fits in worker processes, single-threaded, the costliest first; or here, threaded."""
    workers = min(effective_jobs(n_jobs), len(fits))
    rows = max((len(fit.history) for fit in fits), default=0)
    if workers <= 1 or rows > PROCESS_ROWS:
        threaded = replace(setup, threads=effective_jobs(n_jobs))
        return [_run(fit, threaded) for fit in fits]
    from joblib import Parallel, delayed

    single = replace(setup, threads=1)
    # The costliest fits first, so no worker is left with a long one at the end.
    order = sorted(range(len(fits)), key=lambda index: -weights[index] * len(fits[index].history))
    results = Parallel(n_jobs=workers, backend="loky")(delayed(_run)(fits[index], single) for index in order)
    ordered: list[pd.DataFrame] = [pd.DataFrame()] * len(fits)
    for index, result in zip(order, results, strict=True):
        ordered[index] = result
    return ordered


def _run(fit: Fit, setup: Setup) -> pd.DataFrame:
    return fit.model.forecast(fit.history, setup, fit.future)
