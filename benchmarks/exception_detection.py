"""Score the exception list against the discrepancies injected into the partners' forecasts.

Run with ``python benchmarks/exception_detection.py [--small]``. The demo scenario injects known
discrepancies (a week's forecast x 2.5 or x 0.35) and promotion misses (a promotion week
forecast without its uplift) into the brands' future forecasts and lists them in its truth.
This generates the scenario (default size: 300 SKUs, 250 stores), runs the platform's weekly
forecast and the exception search for every partner, and prints per partner the injected
cells, the cells flagged as DISCREPANCY or PROMOTION_MISMATCH, precision, recall, and the
precision of the ten flags of highest value at stake.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from cpfr.collab.arrangement import arrangements
from cpfr.collab.compare import platform_forecast
from cpfr.collab.exceptions import find_exceptions
from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store

PAIR_REASONS = ("DISCREPANCY", "PROMOTION_MISMATCH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="40 SKUs and 30 stores instead of the default")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    warnings.simplefilter("ignore")
    scenario = generate_scenario(DemoConfig.small() if args.small else DemoConfig())
    injected = pd.DataFrame(scenario.truth["partner_forecast_injections"])
    with tempfile.TemporaryDirectory() as folder:
        paths = write_scenario(scenario, Path(folder))
        with open_store(Path(folder) / "demo.duckdb", mode="create") as store:
            for path in paths:
                if path.parent == Path(folder):
                    ingest_file(store, path, path.stem)
            started = time.perf_counter()
            platform = platform_forecast(store)
            forecast_seconds = time.perf_counter() - started
            found = pd.concat([find_exceptions(store, a, platform) for a in arrangements(store).values()])
            search_seconds = time.perf_counter() - started - forecast_seconds
    report(console, found, injected, forecast_seconds, search_seconds)


def report(
    console: Console, found: pd.DataFrame, injected: pd.DataFrame, forecast: float, search: float
) -> None:
    """Print precision and recall per partner and overall."""
    pairs = found[found["reason"].isin(PAIR_REASONS)].copy()
    pairs["key"] = list(
        zip(
            pairs["sku_id"],
            pairs["channel_id"],
            pd.to_datetime(pairs["ds"]).dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    injected = injected.assign(
        key=list(zip(injected["sku_id"], injected["channel_id"], injected["ds"], strict=True))
    )
    table = Table(title="exceptions against the injected discrepancies")
    for column in (
        "partner",
        "injected",
        "flagged",
        "found",
        "precision",
        "recall",
        "precision, top 10 by value",
    ):
        table.add_column(column, justify="left" if column == "partner" else "right")
    partners = sorted(set(injected["partner_id"]) | set(pairs["partner_id"]))
    for partner in [*partners, None]:
        truth = set(
            injected["key"] if partner is None else injected.loc[injected["partner_id"] == partner, "key"]
        )
        mine = pairs if partner is None else pairs[pairs["partner_id"] == partner]
        flagged = set(mine["key"])
        top = mine.sort_values("value_yuan", ascending=False).head(10)["key"]
        hits = len(flagged & truth)
        table.add_row(
            "all" if partner is None else str(partner),
            str(len(truth)),
            str(len(flagged)),
            str(hits),
            f"{hits / len(flagged):.2f}" if flagged else "–",
            f"{hits / len(truth):.2f}" if truth else "–",
            f"{sum(key in truth for key in top) / len(top):.2f}" if len(top) else "–",
        )
    console.print(table)
    kinds = injected.assign(found=injected["key"].isin(set(pairs["key"]))).groupby("kind")["found"].mean()
    console.print("recall by kind: " + ", ".join(f"{kind} {share:.2f}" for kind, share in kinds.items()))
    console.print(f"reasons: {found['reason'].value_counts().to_dict()}")
    console.print(f"platform forecast {forecast:.0f} s, exception search {search:.0f} s")


if __name__ == "__main__":
    main()
