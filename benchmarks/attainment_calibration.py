"""Is the attainment probability calibrated? Predicted P(reach target) against what happened.

Run with ``python benchmarks/attainment_calibration.py [--alliances 20]``. Each simulated
alliance is a demo scenario with its own seed (60 SKUs, 40 stores, sales from 2023-11-01 to
2025-12-31). Its 2025 targets (every partner's GMV, Midea's online GMV) are the true model's
expected GMV times an ambition factor drawn in 0.9-1.15, so some are reached and some are
not. From several days of 2025 the attainment probability is computed on the sales known
then, and compared with whether the whole year's sales reached the target. Prints the
Brier score beside that of always saying the base rate, and a reliability table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store
from cpfr.targets.attainment import target_attainment
from cpfr.targets.scope import read_scope

AS_OF = (dt.date(2025, 6, 30), dt.date(2025, 8, 31), dt.date(2025, 10, 31), dt.date(2025, 11, 30))
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=20)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 100))
    warnings.simplefilter("ignore")
    rows: list[tuple[dt.date, float, bool]] = []
    started = time.perf_counter()
    for seed in track(range(1, args.alliances + 1), description="simulated alliances", console=console):
        with tempfile.TemporaryDirectory() as folder:
            config = DemoConfig(
                seed=seed,
                n_skus=60,
                n_stores=40,
                history_start=dt.date(2023, 11, 1),
                history_end=dt.date(2025, 12, 31),
            )
            paths = write_scenario(generate_scenario(config), Path(folder))
            with open_store(Path(folder) / "demo.duckdb", mode="create") as store:
                for path in paths:
                    if path.parent == Path(folder):
                        ingest_file(store, path, path.stem)
                targets = store.read_table("targets")
                yearly = targets[targets["period_start"].astype(str).str.startswith("2025")]["target_id"]
                for target_id in yearly:
                    scope = read_scope(store, target_id)
                    final = float(scope.cube(store, [])["value"].iloc[0])
                    for as_of in AS_OF:
                        result = target_attainment(store, target_id, as_of=as_of)
                        rows.append((as_of, result.probability, final >= result.target))
    report(console, rows, args.alliances, time.perf_counter() - started)


def report(console: Console, rows: list[tuple[dt.date, float, bool]], alliances: int, seconds: float) -> None:
    """Print the Brier scores per as-of day and overall, and the reliability table."""
    predicted = np.array([row[1] for row in rows])
    reached = np.array([row[2] for row in rows], dtype=float)
    days = np.array([row[0] for row in rows])
    summary = Table(title=f"attainment calibration: {alliances} simulated alliances, {len(rows)} forecasts")
    for column in ("as of", "forecasts", "reached", "mean P", "Brier", "Brier of base rate"):
        summary.add_column(column, justify="left" if column == "as of" else "right")
    for day in [*AS_OF, None]:
        mask = np.ones(len(rows), dtype=bool) if day is None else days == day
        p, y = predicted[mask], reached[mask]
        summary.add_row(
            "all" if day is None else str(day),
            str(mask.sum()),
            f"{y.mean():.2f}",
            f"{p.mean():.2f}",
            f"{np.mean((p - y) ** 2):.3f}",
            f"{np.mean((y.mean() - y) ** 2):.3f}",
        )
    console.print(summary)
    table = Table(title="reliability: predicted probability against the share reached")
    for column in ("predicted", "forecasts", "mean predicted", "share reached"):
        table.add_column(column, justify="right")
    for low, high in itertools.pairwise(BINS):
        mask = (predicted >= low) & ((predicted < high) if high < 1 else (predicted <= high))
        if mask.any():
            table.add_row(
                f"{low:.1f}-{high:.1f}",
                str(mask.sum()),
                f"{predicted[mask].mean():.2f}",
                f"{reached[mask].mean():.2f}",
            )
    console.print(table)
    console.print(f"{seconds:.0f} s")


if __name__ == "__main__":
    main()
