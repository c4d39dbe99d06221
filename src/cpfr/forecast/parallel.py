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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from cpfr.forecast.base import ForecastModel, Setup

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
    fits: Sequence[Fit], setup: Setup, n_jobs: int, *, costs: Sequence[float] | None = None
) -> list[pd.DataFrame]:
    """Run every fit; return their forecasts in the order given.

    With more than one worker and data small enough to copy, fits run in worker
    processes, single-threaded, the costliest first (``costs``, relative, e.g.
    higher for global models); otherwise here, one after another, with
    ``n_jobs`` threads each.
    """
    workers = min(effective_jobs(n_jobs), len(fits))
    rows = max((len(fit.history) for fit in fits), default=0)
    if workers <= 1 or rows > PROCESS_ROWS:
        threaded = replace(setup, threads=effective_jobs(n_jobs))
        return [_run(fit, threaded) for fit in fits]
    from joblib import Parallel, delayed

    single = replace(setup, threads=1)
    # The costliest fits first, so no worker is left with a long one at the end.
    weights = costs if costs is not None else [1.0] * len(fits)
    order = sorted(range(len(fits)), key=lambda index: -weights[index] * len(fits[index].history))
    results = Parallel(n_jobs=workers, backend="loky")(delayed(_run)(fits[index], single) for index in order)
    ordered: list[pd.DataFrame] = [pd.DataFrame()] * len(fits)
    for index, result in zip(order, results, strict=True):
        ordered[index] = result
    return ordered


def _run(fit: Fit, setup: Setup) -> pd.DataFrame:
    return fit.model.forecast(fit.history, setup, fit.future)
