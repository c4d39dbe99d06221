"""Is the attainment probability calibrated? Predicted P(reach target) against what happened.

Run with ``python benchmarks/attainment_calibration.py [--alliances 100] [--jobs 2]``
(``--first-seed 101`` draws another set of alliances than the usual seeds 1-100). Each
simulated alliance is a demo scenario with its own seed (60 SKUs, 40 stores, sales from
2023-11-01 to 2025-12-31). Its 2025 targets (every partner's GMV, Midea's online GMV) are the
true model's expected GMV times an ambition factor drawn in 0.9-1.15, so some are reached and
some are not. From several days of 2025 the attainment probability is computed on the sales
known then (the store's 2024 targets, which ended before, are the alliance's record), and
compared with whether the whole year's sales reached the target. Prints, per as-of day, the
Brier score beside that of always saying the base rate (and beside the probability from the
sales forecast alone), the mean PIT of the realised final total within the predicted
distribution, and a reliability table, each against the goal of issue 11:

- Brier below the base rate's at every as-of day;
- in every populated bin, the share reached within +/- 0.10 of the mean predicted probability;
- mean PIT in 0.45-0.55 at every as-of day.

The forecasts of one alliance share its calendar (and its partners share a catalogue design),
so they are not independent: read a count of 600 forecasts per day as 100 alliances, and the
binomial standard error printed beside each bin as a lower bound on its noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import multiprocessing
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
from cpfr.targets.panel import SalesBook
from cpfr.targets.scope import scope_from_row

AS_OF = (dt.date(2025, 6, 30), dt.date(2025, 8, 31), dt.date(2025, 10, 31), dt.date(2025, 11, 30))
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
RELIABILITY_TOLERANCE = 0.10
PIT_RANGE = (0.45, 0.55)
# The tables attainment reads; inventory, orders, promotions and partner forecasts are left out.
TABLES = (
    "partners",
    "categories",
    "agreements",
    "targets",
    "products",
    "channels",
    "warehouses",
    "locations",
)
TABLES += ("events", "sales")

Row = tuple[dt.date, str, float, float, float, bool]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="processes (alliances are simulated in parallel)")
    parser.add_argument(
        "--first-seed", type=int, default=1, help="seed of the first alliance (1: the usual set)"
    )
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    started = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.alliances)
    rows: list[Row] = []
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for found in track(
            pool.imap_unordered(alliance, seeds),
            total=args.alliances,
            description="simulated alliances",
            console=console,
        ):
            rows.extend(found)
    report(console, rows, args.alliances, time.perf_counter() - started)
    if args.first_seed != 1:
        console.print(f"alliances of seeds {seeds.start}-{seeds.stop - 1}", highlight=False)


def alliance(seed: int) -> list[Row]:
    """Simulate one alliance and score its 2025 targets from every as-of day."""
    warnings.simplefilter("ignore")
    config = DemoConfig(
        seed=seed,
        n_skus=60,
        n_stores=40,
        history_start=dt.date(2023, 11, 1),
        history_end=dt.date(2025, 12, 31),
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        paths = {path.stem: path for path in write_scenario(generate_scenario(config), Path(folder))}
        with open_store(Path(folder) / "demo.duckdb", mode="create") as store:
            for table in TABLES:
                ingest_file(store, paths[table], table)
            book = SalesBook(store)
            targets = store.read_table("targets")
            yearly = targets[targets["period_start"].astype(str).str.startswith("2025")]
            for target in yearly.to_dict("records"):
                scope = scope_from_row(target, book.categories)
                final = book.total(scope, scope.period_start, scope.period_end)
                for as_of in AS_OF:
                    result = target_attainment(store, scope.target_id, as_of=as_of, book=book)
                    pit = float(np.mean(result.totals < final) + 0.5 * np.mean(result.totals == final))
                    reached = final >= result.target
                    rows.append(
                        (
                            as_of,
                            scope.target_id,
                            result.probability,
                            result.probability_from_sales,
                            pit,
                            reached,
                        )
                    )
    return rows


def brier(predicted: np.ndarray, reached: np.ndarray) -> float:
    """Mean squared difference between predicted probability and outcome (Brier 1950)."""
    return float(np.mean((predicted - reached) ** 2))


def report(console: Console, rows: list[Row], alliances: int, seconds: float) -> None:
    """Print the goal table per as-of day, the reliability table and the verdict."""
    days = np.array([row[0] for row in rows])
    predicted = np.array([row[2] for row in rows])
    from_sales = np.array([row[3] for row in rows])
    pit = np.array([row[4] for row in rows])
    reached = np.array([row[5] for row in rows], dtype=float)
    met: list[bool] = []
    summary = Table(title=f"attainment calibration: {alliances} simulated alliances, {len(rows)} forecasts")
    columns = ("as of", "forecasts", "reached", "mean P", "Brier", "Brier of base rate")
    columns += ("Brier, sales only", "mean PIT", "goal met")
    for column in columns:
        summary.add_column(column, justify="left" if column == "as of" else "right")
    for day in [*AS_OF, None]:
        mask = np.ones(len(rows), dtype=bool) if day is None else days == day
        p, y = predicted[mask], reached[mask]
        score, base = brier(p, y), brier(np.full(len(y), y.mean()), y)
        mean_pit = float(pit[mask].mean())
        good = score < base and PIT_RANGE[0] <= mean_pit <= PIT_RANGE[1]
        if day is not None:
            met.append(good)
        summary.add_row(
            "all" if day is None else str(day),
            str(mask.sum()),
            f"{y.mean():.2f}",
            f"{p.mean():.2f}",
            f"{score:.3f}",
            f"{base:.3f}",
            f"{brier(from_sales[mask], y):.3f}",
            f"{mean_pit:.3f}",
            "yes" if good else "NO",
        )
    console.print(summary)
    table = Table(title="reliability: predicted probability against the share reached (all as-of days)")
    for column in ("predicted", "forecasts", "mean predicted", "share reached", "std. error", "goal met"):
        table.add_column(column, justify="right")
    for low, high in itertools.pairwise(BINS):
        mask = (predicted >= low) & ((predicted < high) if high < 1 else (predicted <= high))
        if mask.any():
            mean, share = float(predicted[mask].mean()), float(reached[mask].mean())
            error = np.sqrt(max(mean * (1 - mean), 1e-9) / mask.sum())
            good = abs(share - mean) <= RELIABILITY_TOLERANCE
            met.append(good)
            table.add_row(
                f"{low:.1f}-{high:.1f}",
                str(mask.sum()),
                f"{mean:.2f}",
                f"{share:.2f}",
                f"{error:.2f}",
                "yes" if good else "NO",
            )
    console.print(table)
    deciles = np.histogram(pit, bins=10, range=(0, 1))[0]
    console.print(f"PIT by decile (uniform when calibrated): {' '.join(str(count) for count in deciles)}")
    verdict = "every goal met" if all(met) else f"{met.count(False)} goal(s) not met"
    console.print(f"{verdict}; {seconds:.0f} s", highlight=False)


if __name__ == "__main__":
    main()
