"""Replay a replenishment policy against a demand trace: periodic review, lost sales or backorders.

Timing (the same as ``cpfr replenish``'s STATE): in a review period, the
policy decides before period t begins, seeing the stock left at the end of
period t-1 and the pipeline, whose slot k arrives at the start of period
t+k-1 ("future period k"); its order arrives at the start of period t+L
(future period L+1; L = 0: at once). Then the period's shipment arrives and
its demand is served from stock; what cannot be served is lost or
backordered. At the end of the period, stock on hand costs
``holding_cost`` per unit, each unit lost (or each unit on backorder)
``shortage_cost``.

All items are simulated at once (arrays over items, a loop over periods), so
a static policy over thousands of items and years of days takes seconds.
Hand-written: the timing and cost conventions must match cpfr's orders
exactly, and stockpyl's simulator works node by node in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError, LimitError
from cpfr.inventory.limits import COST, WHOLE_PERIODS
from cpfr.inventory.replenish import POLICY_BOUNDS

MAX_SIMULATION_CELLS = 20_000_000
"""Most item-periods simulated at once: each of a few items x periods arrays takes 160 MB at the bound."""

MAX_SIMULATION_WORK = 2_000_000_000
"""Most item-period-pipeline steps, items x periods x (L + 1): about 10 s at the bound."""

# policy(period, on_hand, pipeline) -> order quantities; pipeline[:, k] arrives at the start of period + k.
OrderRule = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SimulationResult:
    """Per-item metrics (``per_item``) and totals (``summary``) of a simulated policy.

    ``per_item`` columns: ``holding_cost, shortage_cost, total_cost, demand, served,
    short_units, fill_rate, cycle_service_level, average_on_hand, turnover_periods, ordered``.
    """

    per_item: pd.DataFrame
    summary: dict[str, float]
    on_hand: np.ndarray  # end-of-period stock, items x periods


def simulate(
    demand: np.ndarray,
    order_rule: OrderRule,
    *,
    lead_time: int,
    review_period: int = 1,
    holding_cost: float | np.ndarray,
    shortage_cost: float | np.ndarray,
    lost_sales: bool = True,
    on_hand: np.ndarray | None = None,
    pipeline: np.ndarray | None = None,
    ids: list[str] | None = None,
) -> SimulationResult:
    """Simulate ``order_rule`` on ``demand`` (items x periods); see the module for the timing.

    ``on_hand`` is the stock before the first period; ``pipeline`` (items x L) what is
    already ordered: column k arrives at the start of period k (0-based), like
    STATE's ``in_transit_{k+1}``.
    """
    demand = np.asarray(demand, dtype=float)
    if demand.ndim != 2 or (demand < 0).any() or not np.isfinite(demand).all():
        raise InputError("demand: expected a non-negative items x periods array")
    POLICY_BOUNDS["lead_time"].check("lead_time", lead_time)
    POLICY_BOUNDS["review_period"].check("review_period", review_period)
    for name, cost in (("holding_cost", holding_cost), ("shortage_cost", shortage_cost)):
        values = np.atleast_1d(np.asarray(cost, dtype=float))
        for value in (float(values.min()), float(values.max())) if values.size else ():
            COST.check(name, value)
    items, periods = demand.shape
    check_trace(items, periods, lead_time)
    stock = np.zeros(items) if on_hand is None else np.asarray(on_hand, dtype=float).copy()
    coming = np.zeros((items, lead_time + 1))  # slot k arrives at the start of period + k
    if pipeline is not None and lead_time:
        coming[:, :lead_time] = np.asarray(pipeline, dtype=float)[:, :lead_time]
    holding = np.broadcast_to(np.asarray(holding_cost, dtype=float), (items,))
    penalty = np.broadcast_to(np.asarray(shortage_cost, dtype=float), (items,))
    held = np.zeros((items, periods))
    short = np.zeros((items, periods))
    ordered = np.zeros(items)
    stockout_cycles = np.zeros(items)
    cycles = 0
    cycle_short = np.zeros(items, dtype=bool)
    for period in range(periods):
        if period % review_period == 0:
            if period:
                stockout_cycles += cycle_short
                cycles += 1
            cycle_short[:] = False
            quantity = np.maximum(
                np.asarray(order_rule(period, stock.copy(), coming[:, :lead_time].copy()), float), 0
            )
            ordered += quantity
            coming[:, lead_time] += quantity
        stock += coming[:, 0]
        coming = np.roll(coming, -1, axis=1)
        coming[:, -1] = 0.0
        need = demand[:, period]
        if lost_sales:
            served = np.minimum(np.maximum(stock, 0.0), need)
            short[:, period] = need - served
            stock -= served
        else:
            backlog_before = np.maximum(-stock, 0.0)
            stock -= need
            short[:, period] = np.maximum(-stock, 0.0)  # units on backorder at the period's end
            served = need - np.maximum(short[:, period] - backlog_before, 0.0)
        cycle_short |= need - served > 1e-12
        held[:, period] = np.maximum(stock, 0.0)
    stockout_cycles += cycle_short
    cycles += 1
    total_demand = demand.sum(axis=1)
    unmet = (
        short.sum(axis=1) if lost_sales else np.maximum(total_demand - _served_backorders(demand, short), 0.0)
    )
    holding_total = holding * held.sum(axis=1)
    shortage_total = penalty * short.sum(axis=1)
    average_stock = held.mean(axis=1)
    rate = total_demand / periods
    per_item = pd.DataFrame(
        {
            "unique_id": ids if ids is not None else [str(k) for k in range(items)],
            "holding_cost": holding_total,
            "shortage_cost": shortage_total,
            "total_cost": holding_total + shortage_total,
            "demand": total_demand,
            "served": total_demand - unmet,
            "short_units": unmet,
            "fill_rate": np.where(
                total_demand > 0, 1 - unmet / np.where(total_demand > 0, total_demand, 1), 1.0
            ),
            "cycle_service_level": 1 - stockout_cycles / cycles,
            "average_on_hand": average_stock,
            "turnover_periods": np.where(rate > 0, average_stock / np.where(rate > 0, rate, 1), np.inf),
            "ordered": ordered,
        }
    )
    all_demand = float(total_demand.sum())
    summary = {
        "items": float(items),
        "periods": float(periods),
        "total_cost": float(per_item["total_cost"].sum()),
        "holding_cost": float(holding_total.sum()),
        "shortage_cost": float(shortage_total.sum()),
        "fill_rate": float(1 - unmet.sum() / all_demand) if all_demand > 0 else 1.0,
        "cycle_service_level": float(per_item["cycle_service_level"].mean()),
        "short_units": float(unmet.sum()),
        "average_on_hand": float(average_stock.sum()),
        "turnover_periods": float(average_stock.sum() / (all_demand / periods))
        if all_demand > 0
        else float("inf"),
    }
    return SimulationResult(per_item, summary, held)


def check_trace(items: int, periods: int, lead_time: int) -> None:
    """Refuse a simulation beyond ``MAX_SIMULATION_CELLS`` item-periods or ``MAX_SIMULATION_WORK`` steps.

    Raises
    ------
    LimitError
        The demand trace (items x periods), or it times the pipeline (L + 1), is too large.
    """
    WHOLE_PERIODS.check("lead_time", lead_time)
    cells, work = items * periods, items * periods * (lead_time + 1)
    if cells > MAX_SIMULATION_CELLS or work > MAX_SIMULATION_WORK:
        raise LimitError(
            f"simulation of {items:,} items x {periods:,} periods with a lead time of {lead_time:,}: at most "
            f"{MAX_SIMULATION_CELLS:,} item-periods and {MAX_SIMULATION_WORK:,} item-period-pipeline steps "
            "are supported (fewer items or periods, or a shorter lead time)"
        )


def _served_backorders(demand: np.ndarray, backlog: np.ndarray) -> np.ndarray:
    """Units served from stock on arrival of their demand (not backordered), with backorders."""
    previous = np.concatenate([np.zeros((len(backlog), 1)), backlog[:, :-1]], axis=1)
    new_backorders = np.maximum(backlog - previous, 0.0)
    return (demand - np.minimum(new_backorders, demand)).sum(axis=1)


def order_up_to(levels: np.ndarray, *, moq: int = 0, pack_size: int = 1) -> OrderRule:
    """Base-stock rule: order up to ``levels`` (per item) on the inventory position, rounded up to packs."""
    target = np.asarray(levels, dtype=float)

    def rule(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        del period
        gap = np.maximum(target - on_hand - pipeline.sum(axis=1), 0.0)
        quantity = np.ceil(gap / pack_size) * pack_size
        return np.where((quantity > 0) & (quantity < moq), np.ceil(moq / pack_size) * pack_size, quantity)

    return rule


def reorder_point(levels: np.ndarray, points: np.ndarray) -> OrderRule:
    """(s, S) rule: when the inventory position is at or below ``points`` (s), order up to ``levels`` (S)."""
    target, trigger = np.asarray(levels, dtype=float), np.asarray(points, dtype=float)

    def rule(period: int, on_hand: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
        del period
        position = on_hand + pipeline.sum(axis=1)
        return np.where(position <= trigger, np.maximum(target - position, 0.0), 0.0)

    return rule
