"""The greedy add/drop/swap heuristic for facility location: the yardstick the exact MILP is measured by.

Kuehn & Hamburger's (1963) "add" opens, one at a time, the facility that lowers the total cost
most, until none does; then single "drop" and "swap" moves (Teitz & Bart 1968) are made while
any lowers the cost. Which customers an open set serves, and at what cost, is exact: the cheapest
open facility for each customer when no open facility has a capacity, otherwise the
transportation LP through :mod:`cpfr.network.solver` (a binary assignment under single
sourcing, solved for the final set). Candidate moves are ranked by the uncapacitated cost,
computed for all of them at once with numpy; only the best few are priced exactly.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from cpfr.exceptions import InfeasibleError, SolverLimitError
from cpfr.network.facility import FacilityNetwork, FacilityResult, network_result
from cpfr.network.solver import DEFAULT_TIME_LIMIT_SECONDS, LinearModel, solve

PRICED_MOVES = 8
"""Candidate moves priced exactly per step. Without capacities the ranking is the exact price, so
the first is the best; with them it ignores capacity, but the best move is among its first few
almost always, and each transportation LP costs milliseconds to a tenth of a second."""
IMPROVEMENT = 1e-9
"""Relative decrease in cost a move must bring to be taken (below it, rounding noise)."""


def greedy_facility_location(
    fixed_cost: Mapping[str, float],
    capacity: Mapping[str, float] | None,
    demand: Mapping[str, float],
    assignment_cost: Mapping[str, Mapping[str, float]],
    *,
    single_sourcing: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> FacilityResult:
    """Open facilities greedily (add), then improve by drop and swap moves; no optimality bound.

    Parameters are those of :func:`cpfr.network.facility.facility_location` (without ``mip_gap``).
    The search stops improving when ``time_limit`` seconds have passed.

    Returns
    -------
    FacilityResult
        With ``status`` ``'heuristic'``, ``bound`` ``-inf`` and ``gap`` ``inf``.

    Raises
    ------
    InputError
        Bad input, as for :func:`~cpfr.network.facility.facility_location`.
    InfeasibleError
        No assignment fits the capacities even with every facility open.
    SolverLimitError
        No feasible open set found within ``time_limit``.

    References
    ----------
    Kuehn, A. A., & Hamburger, M. J. (1963). A heuristic program for locating warehouses.
    Management Science, 9(4), 643-666.
    Teitz, M. B., & Bart, P. (1968). Heuristic methods for estimating the generalized vertex
    median of a weighted graph. Operations Research, 16(5), 955-961 (swap moves).

    Examples
    --------
    >>> result = greedy_facility_location(
    ...     {"north": 100.0, "south": 120.0},
    ...     None,
    ...     {"s1": 10.0, "s2": 10.0, "s3": 10.0},
    ...     {"north": {"s1": 10.0, "s2": 20.0, "s3": 80.0}, "south": {"s1": 60.0, "s2": 30.0, "s3": 10.0}},
    ... )
    >>> result.open, result.total_cost
    (('north',), 210.0)
    """
    started = time.perf_counter()
    network = FacilityNetwork.from_mappings(fixed_cost, capacity, demand, assignment_cost)
    if single_sourcing:
        network.check_single_sourcing()
    search = _Search(network, deadline=started + time_limit)
    is_open = search.add(np.zeros(len(network.facility_ids), dtype=bool))
    if not math.isfinite(search.cost(is_open)) and not is_open.all():
        raise SolverLimitError(f"greedy facility location: no feasible open set found in {time_limit:g} s")
    if not math.isfinite(search.cost(is_open)):
        raise InfeasibleError("facility location: no assignment fits the capacities with every facility open")
    is_open = search.improve(is_open)
    if single_sourcing and network.capacitated:
        search.binary = True
        is_open = search.add(is_open)  # the split assignment may not survive single sourcing
        if not math.isfinite(search.cost(is_open)) and not is_open.all():
            raise SolverLimitError(
                f"greedy facility location: no single-sourced set found in {time_limit:g} s"
            )
        if not math.isfinite(search.cost(is_open)):
            raise InfeasibleError(
                "facility location with single sourcing: no assignment of each customer to one "
                "facility fits the capacities"
            )
        is_open = search.improve(is_open)
    flows = search.flows(is_open)
    result = network_result(network, is_open, flows, None)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


class _Search:
    """Prices open sets (exactly, cached) and ranks moves by their uncapacitated cost."""

    def __init__(self, network: FacilityNetwork, deadline: float) -> None:
        self.network = network
        self.deadline = deadline
        self.binary = False  # price with a binary assignment (single sourcing, final phase)
        facilities, customers = len(network.facility_ids), len(network.customer_ids)
        self.costs = np.full((facilities, customers), math.inf)
        self.costs[network.arc_facility, network.arc_customer] = network.arc_cost
        self.arc_of = np.full((facilities, customers), -1, dtype=np.int64)
        self.arc_of[network.arc_facility, network.arc_customer] = np.arange(len(network.arc_cost))
        # A customer no open facility reaches yet is priced, for ranking only, well above any arc.
        finite = np.where(np.isfinite(self.costs), self.costs, 0.0)
        self.unserved = 10.0 * finite.max(axis=0) + 10.0 * network.fixed_cost.max() + 1.0
        # Capacity that counts towards demand: an uncapacitated facility could serve all of it.
        self.room = np.minimum(network.capacity, network.demand.sum())
        self._priced: dict[tuple[bool, bytes], tuple[float, np.ndarray]] = {}

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    # -- exact prices ---------------------------------------------------------------------------

    def cost(self, is_open: np.ndarray) -> float:
        """Total cost of opening ``is_open`` with the best assignment (inf when none fits)."""
        return self._price(is_open)[0]

    def flows(self, is_open: np.ndarray) -> np.ndarray:
        """Arc fractions of the best assignment for ``is_open``."""
        return self._price(is_open)[1]

    def _price(self, is_open: np.ndarray) -> tuple[float, np.ndarray]:
        key = (self.binary, is_open.tobytes())
        if key not in self._priced:
            self._priced[key] = self._assign(is_open)
        return self._priced[key]

    def _assign(self, is_open: np.ndarray) -> tuple[float, np.ndarray]:
        network = self.network
        flows = np.zeros(len(network.arc_cost))
        if not is_open.any():
            return math.inf, flows
        fixed = float(network.fixed_cost[is_open].sum())
        if not np.isfinite(network.capacity[is_open]).any():
            rows = np.flatnonzero(is_open)
            nearest = np.argmin(self.costs[rows], axis=0)
            cheapest = self.costs[rows[nearest], np.arange(self.costs.shape[1])]
            if not np.isfinite(cheapest).all():
                return math.inf, flows
            flows[self.arc_of[rows[nearest], np.arange(self.costs.shape[1])]] = 1.0
            return fixed + float(cheapest.sum()), flows
        arcs = np.flatnonzero(is_open[network.arc_facility])
        if np.bincount(network.arc_customer[arcs], minlength=len(network.customer_ids)).min() == 0:
            return math.inf, flows  # a customer no open facility may serve
        remaining = max(self.deadline - time.perf_counter(), 0.05)
        answer = solve(_assignment_model(network, arcs, self.binary), time_limit=remaining, mip_gap=1e-3)
        if not answer.has_solution:
            if answer.status in ("infeasible", "unbounded"):
                return math.inf, flows
            raise SolverLimitError("greedy facility location: the assignment was not solved in time")
        flows[arcs] = np.round(answer.x) if self.binary else answer.x
        return fixed + answer.objective, flows

    # -- moves ----------------------------------------------------------------------------------

    def add(self, is_open: np.ndarray) -> np.ndarray:
        """Open facilities one at a time while the cost falls (or until the open set is feasible)."""
        current = self.cost(is_open)
        while not is_open.all() and not self.out_of_time():
            closed = np.flatnonzero(~is_open)
            if math.isfinite(current):
                nearest = self._nearest(is_open)
                estimates = self.network.fixed_cost[closed] + np.minimum(self.costs[closed], nearest).sum(
                    axis=1
                )
            else:
                estimates = self._capacity_price(is_open, closed)
            candidates = []
            for facility in closed[np.argsort(estimates, kind="stable")[:PRICED_MOVES]]:
                trial = is_open.copy()
                trial[facility] = True
                candidates.append(trial)
            best = min(candidates, key=self.cost)  # the best-ranked while none is feasible yet
            if math.isfinite(current) and self.cost(best) >= current * (1 - IMPROVEMENT):
                break
            is_open, current = best, self.cost(best)
        return is_open

    def _capacity_price(self, is_open: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Rank facilities to open while capacity is short (large, central facilities first).

        The rank is the fixed cost per unit of the shortage it covers plus its mean cost per unit
        served.
        """
        network = self.network
        total_demand = max(float(network.demand.sum()), 1e-9)
        shortage = max(total_demand - float(network.capacity[is_open].sum()), 1e-3 * total_demand)
        covered = np.minimum(network.capacity[closed], shortage)
        reachable = np.isfinite(self.costs[closed])
        unit_cost = np.where(reachable, self.costs[closed], 0.0).sum(axis=1) / np.maximum(
            (reachable * network.demand).sum(axis=1), 1e-9
        )
        return network.fixed_cost[closed] / np.maximum(covered, 1e-9) + unit_cost

    def improve(self, is_open: np.ndarray) -> np.ndarray:
        """Make the best drop or swap move, ranked by uncapacitated cost, while one lowers the cost."""
        current = self.cost(is_open)
        while not self.out_of_time():
            candidates = self._drops(is_open) + self._swaps(is_open)
            if not candidates:
                break
            best = min(candidates, key=self.cost)
            if self.cost(best) >= current * (1 - IMPROVEMENT):
                break
            is_open, current = best, self.cost(best)
        return is_open

    def _nearest(self, is_open: np.ndarray) -> np.ndarray:
        if not is_open.any():
            return self.unserved
        return np.minimum(self.costs[is_open].min(axis=0), self.unserved)

    def _drops(self, is_open: np.ndarray) -> list[np.ndarray]:
        opened = np.flatnonzero(is_open)
        if len(opened) < 2:
            return []
        estimates = np.array([self._without(is_open, facility).sum() for facility in opened])
        estimates -= self.network.fixed_cost[opened]
        # A move that leaves less capacity than demand cannot be priced finitely: never rank it.
        estimates[self._capacity(is_open) - self.room[opened] < self._demand] = math.inf
        return [self._moved(is_open, [facility], []) for facility in self._best(opened, estimates)]

    def _swaps(self, is_open: np.ndarray) -> list[np.ndarray]:
        opened, closed = np.flatnonzero(is_open), np.flatnonzero(~is_open)
        if not len(closed):
            return []
        fixed, room = self.network.fixed_cost, self.room
        # estimates[a, b]: close opened[a], open closed[b]; one numpy reduction per open facility.
        estimates = np.stack(
            [
                fixed[closed]
                - fixed[facility]
                + np.minimum(self.costs[closed], self._without(is_open, facility)).sum(axis=1)
                for facility in opened
            ]
        )
        remaining = self._capacity(is_open) - room[opened][:, None] + room[closed][None, :]
        estimates[remaining < self._demand] = math.inf
        moves = []
        for flat in self._best(np.arange(estimates.size), estimates.ravel()):
            out, into = np.unravel_index(flat, estimates.shape)
            moves.append(self._moved(is_open, [opened[out]], [closed[into]]))
        return moves

    @property
    def _demand(self) -> float:
        return float(self.network.demand.sum())

    def _capacity(self, is_open: np.ndarray) -> float:
        return float(self.room[is_open].sum())

    @staticmethod
    def _best(items: np.ndarray, estimates: np.ndarray) -> np.ndarray:
        """Return the ``PRICED_MOVES`` items of lowest finite estimate."""
        order = np.argsort(estimates, kind="stable")[:PRICED_MOVES]
        return items[order[np.isfinite(estimates[order])]]

    @staticmethod
    def _moved(is_open: np.ndarray, closing: list[Any], opening: list[Any]) -> np.ndarray:
        trial = is_open.copy()
        trial[closing], trial[opening] = False, True
        return trial

    def _without(self, is_open: np.ndarray, facility: int | np.integer) -> np.ndarray:
        trial = is_open.copy()
        trial[facility] = False
        return self._nearest(trial)


