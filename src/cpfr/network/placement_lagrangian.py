r"""Lagrangian relaxation of SKU placement: FDC capacity rows priced by multipliers, then repaired.

Relaxing each FDC's capacity row with a multiplier :math:`\lambda_f \ge 0` gives

.. math::

    L(\lambda) = \min_{y \in \{0,1\}} \sum_{s,f} (g_{sf} + \lambda_f v_s B_{sf}) y_{sf}
    + \pi \sum_{(a,b),f} o_{abf} |y_{af} - y_{bf}| - \sum_f \lambda_f K_f + C_0,

a lower bound on the optimum for every :math:`\lambda \ge 0` (:math:`g` is the placement's
cost change, :math:`C_0` the all-long-haul cost). SKUs in no co-purchase pair decide alone
(stock where the reduced cost is negative); the paired ones form a cut problem
(unary costs plus :math:`|y_a - y_b|` with non-negative weights), whose LP relaxation is exact,
solved through :mod:`cpfr.network.solver` as one small LP.

The FDCs share no constraint (the RDC holds every SKU), so :math:`L` is a sum of concave
functions of one multiplier each, and its subgradient in :math:`\lambda_f` is the FDC's
relaxed space use minus its capacity, non-increasing in :math:`\lambda_f`. The subgradient
method therefore reduces to bisection on the subgradient's sign, FDC by FDC (all FDCs
updated at once from one relaxed solve); the best bound is kept per FDC.

Repair: the relaxed placement at the upper end of each bracket fits its FDC. It is completed
by a greedy fill (cells of negative cost, by saving per unit of space) and by a small MILP
on the core — the cells whose reduced cost is nearest zero and every paired cell — with the
other cells fixed; the better one is kept. The gap reported is proven:
(best placement's cost - best Lagrangian bound) / best placement's cost.

References
----------
Fisher, M. L. (1981). The Lagrangian relaxation method for solving integer programming
problems. Management Science, 27(1), 1-18.
Kolmogorov, V., & Zabih, R. (2004). What energy functions can be minimized via graph cuts?
IEEE TPAMI, 26(2), 147-159 (pairwise |y_a - y_b| terms with non-negative weights).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cpfr.exceptions import InfeasibleError
from cpfr.network.placement_problem import PlacementProblem, placement_cost, placement_model, space_used
from cpfr.network.solver import LinearModel, solve

MAX_ITERATIONS = 60
"""Bisection steps per FDC: 60 halvings take the multiplier's bracket below double precision."""

CORE_SHARE = 0.02
"""Share of each FDC's SKUs (nearest-zero reduced cost) left free in the repair MILP: the
LP relaxation of a knapsack with thousands of items has one fractional item, so the optimum
differs from the relaxed placement only near the threshold; 2 % is a wide margin."""

MIN_CORE = 50
"""Fewest free cells per FDC in the repair MILP (small instances: decide them all)."""

FILL_TAIL = 500
"""Cells walked one by one after the first that does not fit in the greedy fill."""


@dataclass(frozen=True)
class LagrangianOutcome:
    """The best placement found, the best bound proven, the multipliers and the work done."""

    stocked: np.ndarray
    cost: float
    bound: float
    multipliers: np.ndarray
    iterations: int


