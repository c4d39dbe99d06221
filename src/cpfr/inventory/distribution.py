"""Distribution networks: one regional warehouse (RDC) feeding many front warehouses or stores, exactly.

The platform's RDC -> FDC/store network under one-for-one (base-stock)
replenishment with Poisson demand at each location, backorders, first come
first served at the warehouse. The warehouse orders from an ample supplier
with lead time L0; location i orders from the warehouse with transport time
L_i and waits longer when the warehouse is out of stock.

Evaluation is exact (Graves 1985; Axsäter 2015, sec. 10.2): the warehouse's
outstanding orders are Poisson(lambda_0 L0), its backorders
B0 = (D0 - S0)^+; the part of them owed to location i is a binomial thinning
of B0 with probability lambda_i / lambda_0; the location's outstanding orders
are that plus its Poisson demand over L_i, independent of it. Optimisation:
for every warehouse level S0 in a range, each location's best level is the
critical fractile p_i/(p_i + h_i) of its outstanding orders (the cost is
separable given S0), and the best S0 is kept. So the optimum is exact over
the range searched, not a METRIC approximation (Sherbrooke 1968), whose
Poisson approximation of the delay is reported beside it for comparison.

Hand-written: no maintained library evaluates or optimises two-echelon
distribution systems (stockpyl's METRIC-free simulation is the nearest).

References
----------
Graves (1985), "A multi-echelon inventory model for a repairable item with one-for-one
replenishment", Mgmt Sci 31(10); Axsäter (2015), *Inventory Control*, 3rd ed., ch. 10;
Sherbrooke (1968), "METRIC: a multi-echelon technique for recoverable item control", Oper Res 16(1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

from cpfr.bounds import number_text
from cpfr.exceptions import InputError, LimitError
from cpfr.inventory.limits import (
    DEFAULT_TIME_LIMIT_SECONDS,
    MAX_CONVOLUTION_CELLS,
    MAX_DISTRIBUTION_WORK,
    MAX_SUPPORT,
    MIN_RATE,
    Deadline,
)

_TAIL = 1e-9  # probability mass left out of each truncated Poisson


@dataclass(frozen=True)
class Location:
    """A front warehouse or store: transport time, costs per unit per period, Poisson demand per period."""

    id: str | int
    lead_time: float
    holding_cost: float
    stockout_cost: float
    demand_mean: float


@dataclass(frozen=True)
class DistributionResult:
    """Base-stock levels (warehouse and locations), expected cost per period and service by location."""

    warehouse_base_stock: int
    base_stock: dict[str | int, int]
    expected_cost: float
    fill_rate: dict[str | int, float]
    expected_backorders: dict[str | int, float]
    expected_on_hand: dict[str | int, float]
    warehouse_delay: float
    metric_cost: float


def distribution_base_stock(
    warehouse_lead_time: float,
    warehouse_holding_cost: float,
    locations: Sequence[Location],
    *,
    max_warehouse_stock: int | None = None,
    warehouse_id: str | int = "warehouse",
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> DistributionResult:
    """Optimal base-stock levels of a one-warehouse, many-location system (exact evaluation, see module).

    The evaluation costs about locations x N^3 multiply-adds, N the support of the
    warehouse's lead-time demand: beyond ``MAX_DISTRIBUTION_WORK`` the instance is
    refused (LimitError), and the search stops at ``time_limit_seconds`` (SolverLimitError).
    """
    _validate(warehouse_lead_time, warehouse_holding_cost, locations)
    deadline = Deadline(time_limit_seconds, "distribution")
    total_rate = sum(location.demand_mean for location in locations)
    warehouse_demand = total_rate * warehouse_lead_time
    top = _support_top(warehouse_demand, "the warehouse's lead-time demand")
    _check_work(top, locations, max_warehouse_stock)
    levels = np.arange(0, (top if max_warehouse_stock is None else max_warehouse_stock) + 1)
    outstanding = stats.poisson.pmf(np.arange(top + 1), warehouse_demand) if top else np.ones(1)
    outstanding = outstanding / outstanding.sum()
    # Backorder distribution for every candidate S0: row s is the pmf of (D0 - s)^+ over 0..top.
    backorders = np.zeros((len(levels), top + 1))
    for row, level in enumerate(levels):
        backorders[row, 0] = outstanding[: level + 1].sum()
        if level < top:
            backorders[row, 1 : top - level + 1] = outstanding[level + 1 :]
    on_hand_warehouse = np.array(
        [float(np.maximum(level - np.arange(top + 1), 0) @ outstanding) for level in levels]
    )
    total = warehouse_holding_cost * on_hand_warehouse
    per_location = []
    for location in locations:
        deadline.check()
        share = location.demand_mean / total_rate
        thinning = stats.binom.pmf(np.arange(top + 1)[None, :], np.arange(top + 1)[:, None], share)
        owed = backorders @ thinning  # rows: S0; columns: units of this location's orders held back
        transit = _poisson(location.demand_mean * location.lead_time)
        waiting = np.maximum(signal.fftconvolve(owed, transit[None, :], axes=1), 0.0)
        waiting /= waiting.sum(axis=1, keepdims=True)
        best = _best_levels(waiting, location)
        per_location.append(best)
        total = total + best[1]
    choice = int(np.argmin(total))
    base_stock: dict[str | int, int] = {}
    fill: dict[str | int, float] = {}
    backordered: dict[str | int, float] = {}
    held: dict[str | int, float] = {}
    for location, (chosen, _, fills, short, hold) in zip(locations, per_location, strict=True):
        base_stock[location.id] = int(chosen[choice])
        fill[location.id] = float(fills[choice])
        backordered[location.id] = float(short[choice])
        held[location.id] = float(hold[choice])
    warehouse_level = int(levels[choice])
    held[warehouse_id] = float(on_hand_warehouse[choice])
    expected_warehouse_backorders = float(backorders[choice] @ np.arange(top + 1))
    delay = expected_warehouse_backorders / total_rate
    metric = _metric_cost(
        warehouse_level, on_hand_warehouse[choice] * warehouse_holding_cost, delay, locations, base_stock
    )
    return DistributionResult(
        warehouse_level, base_stock, float(total[choice]), fill, backordered, held, float(delay), metric
    )


def _best_levels(
    waiting: np.ndarray, location: Location
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per warehouse level (row): the location's best base stock, cost, fill rate, backorders, on hand."""
    ratio = location.stockout_cost / (location.stockout_cost + location.holding_cost)
    cumulative = np.cumsum(waiting, axis=1)
    chosen = np.argmax(cumulative >= ratio - 1e-12, axis=1)
    units = np.arange(waiting.shape[1])
    mean = waiting @ units
    # E[(X - S)^+] = E[X] - sum_{x < S} P(X > x)  and  E[(S - X)^+] = S - E[X] + E[(X - S)^+].
    survival = 1.0 - cumulative
    partial = np.concatenate([np.zeros((len(waiting), 1)), np.cumsum(survival, axis=1)], axis=1)
    rows = np.arange(len(waiting))
    short = mean - partial[rows, chosen]
    hold = chosen - mean + short
    cost = location.holding_cost * hold + location.stockout_cost * short
    # A Poisson arrival finds stock when fewer than S units are outstanding (PASTA).
    fills = np.where(chosen > 0, cumulative[rows, np.maximum(chosen - 1, 0)], 0.0)
    return chosen, cost, fills, short, hold


