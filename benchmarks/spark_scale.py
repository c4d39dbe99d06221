"""How the Spark engine scales: wall time, time per 1,000 series and driver memory, beside the local engine.

Synthetic weekly and daily retail series (a level per series, a weekly or yearly
pattern, a share of periods without a sale, as in the demo) are forecast by
the per-series statistical models the Spark engine distributes (one rolling
backtest window plus the forecast: ``seasonal_naive``, ``tsb``, ``ses``), on
``local[2]`` and with the local engine (loky workers on every core) where the
data fits. The fixed overhead (session start, a first job) and the cost per
series are fitted from the sizes measured, then projected to 50 M series on a
100-executor cluster.

    python benchmarks/spark_scale.py [--sizes 10000 100000 1000000] [--freq W D] [--local-max 200000]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.spark_engine import SparkEngine

MODELS = ["seasonal_naive", "tsb", "ses"]
PERIODS = {"W": 104, "D": 120}  # two years weekly, four months daily
HORIZON = {"W": 8, "D": 14}
CLUSTER_SERIES = 50_000_000
CLUSTER_EXECUTORS = 100
CORES_PER_EXECUTOR = 4  # a usual executor size; local[2] is 2 cores


def series(count: int, freq: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = PERIODS[freq]
    dates = pd.date_range("2023-01-02", periods=periods, freq="W-MON" if freq == "W" else "D")
    cycle = 52 if freq == "W" else 7
    pattern = 1 + 0.3 * np.sin(2 * np.pi * np.arange(periods) / cycle)
    level = rng.gamma(0.8, 2.5, count)[:, None]
    selling = rng.random((count, periods)) < rng.uniform(0.2, 0.9, count)[:, None]  # intermittent mix
    sold = rng.poisson(level * pattern) * selling
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.char.add("S", np.arange(count).astype(str)), periods),
            "ds": np.tile(dates, count),
            "y": sold.ravel().astype(float),
            "partner_id": np.repeat(np.char.add("P", (np.arange(count) % 20).astype(str)), periods),
        }
    )


def measure(history: pd.DataFrame, freq: str, engine: str) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    model = AutoForecaster(
        horizon=HORIZON[freq],
        models=MODELS,
        n_windows=1,
        n_jobs=-1,
        engine=engine,
        spark_master="local[2]",
        partition_by=("partner_id",) if engine == "spark" else (),
    )
    model.fit(history, freq="W-MON" if freq == "W" else "D").predict()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--freq", nargs="+", default=["W", "D"], choices=["W", "D"])
    parser.add_argument(
        "--local-max", type=int, default=200_000, help="Largest size run on the local engine."
    )
    options = parser.parse_args()
    started = time.perf_counter()
    SparkEngine("local[2]").session  # noqa: B018 -- the session start is measured on its own
    session_seconds = time.perf_counter() - started
    print(f"Spark session start (local[2]): {session_seconds:.1f} s")
    rows = []
    for freq in options.freq:
        # Models are compiled (numba) on first use, here and in every Spark worker: not part of the cost.
        for engine in ("local", "spark"):
            measure(series(200, freq, seed=1), freq, engine)
        for size in options.sizes:
            history = series(size, freq)
            for engine in ("local", "spark"):
                if engine == "local" and size > options.local_max:
                    continue
                seconds, peak = measure(history, freq, engine)
                rows.append(
                    {
                        "freq": freq,
                        "series": size,
                        "engine": engine,
                        "seconds": seconds,
                        "s_per_1000": 1000 * seconds / size,
                        "driver_peak_mb": peak,
                        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    }
                )
                print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False, float_format=lambda value: f"{value:.2f}"))
    for freq, group in table.groupby("freq"):
        spark = group[group["engine"] == "spark"].sort_values("series")
        local = group[group["engine"] == "local"].set_index("series")["seconds"]
        # Fixed overhead and cost per series: a line through the Spark timings (one size: no overhead).
        slope, overhead = 0.0, 0.0
        if len(spark) > 1:
            slope, overhead = (float(value) for value in np.polyfit(spark["series"], spark["seconds"], 1))
        if slope <= 0:  # one size, or noise beats the sizes' spread: the largest size's mean cost
            slope = float(spark["seconds"].iloc[-1] / spark["series"].iloc[-1])
            overhead = 0.0
        faster = [
            size
            for size in spark["series"]
            if size in local.index and local[size] > spark.set_index("series").loc[size, "seconds"]
        ]
        crossover = f"{min(faster):,} series" if faster else "not reached at the sizes measured"
        cores = CLUSTER_EXECUTORS * CORES_PER_EXECUTOR
        projected = overhead + slope * 2 * CLUSTER_SERIES / cores  # slope is per series on 2 cores
        print(
            f"{freq}: Spark cost {1000 * slope:.2f} s per 1,000 series on 2 cores, "
            f"fixed overhead {overhead:.1f} s; Spark faster than local from: {crossover}; "
            f"50 M series on {CLUSTER_EXECUTORS} executors x {CORES_PER_EXECUTOR} cores: "
            f"about {projected / 60:.0f} min (compute only, linear scaling assumed)"
        )


if __name__ == "__main__":
    main()
