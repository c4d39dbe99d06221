"""How the Spark engine scales: wall time, time per 1,000 series and memory, beside the local engine.

Synthetic weekly and daily retail series (a level per series, a weekly or yearly
pattern, a share of periods without a sale, as in the demo) are forecast by
the per-series statistical models (one rolling backtest window plus the
forecast: ``seasonal_naive``, ``tsb``, ``ses``) in two modes, each on the local
engine (loky workers on every core) and on Spark ``local[2]``:

* ``driver``: one :class:`~cpfr.forecast.auto.AutoForecaster` over every series, the fits
  spread by series (the orchestrator holds all series on the driver: it stops fitting in
  memory between 100,000 and 1,000,000 daily series);
* ``lake``: a Parquet dataset partitioned by partner x category (20 x 5), each partition
  forecast alone (:func:`cpfr.forecast.partitioned.forecast_dataset`); nothing passes
  through the driver, so this is the mode of 1,000,000 series and beyond.

Memory: the driver's Python heap peak (tracemalloc) and the peak resident memory of the
whole process tree (driver, loky or Spark's Python workers, Spark's JVM), sampled from
/proc. The fixed overhead and the cost per series are fitted from the sizes measured,
then projected to 50 M series on a 100-executor cluster.

    python benchmarks/spark_scale.py [--sizes 10000 100000 1000000] [--freq W D]
        [--modes driver lake] [--driver-max 100000] [--local-max 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.partitioned import PartitionPlan, forecast_dataset
from cpfr.forecast.spark_engine import SparkEngine

MODELS = ["seasonal_naive", "tsb", "ses"]
PERIODS = {"W": 104, "D": 120}  # two years weekly, four months daily
HORIZON = {"W": 8, "D": 14}
CLUSTER_SERIES = 50_000_000
CLUSTER_EXECUTORS = 100
CORES_PER_EXECUTOR = 4  # a usual executor size; local[2] is 2 cores
PARTNERS, CATEGORIES = 20, 5


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


def write_lake(count: int, freq: str, folder: Path) -> None:
    """Write ``count`` series as ``partner_id=P/category_id=C/part-0.parquet``, one partition at a time."""
    cells = [(partner, category) for partner in range(PARTNERS) for category in range(CATEGORIES)]
    sizes = np.full(len(cells), count // len(cells)) + (np.arange(len(cells)) < count % len(cells))
    for index, ((partner, category), size) in enumerate(zip(cells, sizes, strict=True)):
        frame = series(int(size), freq, seed=index).drop(columns="partner_id")
        frame["unique_id"] = f"P{partner}C{category}-" + frame["unique_id"]
        target = folder / f"partner_id=P{partner}" / f"category_id=C{category}"
        target.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), target / "part-0.parquet")


class TreeMemory(threading.Thread):
    """Samples the resident memory of this process and all its descendants from /proc (peak in MB)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.done.wait(0.5):
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))

    def stop(self) -> float:
        """Stop sampling; return the peak."""
        self.done.set()
        self.join()
        return self.peak


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and its descendants, in MB (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def measure(size: int, freq: str, engine: str, mode: str, lake: Path | None) -> tuple[float, float, float]:
    """Forecast ``size`` series; return seconds, the driver's heap peak and the tree's RSS peak (MB)."""
    history = series(size, freq) if mode == "driver" else None
    sampler = TreeMemory()
    sampler.start()
    tracemalloc.start()
    started = time.perf_counter()
    if mode == "driver":
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
    else:
        assert lake is not None
        output = lake.with_name(f"{lake.name}-{engine}-out")
        plan = PartitionPlan(
            horizon=HORIZON[freq], freq="W-MON" if freq == "W" else "D", models=MODELS, n_windows=1
        )
        forecast_dataset(
            lake, output, by=("partner_id", "category_id"), plan=plan, engine=engine, spark_master="local[2]"
        )
        shutil.rmtree(output)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, sampler.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--freq", nargs="+", default=["W", "D"], choices=["W", "D"])
    parser.add_argument("--modes", nargs="+", default=["driver", "lake"], choices=["driver", "lake"])
    parser.add_argument(
        "--driver-max", type=int, default=100_000, help="Largest size run in the driver mode (memory)."
    )
    parser.add_argument(
        "--local-max", type=int, default=1_000_000, help="Largest size run on the local engine."
    )
    parser.add_argument(
        "--workdir", default=None, help="Where the Parquet datasets go (default: a temp dir)."
    )
    options = parser.parse_args()
    started = time.perf_counter()
    SparkEngine("local[2]").session  # noqa: B018 -- the session start is measured on its own
    session_seconds = time.perf_counter() - started
    print(f"Spark session start (local[2]): {session_seconds:.1f} s")
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="cpfr-scale-", dir=options.workdir))
    try:
        for freq in options.freq:
            # Models are compiled (numba) on first use, here and in every worker: not part of the cost.
            warm = workdir / f"warm-{freq}"
            write_lake(200, freq, warm)
            for engine in ("local", "spark"):
                measure(200, freq, engine, "driver", None)
                measure(200, freq, engine, "lake", warm)
            for size in options.sizes:
                lake = workdir / f"lake-{freq}-{size}"
                if "lake" in options.modes:
                    write_lake(size, freq, lake)
                for mode in options.modes:
                    for engine in ("local", "spark"):
                        if mode == "driver" and size > options.driver_max:
                            continue
                        if engine == "local" and size > options.local_max:
                            continue
                        seconds, peak, tree = measure(size, freq, engine, mode, lake)
                        rows.append(
                            {
                                "freq": freq,
                                "series": size,
                                "mode": mode,
                                "engine": engine,
                                "seconds": seconds,
                                "s_per_1000": 1000 * seconds / size,
                                "driver_heap_mb": peak,
                                "tree_rss_mb": tree,
                            }
                        )
                        print(
                            pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True
                        )
                shutil.rmtree(lake, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False, float_format=lambda value: f"{value:.2f}"))
    for (freq, mode), group in table.groupby(["freq", "mode"]):
        spark = group[group["engine"] == "spark"].sort_values("series")
        local = group[group["engine"] == "local"].set_index("series")["seconds"]
        if spark.empty:
            continue
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
            f"{freq} {mode}: Spark cost {1000 * slope:.2f} s per 1,000 series on 2 cores, "
            f"fixed overhead {overhead:.1f} s; Spark faster than local from: {crossover}; "
            f"50 M series on {CLUSTER_EXECUTORS} executors x {CORES_PER_EXECUTOR} cores: "
            f"about {projected / 60:.0f} min (compute only, linear scaling assumed)"
        )


if __name__ == "__main__":
    main()