def _metric_cost(
    warehouse_level: int,
    warehouse_holding: float,
    delay: float,
    locations: Sequence[Location],
    base_stock: dict[str | int, int],
) -> float:
    """Cost the METRIC approximation assigns to the same levels: Poisson demand over L_i + average delay."""
    cost = warehouse_holding
    for location in locations:
        mean = location.demand_mean * (location.lead_time + delay)
        level = base_stock[location.id]
        short = float(mean - np.sum(stats.poisson.sf(np.arange(level), mean)))
        hold = level - mean + short
        cost += location.holding_cost * hold + location.stockout_cost * short
    del warehouse_level
    return float(cost)


def _poisson(mean: float) -> np.ndarray:
    if mean <= 0:
        return np.ones(1)
    top = _support_top(mean, "a location's lead-time demand")
    pmf = stats.poisson.pmf(np.arange(top + 1), mean)
    return pmf / pmf.sum()


def _support_top(mean: float, what: str) -> int:
    """Largest value kept of a Poisson(mean) (0 for no demand); more than ``MAX_SUPPORT`` is refused."""
    if mean <= 0:
        return 0
    # The support reaches past the mean; above the bound scipy's tail search need not even run.
    top = int(stats.poisson.isf(_TAIL, mean)) + 1 if mean < MAX_SUPPORT else MAX_SUPPORT
    if top + 1 > MAX_SUPPORT:
        raise LimitError(
            f"{what} has a Poisson mean of {mean:g}: more than {MAX_SUPPORT:,} values to enumerate, "
            f"at most {MAX_SUPPORT:,} are supported"
        )
    return top


