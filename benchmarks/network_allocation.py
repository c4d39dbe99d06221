"""Hot-launch allocation replayed on the demo's launches: cpfr's split against pro-rata-to-forecast.

Run with ``python benchmarks/network_allocation.py [--db STORE --truth TRUE_DEMAND] [--share 0.7]``.
Without ``--db`` the small demo scenario is generated into a temporary folder. With ``--db``,
``--truth`` is the demo's ``truth/true_demand.parquet`` (``cpfr demo run --out DIR`` writes it
under ``DIR/data/truth/``); the store is only read.

For every event of kind ``launch`` whose SKU has an earlier launch to learn from and whose first
``--days`` days are in the truth:

1. a sell-out quantity Q = ``--share`` x the launch's TRUE demand over its first ``--days`` days
   (all locations: demand at a location not allocated to is lost for every method);
2. demand per point from sales before the launch (:func:`cpfr.network.launch_demand.launch_demand`:
   analogue forecast for the total, analogue launch shares for the split; with three or more
   launches whose window ended before this one, zero-inflated negative binomial fitted on them
   and the total conditioned on selling out Q, else negative binomial from the analogues' spread);
3. cpfr's allocation (greedy marginal, :func:`cpfr.network.allocation.allocate`) and the
   pro-rata split of Q to the forecast means (largest remainder);
4. each scored against the true demand per location (``demand``, before stock-outs censored it):
   realised lost sales sum_i (D_i - a_i)^+, and the lost sales each expected under the forecast.

The floor is true total - Q: no split of Q loses less. Lower is better everywhere.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from cpfr.apportion import apportion
from cpfr.data.store import Store, open_store
from cpfr.exceptions import InputError
from cpfr.network.allocation import allocate, expected_sales
from cpfr.network.launch_demand import launch_demand, past_launches


def _small_demo(folder: Path) -> tuple[Store, Path]:
    from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario
    from cpfr.data.ingest import ingest_file

    paths = write_scenario(generate_scenario(DemoConfig.small()), folder)
    store = open_store(folder / "demo.duckdb", mode="create")
    for path in paths:
        if path.parent == folder:
            ingest_file(store, path, path.stem)
    return store, folder / "truth" / "true_demand.parquet"


def replay(store: Store, truth_path: Path, *, share: float, days: int, console: Console) -> pd.DataFrame:
    """One row per launch replayed: quantity, true demand and lost sales of each method."""
    events = store.read_table("events", where={"kind": "launch"}).sort_values("start_date")
    skus = [str(event).removeprefix("LAUNCH-") for event in events["event_id"]]
    truth = pq.read_table(truth_path, filters=[("sku_id", "in", skus)]).to_pandas()
    truth = truth.assign(date=pd.to_datetime(truth["date"]))
    last_truth = truth["date"].max()
    launches = pd.to_datetime(store.read_table("products").set_index("sku_id")["launch_date"])
    # every launch's forecast and sales once; launch_demand keeps those ended before each launch
    history = past_launches(store, before=(last_truth + pd.Timedelta(days=1)).date(), days=days)
    rows = []
    for sku in skus:
        start = launches[sku]
        if start + pd.Timedelta(days=days - 1) > last_truth:
            console.print(f"skip {sku}: its first {days} days end after the truth", style="dim")
            continue
        window = truth[
            (truth["sku_id"] == sku)
            & (truth["date"] >= start)
            & (truth["date"] < start + pd.Timedelta(days=days))
        ]
        true_by_point = window.groupby("location_id")["demand"].sum()
        true_total = float(true_by_point.sum())
        quantity = round(share * true_total)
        if quantity == 0:
            continue
        try:
            demand = launch_demand(store, sku, days=days, quantity=quantity, history=history)
        except InputError as error:
            console.print(f"skip {sku}: {error}", highlight=False, style="dim")
            continue
        ids = [point.point_id for point in demand.points]
        realised = true_by_point.reindex(ids, fill_value=0.0).to_numpy()
        outside = true_total - realised.sum()  # true demand where no point was forecast
        means = np.array([point.demand.mean for point in demand.points])
        started = time.perf_counter()
        cpfr = allocate(demand.points, quantity).units
        seconds = time.perf_counter() - started
        prorata = apportion(quantity, means)
        row = {"sku": sku, "launch": demand.launch_date, "forecast": demand.analogue_total}
        row["learnt from"] = demand.launches_learnt_from
        row |= {"true demand": true_total, "Q": quantity, "floor": true_total - quantity, "seconds": seconds}
        for name, units in (("cpfr", cpfr), ("pro-rata", prorata)):
            row[f"lost {name}"] = float(np.maximum(realised - units, 0).sum() + outside)
            row[f"expected lost {name}"] = float(
                sum(
                    point.demand.mean - float(expected_sales(point.demand, float(a)))
                    for point, a in zip(demand.points, units, strict=True)
                )
            )
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    """Replay the launches and print one row per launch and the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="A demo store (read only); default: the small demo, generated")
    parser.add_argument("--truth", type=Path, help="The demo's truth/true_demand.parquet (with --db)")
    parser.add_argument("--share", type=float, default=0.7, help="Q as a share of the true launch demand")
    parser.add_argument("--days", type=int, default=28, help="Selling window after launch")
    arguments = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        if arguments.db:
            if arguments.truth is None:
                parser.error("--db needs --truth")
            store, truth = open_store(arguments.db, mode="read"), arguments.truth
        else:
            console.print("generating the small demo…", style="dim")
            store, truth = _small_demo(Path(folder))
        try:
            results = replay(store, truth, share=arguments.share, days=arguments.days, console=console)
        finally:
            store.close()
    if results.empty:
        console.print("no launch could be replayed")
        return
    table = Table(
        title=f"launch allocation: Q = {arguments.share:.0%} of true {arguments.days}-day demand; lost sales "
        "(units, lower is better)",
        title_justify="left",
    )
    columns = ["sku", "launch", "forecast", "true demand", "Q", "floor", "lost cpfr", "lost pro-rata"]
    columns += ["expected lost cpfr", "expected lost pro-rata"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("sku", "launch") else "right")
    for row in results.to_dict("records"):
        table.add_row(str(row["sku"]), str(row["launch"]), *(f"{row[c]:,.0f}" for c in columns[2:]))
    totals = results[columns[2:]].sum()
    table.add_row(
        "all", f"{len(results)} launches", *(f"{totals[c]:,.0f}" for c in columns[2:]), style="bold"
    )
    console.print(table)
    excess = {name: totals[f"lost {name}"] - totals["floor"] for name in ("cpfr", "pro-rata")}
    console.print(
        f"lost sales above the floor: cpfr {excess['cpfr']:,.0f}, pro-rata {excess['pro-rata']:,.0f} "
        f"({1 - excess['cpfr'] / excess['pro-rata']:+.1%} for cpfr); cpfr wins "
        f"{int((results['lost cpfr'] < results['lost pro-rata']).sum())} of {len(results)} launches, "
        f"{results['seconds'].mean() * 1000:.1f} ms per allocation",
        highlight=False,
    )


if __name__ == "__main__":
    main()