def _assignment_model(network: FacilityNetwork, arcs: np.ndarray, binary: bool) -> LinearModel:
    """Build the transportation LP (binary under single sourcing) over ``arcs``, within capacity."""
    customers = len(network.customer_ids)
    facility = network.arc_facility[arcs]
    capacitated = np.unique(facility[np.isfinite(network.capacity[facility])])
    capacity_row = np.full(len(network.facility_ids), -1)
    capacity_row[capacitated] = customers + np.arange(len(capacitated))
    on_capacity = capacity_row[facility] >= 0
    column = np.arange(len(arcs))
    matrix = sp.coo_array(
        (
            np.concatenate([np.ones(len(arcs)), network.demand[network.arc_customer[arcs[on_capacity]]]]),
            (
                np.concatenate([network.arc_customer[arcs], capacity_row[facility[on_capacity]]]),
                np.concatenate([column, column[on_capacity]]),
            ),
        ),
        shape=(customers + len(capacitated), len(arcs)),
    )
    upper = np.ones(len(arcs))
    if binary:
        upper = (network.demand[network.arc_customer[arcs]] <= network.capacity[facility]).astype(float)
    return LinearModel(
        c=network.arc_cost[arcs],
        A=matrix,
        row_lower=np.concatenate([np.ones(customers), np.full(len(capacitated), -np.inf)]),
        row_upper=np.concatenate([np.ones(customers), network.capacity[capacitated]]),
        lower=np.zeros(len(arcs)),
        upper=upper,
        integer=np.full(len(arcs), binary),
    )