def _check_work(top: int, locations: Sequence[Location], max_warehouse_stock: int | None) -> None:
    """Refuse an instance whose exact evaluation would take more than ``MAX_DISTRIBUTION_WORK`` steps."""
    levels = (top if max_warehouse_stock is None else max_warehouse_stock) + 1
    work = 0.0
    for location in locations:
        transit = _support_top(location.demand_mean * location.lead_time, "a location's lead-time demand")
        cells = levels * (top + transit + 2)
        if cells > MAX_CONVOLUTION_CELLS:
            raise LimitError(
                f"distribution: location {location.id!r} waits on {levels:,} warehouse levels x "
                f"{top + transit + 2:,} outstanding orders = {cells:,} cells, at most "
                f"{MAX_CONVOLUTION_CELLS:,} are supported: shorter lead times or less demand"
            )
        work += float(levels) * (top + 1) ** 2 + cells
    if work > MAX_DISTRIBUTION_WORK:
        raise LimitError(
            f"distribution: {len(locations):,} locations with a warehouse lead-time demand of up to "
            f"{top:,} units need about {work:.2g} steps, at most {number_text(MAX_DISTRIBUTION_WORK)} are "
            "supported: fewer locations, a shorter warehouse lead time or less demand"
        )


def _validate(lead_time: float, holding_cost: float, locations: Sequence[Location]) -> None:
    if not lead_time >= 0:
        raise InputError(f"warehouse.lead_time {lead_time!r}: expected a number >= 0")
    if not holding_cost >= 0:
        raise InputError(f"warehouse.holding_cost {holding_cost!r}: expected a number >= 0")
    if not locations:
        raise InputError("locations: expected at least one location")
    seen = set()
    for position, location in enumerate(locations):
        where = f"locations[{position}]"
        if location.id in seen:
            raise InputError(f"{where}.id {location.id!r}: appears twice")
        seen.add(location.id)
        if not location.lead_time >= 0:
            raise InputError(f"{where}.lead_time {location.lead_time!r}: expected a number >= 0")
        if not location.holding_cost > 0:
            raise InputError(f"{where}.holding_cost {location.holding_cost!r}: expected a number > 0")
        if not location.stockout_cost > 0:
            raise InputError(f"{where}.stockout_cost {location.stockout_cost!r}: expected a number > 0")
        if not location.demand_mean >= MIN_RATE:
            raise InputError(
                f"{where}.demand.mean {location.demand_mean!r}: "
                f"expected a Poisson mean >= {number_text(MIN_RATE)}"
            )
