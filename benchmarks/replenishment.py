"""Replenishment on VN2 (weekly store x product): cpfr's orders against a naive and a hindsight policy.

Run with ``make bench-replenishment`` or ``python benchmarks/replenishment.py [--weeks 8]``.
The VN2 rules: weekly review, an order placed at the end of week X arrives at the start of
week X+3 (lead time 2 in cpfr's convention), 0.2 per unit left at the end of a week, 1 per unit
of demand lost. The last ``--weeks`` weeks of the history are replayed with their actual
sales as demand (they are censored in stock-out weeks, for every policy alike). Every policy
starts from the same state: one week of the item's recent mean sales on hand and one in each
of the two in-transit slots (the shape of ``raw/initial_state.csv``'s pipeline).

Policies:
- cpfr: each week, ``AutoForecaster`` on all history before that week (stock-out weeks
  unconstrained, as ``cpfr replenish`` does with ``--in-stock``), joint demand paths for the
  next 3 weeks, and the cost-optimal lost-sales order of :func:`cpfr.inventory.replenish.plan_orders`;
- naive: order up to 3 x the mean of the last 8 weeks' sales;
- hindsight static: per item, the single order-up-to level that was cheapest over the
  replayed weeks (chosen knowing the actual sales: clairvoyant but static).
Goal: cpfr's cost >= 20 % below naive and <= 1.0 x the hindsight static level.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import track
from rich.table import Table

from cpfr.data.datasets import load_shared, shared_data_root
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.censoring import uncensor
from cpfr.inventory.replenish import plan_orders
from cpfr.inventory.simulate import SimulationResult, order_up_to, simulate

LEAD_TIME, REVIEW, HOLDING, SHORTAGE = 2, 1, 0.2, 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--models", default="auto", help="'auto' or model names, comma separated")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))
    if shared_data_root() is None:
        console.print("../shared/data is absent: nothing to benchmark")
        return
    warnings.simplefilter("ignore")
    frame = load_shared("vn2").df.sort_values(["unique_id", "ds"])
    sales = frame.pivot(index="unique_id", columns="ds", values="y").fillna(0.0)
    ids = list(sales.index.astype(str))
    weeks = sales.columns
    first = len(weeks) - args.weeks
    demand = sales.to_numpy(dtype=float)[:, first:]
    recent = np.ceil(sales.to_numpy(dtype=float)[:, first - 8 : first].mean(axis=1))
    start = {"on_hand": recent.copy(), "pipeline": np.column_stack([recent, recent])}
    common = {
        "lead_time": LEAD_TIME,
        "review_period": REVIEW,
        "holding_cost": HOLDING,
        "shortage_cost": SHORTAGE,
    }

    def naive(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        history = sales.to_numpy(dtype=float)[:, first + period - 8 : first + period]
        return np.maximum(np.ceil(3 * history.mean(axis=1) - on_hand - pipeline.sum(axis=1)), 0.0)

    seconds: dict[str, float] = {}
    results: dict[str, SimulationResult] = {}
    began = time.perf_counter()
    results["naive: up to 3 x mean of 8 weeks"] = simulate(
        demand, naive, lost_sales=True, ids=ids, **start, **common
    )
    seconds["naive: up to 3 x mean of 8 weeks"] = time.perf_counter() - began

    began = time.perf_counter()
    results["hindsight best static level"] = hindsight(demand, ids, start, common)
    seconds["hindsight best static level"] = time.perf_counter() - began

    long = frame.assign(unique_id=frame["unique_id"].astype(str))
    rounds = iter(track(range(args.weeks), description="cpfr: weekly forecast + orders", console=console))

    def cpfr_rule(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        next(rounds, None)
        cutoff = weeks[first + period]
        history = long[long["ds"] < cutoff].reset_index(drop=True)
        history = uncensor(history[["unique_id", "ds", "y"]], history["in_stock"].eq(0).to_numpy(), season=52)
        models = "auto" if args.models == "auto" else args.models.split(",")
        model = AutoForecaster(horizon=LEAD_TIME + REVIEW, models=models).fit(
            history[["unique_id", "ds", "y"]], freq="W-MON"
        )
        order_ids, paths = model.sample_paths(model.predict(), n_paths=args.paths, seed=period)
        position = pd.Series(range(len(ids)), index=ids).loc[order_ids].to_numpy()
        plan = plan_orders(
            order_ids,
            paths,
            on_hand[position],
            pipeline[position],
            lead_time=LEAD_TIME,
            review_period=REVIEW,
            holding_cost=HOLDING,
            shortage_cost=SHORTAGE,
            lost_sales=True,
        ).orders
        quantity = np.zeros(len(ids))
        quantity[position] = plan["order_qty"].to_numpy(dtype=float)
        return quantity

    began = time.perf_counter()
    results["cpfr replenish (auto forecast, sample paths)"] = simulate(
        demand, cpfr_rule, lost_sales=True, ids=ids, **start, **common
    )
    seconds["cpfr replenish (auto forecast, sample paths)"] = time.perf_counter() - began
    report(console, results, seconds, args.weeks, len(ids))


def hindsight(demand: np.ndarray, ids: list[str], start: dict, common: dict) -> SimulationResult:
    """Per item, the static order-up-to level with the lowest simulated cost over the replayed weeks."""
    top = int(np.max(demand)) * (LEAD_TIME + REVIEW) + 5
    best_cost = np.full(len(ids), np.inf)
    best_level = np.zeros(len(ids))
    for level in range(top + 1):
        levels = np.full(len(ids), float(level))
        cost = (
            simulate(demand, order_up_to(levels), lost_sales=True, ids=ids, **start, **common)
            .per_item["total_cost"]
            .to_numpy()
        )
        better = cost < best_cost
        best_cost[better], best_level[better] = cost[better], level
    return simulate(demand, order_up_to(best_level), lost_sales=True, ids=ids, **start, **common)


def report(
    console: Console, results: dict[str, SimulationResult], seconds: dict[str, float], weeks: int, items: int
) -> None:
    """Print cost, its parts and service per policy, and the ratios the goal is stated in."""
    table = Table(
        title=f"VN2: {items} store x product series, last {weeks} weeks replayed (lost sales, L=2, R=1)"
    )
    for column in ("policy", "total cost", "holding", "lost sales", "fill rate", "avg on hand", "seconds"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for name, result in results.items():
        summary = result.summary
        table.add_row(
            name,
            f"{summary['total_cost']:,.1f}",
            f"{summary['holding_cost']:,.1f}",
            f"{summary['shortage_cost']:,.1f}",
            f"{summary['fill_rate']:.3f}",
            f"{summary['average_on_hand']:,.0f}",
            f"{seconds[name]:.1f}",
        )
    names = list(results)
    cpfr_cost = results[names[2]].summary["total_cost"]
    table.caption = (
        f"cpfr / naive: {cpfr_cost / results[names[0]].summary['total_cost']:.3f} (goal <= 0.80); "
        f"cpfr / hindsight static: {cpfr_cost / results[names[1]].summary['total_cost']:.3f} (goal <= 1.0)"
    )
    console.print(table)


if __name__ == "__main__":
    main()
