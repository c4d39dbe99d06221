r"""Hot-launch allocation: split a launch quantity that will sell out across points of sale.

A launch quantity :math:`Q` (units, shipped in packs of :math:`p`) goes to points of sale —
stores and online zones, each in a channel and a city tier — to maximise expected sales

.. math:: \max_a \sum_i E[\min(a_i, D_i)] \quad \text{s.t.} \quad \sum_i a_i = Q,\;
          m_i \le a_i \le c_i,\; a_i \in p\,\mathbb{Z},\;
          \sum_{i \in g} a_i \ge M_g \text{ for every tier or channel } g,

where :math:`D_i` is the demand of point :math:`i` over the selling window. The :math:`k`-th
pack at a point holding :math:`a` units adds :math:`E[\min(a + p, D)] - E[\min(a, D)] =
\sum_{u=a+1}^{a+p} P(D \ge u)`, which does not increase with :math:`k`: the objective is
separable and concave. Without group minimums :math:`M_g`, giving each pack to the point
whose next pack gains most is optimal (Gross 1956; Fox 1966): the ``marginal`` method sorts
every pack's gain once. When a group minimum binds, the ``milp`` method solves the same
objective as a piecewise-linear programme through :mod:`cpfr.network.solver`: one continuous
:math:`y_{ik} \in [0, 1]` per (point, pack step) weighted by its gain — concavity makes the
optimum fill the steps in order — and one integer pack count per point, which the group rows
constrain.

Instance documents (``cpfr network solve``, kind ``allocation``) are described in
:mod:`cpfr.network.allocation_models`; :func:`solve_document` returns ``allocation`` (id ->
units), ``unallocated``, ``expected_sales``, ``expected_demand``, ``expected_lost_sales``,
``fill_rate`` (expected sales / expected demand), ``by_tier`` and ``by_channel`` (``units``,
``expected_sales``, ``expected_lost_sales``, ``fill_rate`` per group), ``method``
(``marginal`` or ``milp``), ``gap`` and ``seconds``.

References
----------
Gross, O. (1956). A class of discrete-type minimization problems. RM-1644, RAND Corporation.
Fox, B. (1966). Discrete optimization via marginal analysis. Management Science 13(3), 210-216.
Lambert, D. (1992). Zero-inflated Poisson regression, with an application to defects in
manufacturing. Technometrics 34(1), 1-14.
Greene, W. (1994). Accounting for excess zeros and sample selection in Poisson and negative
binomial regression models. NYU Working Paper EC-94-10.
Ibaraki, T., & Katoh, N. (1988). *Resource Allocation Problems: Algorithmic Approaches*.
MIT Press, ch. 4 (the greedy algorithm for separable concave objectives).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from cpfr.apportion import apportion
from cpfr.exceptions import InfeasibleError, InputError, LimitError
from cpfr.inventory.demand import Demand
from cpfr.inventory.limits import MAX_SUPPORT
from cpfr.network.allocation_models import (
    AllocationInstance,
    EmpiricalDemand,
    NegativeBinomialDemand,
    PoissonDemand,
    parse_allocation,
)
from cpfr.network.solver import LinearModel, require_solution, solve

NEGLIGIBLE_TAIL = 1e-12
"""A pack beyond the demand's 1 - 1e-12 quantile gains less than 1e-12 units per unit: no gain.
Packs beyond it are one zero-gain block per point, so the step grid stays near the demand's support."""
NEGLIGIBLE_GAIN = 1e-9
"""A pack expected to sell less than a billionth of a unit sells nothing (it is spread pro rata)."""
MAX_STEPS = 20_000_000
"""Most (point, pack step) gains held at once: 160 MB of doubles; more is refused (LimitError)."""
DIMENSIONS = ("tier", "channel")