class _Relaxation:
    """The relaxed problem for given multipliers: numpy for lone cells, one LP for paired cells."""

    def __init__(self, problem: PlacementProblem) -> None:
        skus, fdcs = problem.shape
        self.problem = problem
        self.saving = problem.placement_saving
        self.space = problem.space
        self.required = problem.required
        self.allowed = (self.space <= problem.capacity[None, :]) | self.required
        self.offset = (problem.demand_mean * problem.long_haul_parcel_cost).sum(axis=0)
        weights = problem.split_weight
        pair_rows, self.pair_fdcs = np.nonzero(weights > 0)
        self.pair_weights = weights[pair_rows, self.pair_fdcs]
        first = problem.pairs[pair_rows, 0] * fdcs + self.pair_fdcs
        second = problem.pairs[pair_rows, 1] * fdcs + self.pair_fdcs
        self.paired_cells = np.unique(np.concatenate([first, second]))
        paired = np.zeros(skus * fdcs, dtype=bool)
        paired[self.paired_cells] = True
        self.paired = paired.reshape(skus, fdcs)
        self.paired_fdcs = self.paired_cells % fdcs
        cells, count = len(self.paired_cells), len(pair_rows)
        local_first = np.searchsorted(self.paired_cells, first)
        local_second = np.searchsorted(self.paired_cells, second)
        rows = np.concatenate([np.arange(count)] * 3 + [count + np.arange(count)] * 3)
        z = cells + np.arange(count)
        columns = np.concatenate([local_first, local_second, z, local_second, local_first, z])
        values = np.concatenate([np.ones(count), -np.ones(count), -np.ones(count)] * 2)
        self.matrix = sp.csr_matrix((values, (rows, columns)), shape=(2 * count, cells + count))
        flat_required = self.required.ravel()[self.paired_cells]
        self.lower = np.concatenate([flat_required.astype(float), np.zeros(count)])
        self.upper = np.concatenate([self.allowed.ravel()[self.paired_cells].astype(float), np.ones(count)])

    def solve(self, multipliers: np.ndarray, time_limit: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the relaxed placement and L's value per FDC at ``multipliers``."""
        reduced = self.saving + multipliers[None, :] * self.space
        stocked = self.required | (self.allowed & (reduced < 0))
        value = np.where(stocked & ~self.paired, reduced, 0.0).sum(axis=0)
        if len(self.paired_cells):
            cells = len(self.paired_cells)
            model = LinearModel(
                c=np.concatenate([reduced.ravel()[self.paired_cells], self.pair_weights]),
                A=self.matrix,
                row_lower=np.full(self.matrix.shape[0], -np.inf),
                row_upper=np.zeros(self.matrix.shape[0]),
                lower=self.lower,
                upper=self.upper,
                integer=np.zeros(len(self.lower), dtype=bool),
            )
            answer = solve(model, time_limit=max(time_limit, 1.0))
            if answer.status != "optimal":
                raise InfeasibleError(f"the relaxed placement LP ended {answer.status}")
            chosen, apart = answer.x[:cells], answer.x[cells:]
            flat = stocked.ravel()
            flat[self.paired_cells] = chosen > 0.5
            stocked = flat.reshape(stocked.shape)
            fdcs = len(value)
            value += np.bincount(self.paired_fdcs, reduced.ravel()[self.paired_cells] * chosen, fdcs)
            value += np.bincount(self.pair_fdcs, self.pair_weights * apart, fdcs)
        return stocked, value + self.offset - multipliers * self.problem.capacity


def _fill(problem: PlacementProblem, stocked: np.ndarray, paired: np.ndarray) -> np.ndarray:
    """Complete a placement that fits with lone cells of negative cost, best saving per unit of space."""
    stocked = stocked.copy()
    saving, space = problem.placement_saving, problem.space
    left = problem.capacity - space_used(problem, stocked)
    candidate = ~stocked & ~paired & (saving < 0) & (space > 0)
    for column in range(problem.shape[1]):
        rows = np.flatnonzero(candidate[:, column])
        rows = rows[np.argsort(saving[rows, column] / space[rows, column], kind="stable")]
        sizes = space[rows, column]
        prefix = int(np.searchsorted(np.cumsum(sizes), left[column], side="right"))
        stocked[rows[:prefix], column] = True
        room = left[column] - sizes[:prefix].sum()
        for row, size in zip(
            rows[prefix : prefix + FILL_TAIL], sizes[prefix : prefix + FILL_TAIL], strict=True
        ):
            if size <= room:
                stocked[row, column] = True
                room -= size
    return stocked


def _repair(
    problem: PlacementProblem,
    relaxation: _Relaxation,
    feasible: np.ndarray,
    multipliers: np.ndarray,
    *,
    time_limit: float,
    mip_gap: float,
) -> tuple[np.ndarray, float]:
    """Return the best of the greedy fill and the core MILP, both from the fitting ``feasible``.

    With a core of every cell (a small instance) the MILP is the whole problem: its bound is
    returned too (``-inf`` otherwise, when only the Lagrangian bound is proven).
    """
    filled = _fill(problem, feasible, relaxation.paired)
    best, best_cost = filled, placement_cost(problem, filled).total
    if time_limit <= 0.05:
        return best, -np.inf
    skus = problem.shape[0]
    closeness = np.abs(problem.placement_saving + multipliers[None, :] * problem.space)
    core = max(MIN_CORE, int(np.ceil(CORE_SHARE * skus)))
    free = relaxation.paired.copy()
    if core >= skus:
        free[:] = True
    else:
        nearest = np.argpartition(closeness, core, axis=0)[:core]
        np.put_along_axis(free, nearest, True, axis=0)
    free &= relaxation.allowed & ~problem.required
    fixed = dataclasses.replace(problem, required=problem.required | (feasible & ~free))
    built = placement_model(fixed, free=free)
    answer = solve(built.model, time_limit=time_limit, mip_gap=mip_gap / 4)
    if answer.has_solution:
        candidate = built.stocked(answer.x, problem.shape)
        cost = placement_cost(problem, candidate).total
        if cost < best_cost:
            best = candidate
    whole = core >= skus and answer.status in ("optimal", "time_limit", "node_limit")
    return best, answer.bound if whole else -np.inf


def lagrangian_placement(
    problem: PlacementProblem, *, time_limit: float = 60.0, mip_gap: float = 0.01
) -> LagrangianOutcome:
    """Place SKUs by Lagrangian relaxation of the FDC capacities and repair (module docstring).

    Parameters
    ----------
    problem : PlacementProblem
        The instance.
    time_limit : float
        Seconds for the whole method; the repair MILP gets what the bisection leaves.
    mip_gap : float
        Relative gap at which the bisection stops early, and a quarter of it for the repair MILP.

    Returns
    -------
    LagrangianOutcome
        The best placement, its cost, the best bound, the multipliers and the bisection steps.

    Raises
    ------
    InfeasibleError
        The required placements alone overfill an FDC.
    """
    started = time.perf_counter()
    _check_required(problem)
    relaxation = _Relaxation(problem)
    fdcs = problem.shape[1]
    space = problem.space
    incident = np.zeros(problem.shape)
    if len(problem.pairs):
        np.add.at(incident, problem.pairs[:, 0], problem.split_weight)
        np.add.at(incident, problem.pairs[:, 1], problem.split_weight)
    # Above this price no optional cell is worth its space, even pulled in by all its pairs.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(space > 0, (incident - problem.placement_saving) / space, 0.0)
    low = np.zeros(fdcs)
    high = np.maximum(ratio.max(axis=0), 0.0) * 1.01 + 1e-9
    capacity = problem.capacity

    def remaining() -> float:
        return time_limit - (time.perf_counter() - started)

    stocked_high, best_value = relaxation.solve(high, remaining())
    feasible = stocked_high.copy()
    stocked_low, value_low = relaxation.solve(low, remaining())
    best_value = np.maximum(best_value, value_low)
    loose = space_used(problem, stocked_low) <= capacity  # capacity not binding: done at lambda = 0
    feasible[:, loose] = stocked_low[:, loose]
    high[loose] = 0.0
    iterations = 2
    open_fdcs = ~loose
    while open_fdcs.any() and iterations < MAX_ITERATIONS + 2 and remaining() > 0.5 * time_limit:
        middle = np.where(open_fdcs, (low + high) / 2, high)
        stocked, value = relaxation.solve(middle, remaining())
        iterations += 1
        best_value = np.maximum(best_value, value)
        over = space_used(problem, stocked) > capacity
        low = np.where(open_fdcs & over, middle, low)
        fits_now = open_fdcs & ~over
        high = np.where(fits_now, middle, high)
        feasible[:, fits_now] = stocked[:, fits_now]
        upper_cost = placement_cost(problem, feasible).total
        if upper_cost - best_value.sum() <= mip_gap / 4 * upper_cost:
            break
        open_fdcs &= (high - low) > 1e-12 * np.maximum(high, 1e-12)
    best, whole_bound = _repair(problem, relaxation, feasible, high, time_limit=remaining(), mip_gap=mip_gap)
    return LagrangianOutcome(
        stocked=best,
        cost=placement_cost(problem, best).total,
        bound=max(float(best_value.sum()), whole_bound),
        multipliers=high,
        iterations=iterations,
    )


def _check_required(problem: PlacementProblem) -> None:
    need = space_used(problem, problem.required)
    over = np.flatnonzero(need > problem.capacity * (1 + 1e-9))
    if len(over):
        fdc = problem.fdc_ids[over[0]]
        raise InfeasibleError(
            f"FDC {fdc}: the required placements need {need[over[0]]:,.6g} of space, "
            f"its capacity is {problem.capacity[over[0]]:,.6g}"
        )
