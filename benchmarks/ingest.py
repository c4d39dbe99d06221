"""Ingest throughput: rows per second and peak memory loading a 10 M-row Parquet sales file.

Run with ``make bench-ingest`` (or ``python benchmarks/ingest.py --rows N``).
The file is synthetic (1,000 SKUs x 100 locations x 100 days by default);
the ingest runs in a child process so its peak resident memory is measured
alone. Goal: >= 5 M rows/s and peak memory well under the file's in-memory
(Arrow) size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store

_CHILD = """
import sys, time
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store
with open_store(sys.argv[1]) as store:
    started = time.perf_counter()
    result = ingest_file(store, sys.argv[2], "sales", dry_run=sys.argv[3] == "dry")
    seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss over fork and exec.
status = open("/proc/self/status").read()
peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
print(seconds, peak_kb / 1024)
"""


def build(directory: Path, n_skus: int, n_locations: int, n_days: int) -> tuple[Path, Path, int]:
    """Write a store with reference data and a sales file of n_skus x n_locations x n_days rows."""
    db = directory / "bench.duckdb"
    skus = [f"SKU{number:05d}" for number in range(n_skus)]
    locations = [f"LOC{number:04d}" for number in range(n_locations)]
    reference = {
        "partners": pd.DataFrame({"partner_id": ["BRAND"], "name": ["Brand"]}),
        "categories": pd.DataFrame({"category_id": ["C"], "name": ["Category"], "level": [1]}),
        "products": pd.DataFrame(
            {"sku_id": skus, "partner_id": "BRAND", "name": skus, "category_id": "C", "list_price": 999.0}
        ),
        "channels": pd.DataFrame({"channel_id": ["ONLINE"], "name": ["Online"], "kind": ["platform_online"]}),
        "locations": pd.DataFrame(
            {
                "location_id": locations,
                "name": locations,
                "kind": "store",
                "channel_id": "ONLINE",
                "region": "East",
            }
        ),
    }
    with open_store(db, mode="create") as store:
        for table, frame in reference.items():
            path = directory / f"{table}.parquet"
            frame.to_parquet(path, index=False)
            ingest_file(store, path, table)
    rng = np.random.default_rng(0)
    rows = n_skus * n_locations * n_days
    dates = np.datetime64("2024-01-01") + np.arange(n_days)
    sales = pa.table(
        {
            "date": pa.array(np.tile(dates, n_skus * n_locations), pa.date32()),
            "sku_id": pa.array(np.repeat(skus, n_locations * n_days)).dictionary_encode(),
            "location_id": pa.array(np.tile(np.repeat(locations, n_days), n_skus)).dictionary_encode(),
            "units": rng.poisson(3.0, rows).astype(np.int64),
            "list_price": np.full(rows, 999.0),
            "paid_price": np.round(999.0 * (1 - rng.uniform(0, 0.3, rows)), 2),
        }
    )
    path = directory / "sales.parquet"
    pq.write_table(sales, path, row_group_size=1_000_000)
    return db, path, sales.nbytes


def measure(db: Path, path: Path, mode: str) -> tuple[float, float]:
    """Ingest in a child process; return (seconds inside ingest, the child's peak RSS in MB)."""
    output = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db), str(path), mode], check=True, capture_output=True, text=True
    ).stdout
    seconds, peak_mb = output.split()[-2:]
    return float(seconds), float(peak_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="rows in the sales file (multiple of 10,000)"
    )
    args = parser.parse_args()
    n_days, n_locations = 100, 100
    n_skus = max(args.rows // (n_days * n_locations), 1)
    console = Console()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        db, path, arrow_bytes = build(Path(scratch), n_skus, n_locations, n_days)
        rows = n_skus * n_locations * n_days
        console.print(f"built {rows:,} rows in {time.perf_counter() - started:.1f} s", highlight=False)
        view = Table(title=f"cpfr ingest of a {rows:,}-row Parquet sales file (DuckDB store)")
        for column in ("run", "seconds", "rows / s", "peak RSS", "file size", "in-memory size"):
            view.add_column(column, justify="left" if column == "run" else "right")
        for label, mode in (
            ("validate only (--dry-run)", "dry"),
            ("first ingest", "write"),
            ("re-ingest (upsert)", "write"),
        ):
            seconds, peak_mb = measure(db, path, mode)
            view.add_row(
                label,
                f"{seconds:.2f}",
                f"{rows / seconds / 1e6:.2f} M",
                f"{peak_mb:,.0f} MB",
                f"{path.stat().st_size / 1e6:,.0f} MB",
                f"{arrow_bytes / 1e6:,.0f} MB",
            )
        console.print(view)
        console.print(
            "peak RSS: the ingesting process's own high-water mark, Python and DuckDB included.", style="dim"
        )


if __name__ == "__main__":
    main()