@dataclass(frozen=True)
class AllocationPoint:
    """A point of sale: its id, channel, city tier, demand over the selling window and limits.

    Attributes
    ----------
    point_id : str
        Store or online-zone id.
    channel, tier : str
        The groups that minimums apply to.
    demand : Demand
        :math:`D_i`, units over the selling window.
    capacity : int or None
        :math:`c_i`, most units it can hold (None: no limit); rounded down to whole packs.
    min_units : int
        :math:`m_i`, fewest units it gets (its presence floor); rounded up to whole packs.
    """

    point_id: str
    channel: str
    tier: str
    demand: Demand
    capacity: int | None = None
    min_units: int = 0


@dataclass(frozen=True)
class GroupMinimum:
    """At least ``units`` (:math:`M_g`) to the points whose ``dimension`` (tier, channel) is ``group``."""

    dimension: str
    group: str
    units: int


@dataclass(frozen=True)
class Allocation:
    r"""Units per point and what they are expected to sell.

    Attributes
    ----------
    units : numpy.ndarray
        :math:`a_i`, whole units (multiples of the pack) in the order of the points.
    expected_sales : numpy.ndarray
        :math:`E[\min(a_i, D_i)]`.
    expected_demand : numpy.ndarray
        :math:`E[D_i]`.
    method : {'marginal', 'milp'}
        Greedy marginal allocation, or the programme when a group minimum binds.
    gap : float
        Relative optimality gap proven (0 for the greedy, which is exact).
    seconds : float
        Wall time.
    """

    units: np.ndarray
    expected_sales: np.ndarray
    expected_demand: np.ndarray
    method: str
    gap: float
    seconds: float

    @property
    def expected_lost_sales(self) -> np.ndarray:
        """:math:`E[(D_i - a_i)^+]`: demand each point is expected to turn away."""
        return np.maximum(self.expected_demand - self.expected_sales, 0.0)


def negative_binomial(mean: float, dispersion: float) -> Demand:
    """Negative binomial demand with ``mean`` mu and ``dispersion`` k: variance mu + mu^2 / k.

    Examples
    --------
    >>> demand = negative_binomial(10.0, 2.0)
    >>> round(demand.mean, 6), round(demand.sd**2, 4)
    (10.0, 60.0)
    """
    if not (mean > 0 and dispersion > 0):
        raise InputError(f"negative binomial mean {mean} and dispersion {dispersion}: expected both > 0")
    probability = dispersion / (dispersion + mean)
    top = int(stats.nbinom.isf(NEGLIGIBLE_TAIL, dispersion, probability)) + 1
    if top + 1 > MAX_SUPPORT:
        raise LimitError(
            f"negative binomial demand with mean {mean:g} and dispersion {dispersion:g}: more than "
            f"{MAX_SUPPORT:,} values to enumerate"
        )
    values = np.arange(top + 1, dtype=float)
    pmf = stats.nbinom.pmf(values, dispersion, probability)
    return Demand.discrete(values, pmf / pmf.sum())


def zero_inflated_negative_binomial(
    mean: float, presence: float, dispersion: float, *, lump_above: int | None = None
) -> Demand:
    r"""Demand that is zero with probability 1 - ``presence``, else negative binomial; mean ``mean``.

    :math:`P(D = 0) = 1 - \pi + \pi f(0)`, :math:`P(D = d) = \pi f(d)` for :math:`d > 0`, where
    :math:`f` is the negative binomial with mean :math:`\mu / \pi` and dispersion :math:`k`: a point
    sells the SKU at all with probability :math:`\pi` (``presence``) and then as a negative
    binomial. The mean is :math:`\mu` whatever :math:`\pi` is (Lambert 1992; Greene 1994).

    ``lump_above`` (an allocation's quantity Q) puts the demand above it in one value, its
    conditional mean: :math:`E[\min(a, D)]` is unchanged for every :math:`a \le Q` and so is the
    mean, while a huge launch's tail need not be enumerated.

    Examples
    --------
    >>> demand = zero_inflated_negative_binomial(10.0, 0.5, 2.0)
    >>> round(demand.mean, 6), round(float(demand.probabilities[0]), 4)
    (10.0, 0.5041)
    """
    if not 0 < presence <= 1:
        raise InputError(f"presence {presence}: expected a probability in (0, 1]")
    if not (mean > 0 and dispersion > 0):
        raise InputError(f"negative binomial mean {mean} and dispersion {dispersion}: expected both > 0")
    selling_mean = mean / presence
    probability = dispersion / (dispersion + selling_mean)
    top = int(stats.nbinom.isf(NEGLIGIBLE_TAIL, dispersion, probability)) + 1
    if lump_above is not None and top > lump_above + 1:
        values = np.arange(lump_above + 1, dtype=float)
        pmf = stats.nbinom.pmf(values, dispersion, probability)
        tail = float(stats.nbinom.sf(lump_above, dispersion, probability))
        tail_mean = (selling_mean - float(values @ pmf)) / tail
        values = np.append(values, max(tail_mean, lump_above + 1.0))
        pmf = np.append(pmf, tail)
    else:
        selling = negative_binomial(selling_mean, dispersion)
        values, pmf = selling.values, selling.probabilities
    probabilities = presence * pmf / pmf.sum()
    probabilities[0] += 1 - presence
    return Demand.discrete(values, probabilities)


