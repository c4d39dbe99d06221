"""Replenishment on VN2 (weekly store x product): cpfr's orders against the planners' rules.

Run with ``make bench-replenishment`` or ``python benchmarks/replenishment.py [--weeks 8] [--windows 1]``.
The VN2 rules: weekly review, an order placed at the end of week X arrives at the start of
week X+3 (lead time 2 in cpfr's convention), 0.2 per unit left at the end of a week, 1 per unit
of demand lost. The last ``--weeks`` weeks of the history are replayed with their actual
sales as demand (they are censored in stock-out weeks, for every policy alike). Every policy
starts from the same state: one week of the item's recent mean sales on hand and one in each
of the two in-transit slots (the shape of ``raw/initial_state.csv``'s pipeline). With
``--windows N`` the N consecutive windows of ``--weeks`` weeks ending at the last week are
replayed one after the other (each from that state): several origins, not one.

Policies:
- cpfr: each week, :func:`cpfr.inventory.replenish.replenish_panel` (what ``cpfr replenish
  --lost-sales --in-stock in_stock`` runs) on all history before that week: stock-out weeks
  left out, global LightGBM per horizon or the seasonal moving average with negative-binomial
  spread, chosen by newsvendor cost over past origins, then the cost-optimal lost-sales order;
- naive: order up to 3 x the mean of the last 8 weeks' sales;
- VN2 benchmark: the organisers' policy: 13-week moving average of de-seasonalised sales
  (stock-out weeks left out; the panel's seasonal index), order up to 4 weeks of forecast;
- hindsight static: per item, the single order-up-to level that was cheapest over the
  replayed weeks (chosen knowing the actual sales: clairvoyant but static);
- clairvoyant mean (a bound, not a policy): cpfr's order rule given each item's true mean
  demand over the replayed weeks (Poisson spread): what a perfect mean forecast would reach.
``--legacy`` adds cpfr's previous engine (AutoForecaster sample paths; slow).
Goal: cpfr's cost <= 0.80 x the stronger of naive and the VN2 benchmark, and <= 1.0 x the
hindsight static level.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import track
from rich.table import Table

from cpfr.data.datasets import load_shared, shared_data_root
from cpfr.forecast.direct import DemandForecast, Panel, panel_from_long, seasonal_index
from cpfr.inventory.replenish import plan_orders, replenish_panel
from cpfr.inventory.simulate import SimulationResult, order_up_to, simulate

LEAD_TIME, REVIEW, HOLDING, SHORTAGE = 2, 1, 0.2, 1.0
SEASON = 52
NAIVE, VN2, HINDSIGHT, CPFR, LEGACY, BOUND = (
    "naive: up to 3 x mean of 8 weeks",
    "VN2 benchmark: up to 4 weeks of seasonal MA13",
    "hindsight best static level",
    "cpfr replenish (demand distribution, lost-sales order)",
    "cpfr previous engine (AutoForecaster paths)",
    "clairvoyant mean (bound, not a policy)",
)
COMMON = {"lead_time": LEAD_TIME, "review_period": REVIEW, "holding_cost": HOLDING, "shortage_cost": SHORTAGE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--windows", type=int, default=1, help="consecutive replay windows (origins)")
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--legacy", action="store_true", help="also replay cpfr's previous engine (slow)")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))
    if shared_data_root() is None:
        console.print("../shared/data is absent: nothing to benchmark")
        return
    warnings.simplefilter("ignore")
    frame = load_shared("vn2").df.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    panel = panel_from_long(frame, frame["in_stock"].eq(0).to_numpy())
    totals: dict[str, list[SimulationResult]] = {}
    seconds: dict[str, float] = {}
    periods = panel.values.shape[1]
    for window in range(args.windows, 0, -1):
        first = periods - window * args.weeks
        found = replay(console, frame, panel, first, args)
        for name, (result, took) in found.items():
            totals.setdefault(name, []).append(result)
            seconds[name] = seconds.get(name, 0.0) + took
        if args.windows > 1:
            report(console, {name: [result] for name, (result, _) in found.items()}, None, args.weeks, panel)
    report(console, totals, seconds, args.weeks, panel)


def replay(
    console: Console, frame: pd.DataFrame, panel: Panel, first: int, args: argparse.Namespace
) -> dict[str, tuple[SimulationResult, float]]:
    """Replay every policy over the ``args.weeks`` weeks from period ``first``: results and seconds."""
    sales, ids = panel.values, panel.ids
    demand = sales[:, first : first + args.weeks]
    recent = np.ceil(sales[:, first - 8 : first].mean(axis=1))
    start = {"on_hand": recent.copy(), "pipeline": np.column_stack([recent, recent])}
    weeks = pd.DatetimeIndex(sorted(frame["ds"].unique()))
    console.print(f"replaying {weeks[first]:%Y-%m-%d} .. {weeks[first + args.weeks - 1]:%Y-%m-%d}")

    def run(rule: Callable[[int, np.ndarray, np.ndarray], np.ndarray]) -> tuple[SimulationResult, float]:
        began = time.perf_counter()
        result = simulate(demand, rule, lost_sales=True, ids=ids, **start, **COMMON)
        return result, time.perf_counter() - began

    def naive(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        history = sales[:, first + period - 8 : first + period]
        return np.maximum(np.ceil(3 * history.mean(axis=1) - on_hand - pipeline.sum(axis=1)), 0.0)

    def vn2(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        now = first + period
        seen = panel.observed[:, :now]
        index = seasonal_index(Panel(ids, sales[:, :now], seen), SEASON, 4)
        flat = np.where(seen, sales[:, :now] / index[:now], np.nan)[:, -13:]
        level = np.nan_to_num(np.nanmean(flat, axis=1))
        target = level * index[now : now + 4].sum()
        return np.maximum(np.ceil(target - on_hand - pipeline.sum(axis=1)), 0.0)

    rounds = iter(track(range(args.weeks), description="cpfr: weekly forecast + orders", console=console))
    chosen: list[str] = []

    def cpfr_rule(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        next(rounds, None)
        now = first + period
        known = Panel(ids, sales[:, :now], panel.observed[:, :now])
        plan, forecast = replenish_panel(
            known,
            on_hand,
            pipeline,
            season=SEASON,
            lost_sales=True,
            n_paths=args.paths,
            seed=period,
            **COMMON,
        )
        chosen.append(forecast.model)
        return plan.orders["order_qty"].to_numpy(dtype=float)

    truth = demand.mean(axis=1)

    def bound(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        known = DemandForecast(ids, np.repeat(truth[:, None], 3, axis=1), np.zeros(3), "truth", {})
        paths = known.sample(args.paths, seed=period)
        return (
            plan_orders(ids, paths, on_hand, pipeline, lost_sales=True, **COMMON)
            .orders["order_qty"]
            .to_numpy(dtype=float)
        )

    found = {NAIVE: run(naive), VN2: run(vn2)}
    began = time.perf_counter()
    found[HINDSIGHT] = (hindsight(demand, ids, start), time.perf_counter() - began)
    found[CPFR] = run(cpfr_rule)
    console.print(f"cpfr's chosen demand models: {', '.join(chosen)}", highlight=False)
    if args.legacy:
        found[LEGACY] = run(legacy_rule(frame, weeks, first, ids, args.paths))
    found[BOUND] = run(bound)
    return found


def legacy_rule(
    frame: pd.DataFrame, weeks: pd.DatetimeIndex, first: int, ids: list[str], n_paths: int
) -> Callable[[int, np.ndarray, np.ndarray], np.ndarray]:
    """Cpfr's engine before issue 11: AutoForecaster on unconstrained history, its sample paths."""
    from cpfr.forecast.auto import AutoForecaster
    from cpfr.forecast.censoring import uncensor

    long = frame.assign(unique_id=frame["unique_id"].astype(str))

    def rule(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        history = long[long["ds"] < weeks[first + period]].reset_index(drop=True)
        history = uncensor(
            history[["unique_id", "ds", "y"]], history["in_stock"].eq(0).to_numpy(), season=SEASON
        )
        model = AutoForecaster(horizon=LEAD_TIME + REVIEW).fit(
            history[["unique_id", "ds", "y"]], freq="W-MON"
        )
        order_ids, paths = model.sample_paths(model.predict(), n_paths=n_paths, seed=period)
        position = pd.Series(range(len(ids)), index=ids).loc[order_ids].to_numpy()
        plan = plan_orders(
            order_ids, paths, on_hand[position], pipeline[position], lost_sales=True, **COMMON
        ).orders
        quantity = np.zeros(len(ids))
        quantity[position] = plan["order_qty"].to_numpy(dtype=float)
        return quantity

    return rule


def hindsight(demand: np.ndarray, ids: list[str], start: dict) -> SimulationResult:
    """Per item, the static order-up-to level with the lowest simulated cost over the replayed weeks."""
    top = int(np.max(demand)) * (LEAD_TIME + REVIEW) + 5
    best_cost = np.full(len(ids), np.inf)
    best_level = np.zeros(len(ids))
    for level in range(top + 1):
        levels = np.full(len(ids), float(level))
        cost = (
            simulate(demand, order_up_to(levels), lost_sales=True, ids=ids, **start, **COMMON)
            .per_item["total_cost"]
            .to_numpy()
        )
        better = cost < best_cost
        best_cost[better], best_level[better] = cost[better], level
    return simulate(demand, order_up_to(best_level), lost_sales=True, ids=ids, **start, **COMMON)


def report(
    console: Console,
    results: dict[str, list[SimulationResult]],
    seconds: dict[str, float] | None,
    weeks: int,
    panel: Panel,
) -> None:
    """Print cost, its parts and service per policy (summed over windows) and the goal's ratios."""
    windows = len(next(iter(results.values())))
    title = (
        f"VN2: {len(panel.ids)} store x product series, {windows} x {weeks} weeks replayed "
        "(lost sales, L=2, R=1)"
    )
    table = Table(title=title)
    columns = ("policy", "total cost", "holding", "lost sales", "fill rate", "avg on hand")
    for column in (*columns, *(("seconds",) if seconds else ())):
        table.add_column(column, justify="left" if column == "policy" else "right")
    cost: dict[str, float] = {}
    for name, found in results.items():
        parts = {
            key: sum(result.summary[key] for result in found)
            for key in ("total_cost", "holding_cost", "shortage_cost")
        }
        demand = sum(float(result.per_item["demand"].sum()) for result in found)
        short = sum(float(result.per_item["short_units"].sum()) for result in found)
        on_hand = np.mean([result.summary["average_on_hand"] for result in found])
        cost[name] = parts["total_cost"]
        table.add_row(
            name,
            f"{parts['total_cost']:,.1f}",
            f"{parts['holding_cost']:,.1f}",
            f"{parts['shortage_cost']:,.1f}",
            f"{1 - short / demand:.3f}" if demand else "-",
            f"{on_hand:,.0f}",
            *((f"{seconds[name]:.1f}",) if seconds else ()),
        )
    stronger = min(cost[NAIVE], cost[VN2])
    table.caption = (
        f"cpfr / stronger of naive and VN2 benchmark: {cost[CPFR] / stronger:.3f} (goal <= 0.80); "
        f"cpfr / hindsight static: {cost[CPFR] / cost[HINDSIGHT]:.3f} (goal <= 1.0); "
        f"clairvoyant mean / hindsight static: {cost[BOUND] / cost[HINDSIGHT]:.3f}"
    )
    console.print(table)


if __name__ == "__main__":
    main()
