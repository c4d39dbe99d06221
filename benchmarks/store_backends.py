"""Store backends side by side: ingest throughput and plan time on DuckDB and on PostgreSQL.

Run with ``make bench-store`` (or ``python benchmarks/store_backends.py --scale small``).
Builds the demo scenario (``cpfr.data.demo``; ``--scale default`` is the one
``cpfr demo run`` builds), ingests every table into a new DuckDB file and into
a PostgreSQL server the script starts itself (durable settings: fsync on
commit, as DuckDB's WAL does), then times one planning cycle
(``cpfr.collab.cycle.run_cycle``, results saved) on each. Needs the Debian
``postgresql`` package's binaries (``make bench-store`` installs them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import warnings
from pathlib import Path

from rich.console import Console
from rich.table import Table

# The throwaway server lives with the tests (tests/pg_server.py); the repository root makes it importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pg_server import running_server

from cpfr.collab.cycle import run_cycle
from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import Store, open_store

# The planning run's clock: fixed, so both backends plan the same weeks.
RUN_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def ingest_all(store: Store, paths: list[Path], folder: Path) -> tuple[int, float]:
    rows, started = 0, time.perf_counter()
    for path in paths:
        if path.parent == folder:
            rows += ingest_file(store, path, path.stem).rows
    return rows, time.perf_counter() - started


def plan_seconds(store: Store, *, weeks: int, network: bool) -> float:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the models' own convergence chatter
        run_cycle(store, weeks=weeks, network=network, now=RUN_TIME)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "default"), default="default")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--network", action="store_true", help="also plan network orders (slower)")
    args = parser.parse_args()
    console = Console()
    config = DemoConfig.small() if args.scale == "small" else DemoConfig()
    with tempfile.TemporaryDirectory(prefix="cpfr-bench-store-") as tmp:
        folder = Path(tmp)
        console.print(f"building the {args.scale} demo scenario ...")
        paths = write_scenario(generate_scenario(config), folder)
        results = []
        with running_server(durable=True) as server:
            for name, location in (
                ("DuckDB", str(folder / "bench.duckdb")),
                ("PostgreSQL 15", server.url()),
            ):
                with open_store(location, mode="create") as store:
                    console.print(f"{name}: ingesting ...")
                    rows, seconds = ingest_all(store, paths, folder)
                    console.print(f"{name}: planning ...")
                    plan = plan_seconds(store, weeks=args.weeks, network=args.network)
                results.append((name, rows, seconds, plan))
    table = Table(
        title=f"Store backends: {args.scale} demo, run_cycle(weeks={args.weeks}, network={args.network})"
    )
    for column in ("backend", "rows ingested", "ingest s", "rows/s", "plan s"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for name, rows, seconds, plan in results:
        table.add_row(name, f"{rows:,}", f"{seconds:.1f}", f"{rows / seconds:,.0f}", f"{plan:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