def expected_sales(demand: Demand, units: np.ndarray | float) -> np.ndarray:
    r""":math:`E[\min(a, D)] = E[D] - E[(D - a)^+]` at each level ``units``."""
    return np.maximum(demand.mean - demand.shortfall(np.asarray(units, dtype=float)), 0.0)


def allocate(
    points: Sequence[AllocationPoint],
    quantity: int,
    *,
    pack_size: int = 1,
    minimums: Sequence[GroupMinimum] = (),
    method: str = "auto",
    time_limit_seconds: float = 60.0,
) -> Allocation:
    """Split ``quantity`` units in packs of ``pack_size`` across ``points`` to maximise expected sales.

    Parameters
    ----------
    points : sequence of AllocationPoint
        Demand :math:`D_i`, capacity :math:`c_i` and floor :math:`m_i` of each point.
    quantity : int
        :math:`Q`, units to allocate: all of them, unless the points hold fewer.
    pack_size : int
        :math:`p`: allocations are whole packs; ``quantity`` must be a multiple.
    minimums : sequence of GroupMinimum
        :math:`M_g` per tier or channel.
    method : {'auto', 'marginal', 'milp'}
        ``auto``: the greedy, and the programme only if its answer misses a group minimum.
    time_limit_seconds : float
        Time the programme may take.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        A quantity that is not whole packs, an unknown method.
    InfeasibleError
        Floors above the quantity or a point's capacity, a group minimum its points cannot hold.

    Examples
    --------
    Two stores, 10 units: the busier store gets more, but not all.

    >>> points = [AllocationPoint("A", "JD_MALL", "1", Demand.poisson(8.0)),
    ...           AllocationPoint("B", "JD_MALL", "3", Demand.poisson(4.0))]
    >>> allocate(points, 10).units.tolist()
    [7, 3]
    """
    started = time.perf_counter()
    if method not in ("auto", "marginal", "milp"):
        raise InputError(f"method {method!r}: expected auto, marginal or milp")
    if pack_size < 1 or quantity < 0 or quantity % pack_size:
        raise InputError(f"quantity {quantity}: expected a whole number of packs of {pack_size} (pack_size)")
    grid = _StepGrid.build(points, quantity // pack_size, pack_size)
    needs = _group_needs(points, minimums, grid, pack_size)
    extra = grid.greedy()
    if method == "marginal" and not _meets(extra, grid, needs):
        raise InputError("method marginal: a group minimum binds; it needs the milp method")
    gap = 0.0
    if method == "milp" or not _meets(extra, grid, needs):
        extra, gap = grid.programme(needs, time_limit_seconds)
        method = "milp"
    else:
        method = "marginal"
    units = (grid.floors + extra) * pack_size
    sales = np.array(
        [expected_sales(point.demand, float(a))[()] for point, a in zip(points, units, strict=True)]
    )
    demand = np.array([point.demand.mean for point in points])
    return Allocation(units.astype(np.int64), sales, demand, method, gap, time.perf_counter() - started)


@dataclass(frozen=True)
class _StepGrid:
    """The marginal gain of every pack step above each point's floor, and the zero-gain tail.

    ``gains`` holds the steps of all points one after another (``owner`` says whose); a
    point's steps are non-increasing. ``tails`` are packs each point can still take at no gain.
    """

    floors: np.ndarray
    gains: np.ndarray
    owner: np.ndarray
    steps: np.ndarray
    tails: np.ndarray
    to_place: int
    mean_demand: np.ndarray
    memberships: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, points: Sequence[AllocationPoint], packs: int, pack_size: int) -> _StepGrid:
        if not points:
            raise InputError("points: expected at least one point of sale")
        floors = np.array([-(-point.min_units // pack_size) for point in points], dtype=np.int64)
        caps = np.array(
            [
                packs if point.capacity is None else min(point.capacity // pack_size, packs)
                for point in points
            ],
            dtype=np.int64,
        )
        if floors.sum() > packs:
            raise InfeasibleError(
                f"the points' floors add up to {int(floors.sum()) * pack_size:,} units, more than the "
                f"{packs * pack_size:,} to allocate"
            )
        for point, floor, cap in zip(points, floors, caps, strict=True):
            if floor > cap:
                raise InfeasibleError(
                    f"point {point.point_id}: its floor of {floor * pack_size:,} units is above what it can "
                    f"hold ({cap * pack_size:,} units)"
                )
        to_place = int(min(packs, caps.sum()) - floors.sum())
        room = np.minimum(caps - floors, to_place)
        useful = np.array(
            [
                max(0, math.ceil(point.demand.quantile(1 - NEGLIGIBLE_TAIL) / pack_size) - int(floor) + 1)
                for point, floor in zip(points, floors, strict=True)
            ],
            dtype=np.int64,
        )
        steps = np.minimum(room, useful)
        if steps.sum() > MAX_STEPS:
            raise LimitError(
                f"{int(steps.sum()):,} pack steps to weigh, at most {MAX_STEPS:,}: a larger pack_size or "
                "fewer points"
            )
        gains = []
        for point, floor, count in zip(points, floors, steps, strict=True):
            levels = (floor + np.arange(count + 1)) * pack_size
            gain = np.clip(np.diff(expected_sales(point.demand, levels)), 0.0, None)
            gains.append(np.minimum.accumulate(gain))  # rounding must not break the concavity
        memberships = {
            f"{dimension}={name}": np.array([getattr(p, dimension) == name for p in points])
            for dimension in DIMENSIONS
            for name in sorted({getattr(p, dimension) for p in points})
        }
        return cls(
            floors=floors,
            gains=np.concatenate(gains) if gains else np.zeros(0),
            owner=np.repeat(np.arange(len(points)), steps),
            steps=steps,
            tails=room - steps,
            to_place=to_place,
            mean_demand=np.array([point.demand.mean for point in points]),
            memberships=memberships,
        )

    def greedy(self) -> np.ndarray:
        """Packs above the floors: the ``to_place`` largest gains; packs no step gains from, pro rata.

        Under the model, packs beyond every point's demand (gains below ``NEGLIGIBLE_GAIN``) sell
        nothing wherever they go; they are spread in proportion to the points' mean demand, the
        split that loses least if the forecast is low, rather than piled on the first points.
        """
        worth = np.flatnonzero(self.gains > NEGLIGIBLE_GAIN)
        chosen = worth[np.argsort(-self.gains[worth], kind="stable")[: self.to_place]]
        extra = np.bincount(self.owner[chosen], minlength=len(self.floors)).astype(np.int64)
        left = self.to_place - len(chosen)
        room = self.steps + self.tails - extra
        while left > 0:
            open_points = room > 0
            weights = np.where(open_points, np.maximum(self.mean_demand, 1e-12), 0.0)
            share = np.minimum(apportion(left, weights), room)
            extra += share
            room -= share
            left -= int(share.sum())
        return extra

    def programme(self, needs: dict[str, int], time_limit_seconds: float) -> tuple[np.ndarray, float]:
        """Packs above the floors maximising expected sales with every group's ``needs`` (packs) met."""
        points, steps = len(self.floors), len(self.gains)
        # columns: y (one per step, [0, 1]), tail t_i ([0, tail_i]), packs n_i (integer)
        y_cols, t_cols, n_cols = (
            np.arange(steps),
            steps + np.arange(points),
            steps + points + np.arange(points),
        )
        width = steps + 2 * points
        rows, cols, vals = [], [], []
        # n_i - sum_k y_ik - t_i = 0
        rows += [self.owner, np.arange(points), np.arange(points)]
        cols += [y_cols, t_cols, n_cols]
        vals += [-np.ones(steps), -np.ones(points), np.ones(points)]
        lower, upper = [np.zeros(points)], [np.zeros(points)]
        # sum_i n_i = packs to place
        rows.append(np.full(points, points))
        cols.append(n_cols)
        vals.append(np.ones(points))
        lower.append(np.array([self.to_place]))
        upper.append(np.array([self.to_place]))
        for position, (group, need) in enumerate(needs.items()):
            members = np.flatnonzero(self.memberships[group])
            rows.append(np.full(len(members), points + 1 + position))
            cols.append(n_cols[members])
            vals.append(np.ones(len(members)))
            lower.append(np.array([need - int(self.floors[members].sum())]))
            upper.append(np.array([np.inf]))
        model = LinearModel(
            c=np.concatenate([-self.gains, np.zeros(2 * points)]),
            A=sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(points + 1 + len(needs), width),
            ),
            row_lower=np.concatenate(lower).astype(float),
            row_upper=np.concatenate(upper).astype(float),
            lower=np.zeros(width),
            upper=np.concatenate([np.ones(steps), self.tails, self.steps + self.tails]).astype(float),
            integer=np.concatenate([np.zeros(steps + points, dtype=bool), np.ones(points, dtype=bool)]),
        )
        answer = require_solution(solve(model, time_limit=time_limit_seconds), "allocation")
        return np.round(answer.x[n_cols]).astype(np.int64), float(answer.gap)


def _group_needs(
    points: Sequence[AllocationPoint], minimums: Sequence[GroupMinimum], grid: _StepGrid, pack_size: int
) -> dict[str, int]:
    """Packs each constrained group needs; InfeasibleError when its points cannot hold them."""
    needs: dict[str, int] = {}
    shipped = int(grid.floors.sum()) + grid.to_place
    for minimum in minimums:
        if minimum.dimension not in DIMENSIONS:
            raise InputError(f"minimum by {minimum.dimension!r}: expected tier or channel")
        key = f"{minimum.dimension}={minimum.group}"
        if key not in grid.memberships:
            raise InputError(f"minimum for {minimum.dimension} {minimum.group}: no point is in it")
        packs = -(-minimum.units // pack_size)
        if packs == 0:
            continue
        members = grid.memberships[key]
        room = int((grid.floors + grid.steps + grid.tails)[members].sum())
        if packs > min(room, shipped):
            raise InfeasibleError(
                f"{minimum.dimension} {minimum.group} must get at least {packs * pack_size:,} units, but "
                f"its points hold at most {min(room, shipped) * pack_size:,} of the "
                f"{shipped * pack_size:,} to allocate"
            )
        needs[key] = max(needs.get(key, 0), packs)
    return needs


def _meets(extra: np.ndarray, grid: _StepGrid, needs: dict[str, int]) -> bool:
    packs = grid.floors + extra
    return all(int(packs[grid.memberships[group]].sum()) >= need for group, need in needs.items())


# -- documents ---------------------------------------------------------------------------------------


def demand_of(model: PoissonDemand | NegativeBinomialDemand | EmpiricalDemand) -> Demand:
    """Turn a document's demand into a :class:`~cpfr.inventory.demand.Demand`."""
    if isinstance(model, PoissonDemand):
        return Demand.poisson(model.mean)
    if isinstance(model, NegativeBinomialDemand):
        return negative_binomial(model.mean, model.dispersion)
    samples = np.asarray(model.samples, dtype=float)
    return Demand.discrete(samples, np.full(len(samples), 1.0 / len(samples)))


def minimums_of(instance: AllocationInstance) -> list[GroupMinimum]:
    """Every group minimum of ``instance`` in units: the larger of its share of the quantity and its units."""
    wanted: dict[tuple[str, str], int] = {}
    for dimension in DIMENSIONS:
        for group, share in getattr(instance.min_share, dimension).items():
            units = math.ceil(share * instance.quantity - 1e-9)
            wanted[dimension, group] = max(wanted.get((dimension, group), 0), units)
        for group, units in getattr(instance.min_units, dimension).items():
            wanted[dimension, group] = max(wanted.get((dimension, group), 0), int(units))
    return [GroupMinimum(dimension, group, units) for (dimension, group), units in wanted.items()]


def allocation_table(points: Sequence[AllocationPoint], allocation: Allocation) -> pd.DataFrame:
    """One row per point: ``point_id, channel, tier, units, expected_demand, expected_sales, ...``."""
    table = pd.DataFrame(
        {
            "point_id": [point.point_id for point in points],
            "channel": [point.channel for point in points],
            "tier": [point.tier for point in points],
            "units": allocation.units,
            "expected_demand": allocation.expected_demand,
            "expected_sales": allocation.expected_sales,
            "expected_lost_sales": allocation.expected_lost_sales,
        }
    )
    return table.assign(fill_rate=_fill(table["expected_sales"], table["expected_demand"]))


def group_summary(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Units, expected demand, sales, lost sales and fill rate per ``by`` (a column of the table)."""
    columns = ["units", "expected_demand", "expected_sales", "expected_lost_sales"]
    summary = table.groupby(by, sort=True)[columns].sum()
    return summary.assign(fill_rate=_fill(summary["expected_sales"], summary["expected_demand"]))


def _fill(sales: pd.Series, demand: pd.Series) -> pd.Series:
    return (sales / demand.where(demand > 0)).fillna(1.0)


def solve_document(data: Any, *, label: str = "instance", time_limit_seconds: float = 60.0) -> dict[str, Any]:
    """Validate and solve an ``allocation`` document; return the contract's result keys (module docstring)."""
    instance = parse_allocation(data, label)
    points = [
        AllocationPoint(
            point.id, point.channel, point.tier, demand_of(point.demand), point.capacity, point.min_units
        )
        for point in instance.points
    ]
    try:
        allocation = allocate(
            points,
            instance.quantity,
            pack_size=instance.pack_size,
            minimums=minimums_of(instance),
            time_limit_seconds=time_limit_seconds,
        )
    except InfeasibleError as error:
        raise InfeasibleError(f"{label}: {error}") from None
    table = allocation_table(points, allocation)
    totals = table[["units", "expected_demand", "expected_sales", "expected_lost_sales"]].sum()

    def groups(by: str) -> dict[str, dict[str, float]]:
        return {
            str(name): {
                "units": int(row["units"]),
                "expected_sales": float(row["expected_sales"]),
                "expected_lost_sales": float(row["expected_lost_sales"]),
                "fill_rate": float(row["fill_rate"]),
            }
            for name, row in group_summary(table, by).iterrows()
        }

    return {
        "allocation": {
            point.point_id: int(units) for point, units in zip(points, allocation.units, strict=True)
        },
        "unallocated": int(instance.quantity - totals["units"]),
        "expected_sales": float(totals["expected_sales"]),
        "expected_demand": float(totals["expected_demand"]),
        "expected_lost_sales": float(totals["expected_lost_sales"]),
        "fill_rate": float(totals["expected_sales"] / totals["expected_demand"]),
        "by_tier": groups("tier"),
        "by_channel": groups("channel"),
        "method": allocation.method,
        "gap": allocation.gap,
        "seconds": allocation.seconds,
    }
