r"""The SKU placement problem: which SKUs each front warehouse (FDC) stocks, and what that costs.

A region's orders for a SKU are shipped from its FDC when the FDC stocks the SKU (a local
parcel) and from the regional DC otherwise (a long-haul parcel). Stocking SKU :math:`s` at FDC
:math:`f` needs a base stock

.. math:: B_{sf} = \mu_{sf} \, T + z \, \sigma_{sf} \sqrt{L}

(cover of :math:`T` days of mean demand plus safety stock at the normal service factor
:math:`z` over the replenishment lead time :math:`L` from the RDC — the normal approximation of
:func:`cpfr.inventory.single.cycle_service_base_stock`, vectorised), which occupies
:math:`v_s B_{sf}` of the FDC's capacity and costs :math:`h B_{sf}` a day to hold. A basket
of two co-purchased SKUs splits into two parcels when exactly one of them is at the FDC.
With :math:`y_{sf} \in \{0, 1\}` (stocked) the daily cost is

.. math::

    \sum_{s,f} \mu_{sf} \bigl(c^{local}_f y_{sf} + c^{haul}_f (1 - y_{sf})\bigr)
    + h \sum_{s,f} B_{sf} y_{sf}
    + \pi \sum_{(a,b), f} o_{abf} \, |y_{af} - y_{bf}|

subject to :math:`\sum_s v_s B_{sf} y_{sf} \le K_f` for every FDC and :math:`y_{sf} = 1`
where a placement is required. Every FDC's problem is independent of the others' (the RDC
holds every SKU), a knapsack with pairwise cut penalties.

:class:`PlacementProblem` is built from plain arrays (so the store can build one as easily
as an instance file); :func:`placement_cost` prices any placement; :func:`greedy_placement`
is the planner's rule the optimisers are compared with; :func:`placement_model` is the MILP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from cpfr.exceptions import InputError
from cpfr.network.solver import LinearModel


def _array(name: str, value: Any, shape: tuple[int, ...], *, minimum: float = 0.0) -> np.ndarray:
    """Return ``value`` as a float array of ``shape`` (scalars broadcast), finite and >= ``minimum``."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        array = np.full(shape, float(array))
    if array.shape != shape:
        raise InputError(f"{name}: expected shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < minimum):
        raise InputError(f"{name}: expected finite numbers >= {minimum:g}")
    return array


def _cell_costs(name: str, value: Any, skus: int, fdcs: int) -> np.ndarray:
    """Return a cost as an (S, F) array: a number, one per FDC (F,), or one per cell (S, F)."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 2:
        return _array(name, array, (skus, fdcs))
    return np.broadcast_to(_array(name, value, (fdcs,)), (skus, fdcs)).copy()


@dataclass(frozen=True, eq=False)
class PlacementProblem:
    r"""An SKU x FDC placement instance, built from plain arrays.

    Parameters
    ----------
    sku_ids, fdc_ids : sequence of str
        Names of the S SKUs and F FDCs (rows and columns of every matrix).
    demand_mean, demand_sd : array of shape (S, F)
        Mean :math:`\mu_{sf}` and standard deviation :math:`\sigma_{sf}` of daily orders of the
        SKU in the FDC's region (one unit per order).
    volume : array of shape (S,)
        Space :math:`v_s` a unit occupies (1 for capacities in units).
    capacity : array of shape (F,)
        Space :math:`K_f` of each FDC, in the units of ``volume``.
    local_parcel_cost, long_haul_parcel_cost : float or array of shape (F,) or (S, F)
        Cost of an order shipped from the FDC (:math:`c^{local}_f`) or from its RDC
        (:math:`c^{haul}_f`); per SKU and FDC where parcels differ by size (stored as (S, F)).
    split_penalty : float
        Extra cost :math:`\pi` of a co-purchase order shipped in two parcels.
    holding_cost : float or array of shape (F,) or (S, F)
        Cost :math:`h` of a unit of base stock held at an FDC for a day.
    cover_days : float
        Days :math:`T` of mean demand the base stock covers.
    lead_time_days : float
        Replenishment lead time :math:`L` from the RDC, in days.
    service_z : float
        Normal safety factor :math:`z` (1.65 for a 95 % cycle service level).
    pairs : array of shape (P, 2), optional
        Co-purchased SKUs, as row indices (a, b), a != b.
    pair_orders : array of shape (P, F), optional
        Daily joint orders :math:`o_{abf}` of each pair in each region.
    required : bool array of shape (S, F), optional
        Placements that must be made (a launch, a contract); the only way to be infeasible.

    Examples
    --------
    >>> problem = PlacementProblem(
    ...     ["S1", "S2"], ["FDC_NORTH"], [[10.0], [1.0]], [[2.0], [1.0]], [1.0, 1.0], [100.0],
    ...     local_parcel_cost=6, long_haul_parcel_cost=14, holding_cost=0.4, cover_days=7)
    >>> problem.base_stock.round(2).ravel().tolist()
    [73.3, 8.65]
    """

    sku_ids: tuple[str, ...]
    fdc_ids: tuple[str, ...]
    demand_mean: np.ndarray = field(repr=False)
    demand_sd: np.ndarray = field(repr=False)
    volume: np.ndarray = field(repr=False)
    capacity: np.ndarray
    local_parcel_cost: Any = 0.0
    long_haul_parcel_cost: Any = 0.0
    split_penalty: float = 0.0
    holding_cost: Any = 0.0
    cover_days: float = 7.0
    lead_time_days: float = 1.0
    service_z: float = 1.65
    pairs: Any = field(default=None, repr=False)
    pair_orders: Any = field(default=None, repr=False)
    required: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        skus, fdcs = len(self.sku_ids), len(self.fdc_ids)
        if skus == 0 or fdcs == 0:
            raise InputError("a placement needs at least one SKU and one FDC")
        put = object.__setattr__  # frozen: normalise once, here
        put(self, "sku_ids", tuple(str(name) for name in self.sku_ids))
        put(self, "fdc_ids", tuple(str(name) for name in self.fdc_ids))
        put(self, "demand_mean", _array("demand_mean", self.demand_mean, (skus, fdcs)))
        put(self, "demand_sd", _array("demand_sd", self.demand_sd, (skus, fdcs)))
        put(self, "volume", _array("volume", self.volume, (skus,)))
        put(self, "capacity", _array("capacity", self.capacity, (fdcs,)))
        for name in ("local_parcel_cost", "long_haul_parcel_cost"):
            put(self, name, _cell_costs(name, getattr(self, name), skus, fdcs))
        put(self, "holding_cost", _cell_costs("holding_cost", self.holding_cost, skus, fdcs))
        for name in ("split_penalty", "cover_days", "lead_time_days", "service_z"):
            put(self, name, float(_array(name, getattr(self, name), ())))
        pairs = np.zeros((0, 2), dtype=np.int64) if self.pairs is None else np.asarray(self.pairs)
        pairs = pairs.reshape(-1, 2).astype(np.int64) if pairs.size else np.zeros((0, 2), dtype=np.int64)
        if pairs.size and (pairs.min() < 0 or pairs.max() >= skus or np.any(pairs[:, 0] == pairs[:, 1])):
            raise InputError(f"pairs: expected two different SKU rows in [0, {skus})")
        put(self, "pairs", pairs)
        orders = np.zeros((len(pairs), fdcs)) if self.pair_orders is None else self.pair_orders
        put(self, "pair_orders", _array("pair_orders", orders, (len(pairs), fdcs)))
        required = np.zeros((skus, fdcs), dtype=bool) if self.required is None else self.required
        required = np.asarray(required, dtype=bool)
        if required.shape != (skus, fdcs):
            raise InputError(f"required: expected shape {(skus, fdcs)}, got {required.shape}")
        put(self, "required", required)

    @property
    def shape(self) -> tuple[int, int]:
        """(SKUs, FDCs)."""
        return len(self.sku_ids), len(self.fdc_ids)

    @property
    def base_stock(self) -> np.ndarray:
        r"""Base stock :math:`B_{sf} = \mu_{sf} T + z \sigma_{sf} \sqrt{L}` each placement needs (S, F)."""
        return self.demand_mean * self.cover_days + self.service_z * self.demand_sd * np.sqrt(
            self.lead_time_days
        )

    @property
    def space(self) -> np.ndarray:
        """Capacity :math:`v_s B_{sf}` each placement occupies (S, F)."""
        return self.volume[:, None] * self.base_stock

    @property
    def placement_saving(self) -> np.ndarray:
        """Daily cost change of stocking each cell, pairs aside: holding minus parcel saving (S, F)."""
        parcel_saving = self.demand_mean * (self.long_haul_parcel_cost - self.local_parcel_cost)
        return self.holding_cost * self.base_stock - parcel_saving

    @property
    def split_weight(self) -> np.ndarray:
        r"""Daily penalty :math:`\pi o_{abf}` of splitting each pair at each FDC (P, F)."""
        return self.split_penalty * self.pair_orders


@dataclass(frozen=True)
class CostBreakdown:
    """Daily cost of a placement by component; ``total`` is their sum."""

    local: float
    long_haul: float
    split: float
    holding: float

    @property
    def total(self) -> float:
        """The sum of the four components."""
        return self.local + self.long_haul + self.split + self.holding

    def as_dict(self) -> dict[str, float]:
        """Return the components by name (the ``cost_breakdown`` of a result document)."""
        return {
            "local": self.local,
            "long_haul": self.long_haul,
            "split": self.split,
            "holding": self.holding,
        }


def placement_cost(problem: PlacementProblem, stocked: np.ndarray) -> CostBreakdown:
    """Price the placement ``stocked`` (bool, S x F); capacity is not checked here."""
    stocked = np.asarray(stocked, dtype=bool)
    served_locally = np.where(stocked, problem.demand_mean, 0.0)
    served_far = problem.demand_mean - served_locally
    split = np.zeros(0)
    if len(problem.pairs):
        apart = stocked[problem.pairs[:, 0]] != stocked[problem.pairs[:, 1]]
        split = problem.split_weight[apart]
    return CostBreakdown(
        local=float((served_locally * problem.local_parcel_cost).sum()),
        long_haul=float((served_far * problem.long_haul_parcel_cost).sum()),
        split=float(split.sum()),
        holding=float((problem.holding_cost * problem.base_stock)[stocked].sum()),
    )


def space_used(problem: PlacementProblem, stocked: np.ndarray) -> np.ndarray:
    """Capacity each FDC's placements occupy (F,)."""
    return np.where(stocked, problem.space, 0.0).sum(axis=0)


def fits(problem: PlacementProblem, stocked: np.ndarray) -> bool:
    """Whether ``stocked`` respects every FDC's capacity (to a relative 1e-9) and every required cell."""
    slack = 1e-9 * np.maximum(problem.capacity, 1.0)
    within = bool(np.all(space_used(problem, stocked) <= problem.capacity + slack))
    return within and bool(np.all(stocked[problem.required]))


def greedy_placement(problem: PlacementProblem) -> np.ndarray:
    """Place by the planner's rule: at each FDC, the fastest SKUs (regional mean demand) that fit.

    Required placements go in first; then SKUs in decreasing order of regional velocity, each
    one that still fits (a SKU too large for what is left is skipped, not the end of the list).
    Costs are not looked at — which is what the optimisers are measured against.

    Returns
    -------
    numpy.ndarray of bool, shape (S, F)
        The placement.
    """
    space = problem.space
    stocked = problem.required.copy()
    for column in range(problem.shape[1]):  # one pass per FDC (8 or so), vectorised over SKUs
        left = problem.capacity[column] - space[stocked[:, column], column].sum()
        order = np.argsort(-problem.demand_mean[:, column], kind="stable")
        order = order[~stocked[order, column]]
        sizes = space[order, column]
        # Skip-and-continue first fit is sequential; the prefix that fits is taken at once and
        # only the (short) tail after the first miss is walked one SKU at a time.
        prefix = int(np.searchsorted(np.cumsum(sizes), left, side="right"))
        stocked[order[:prefix], column] = True
        left -= sizes[:prefix].sum()
        for row, size in zip(order[prefix:], sizes[prefix:], strict=True):
            if size <= left:
                stocked[row, column] = True
                left -= size
    return stocked


@dataclass(frozen=True)
class PlacementModel:
    """The MILP of a placement and how to read its solution: y (S*F, row-major) then z (P*F)."""

    model: LinearModel
    cells: int

    def stocked(self, x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """Return the placement (bool, S x F) in a solution vector."""
        return np.asarray(x[: self.cells] > 0.5).reshape(shape)


def placement_model(problem: PlacementProblem, *, free: np.ndarray | None = None) -> PlacementModel:
    r"""Build the MILP of ``problem`` with numpy and scipy.sparse (no loop over cells).

    Variables are :math:`y_{sf}` (binary, index ``s * F + f``) and, for every pair and FDC with
    joint orders, :math:`z_{abf} \ge |y_{af} - y_{bf}|` (continuous in [0, 1]; minimisation
    makes it the absolute value). ``free`` (bool, S x F) leaves only those cells to decide:
    the others keep their value in ``problem.required`` (used by the Lagrangian repair, which
    passes a problem whose ``required`` holds its fixed-to-one cells).
    """
    skus, fdcs = problem.shape
    cells = skus * fdcs
    space = problem.space
    lower = problem.required.ravel().astype(float)
    upper = np.ones(cells)
    upper[(space > problem.capacity[None, :]).ravel()] = 0.0  # can never fit
    if free is not None:
        upper[~free.ravel()] = lower[~free.ravel()]
    upper = np.maximum(upper, lower)  # a required cell too large: the capacity row says infeasible
    pair_rows, pair_columns = np.nonzero(problem.split_weight > 0)
    count = len(pair_rows)
    first = problem.pairs[pair_rows, 0] * fdcs + pair_columns
    second = problem.pairs[pair_rows, 1] * fdcs + pair_columns
    z_index = cells + np.arange(count)
    row_index = np.arange(count)
    # capacity: sum_s space_sf y_sf <= K_f; splits: y_a - y_b - z <= 0 and y_b - y_a - z <= 0.
    rows = np.concatenate(
        [np.tile(np.arange(fdcs), skus), fdcs + row_index, fdcs + row_index, fdcs + row_index]
        + [fdcs + count + row_index] * 3
    )
    columns = np.concatenate([np.arange(cells), first, second, z_index, second, first, z_index])
    values = np.concatenate([space.ravel(), *[np.ones(count), -np.ones(count), -np.ones(count)] * 2])
    matrix = sp.csr_matrix((values, (rows, columns)), shape=(fdcs + 2 * count, cells + count))
    offset = float((problem.demand_mean * problem.long_haul_parcel_cost).sum())
    model = LinearModel(
        c=np.concatenate([problem.placement_saving.ravel(), problem.split_weight[pair_rows, pair_columns]]),
        A=matrix,
        row_lower=np.full(fdcs + 2 * count, -np.inf),
        row_upper=np.concatenate([problem.capacity, np.zeros(2 * count)]),
        lower=np.concatenate([lower, np.zeros(count)]),
        upper=np.concatenate([upper, np.ones(count)]),
        integer=np.concatenate([np.ones(cells, dtype=bool), np.zeros(count, dtype=bool)]),
        offset=offset,
    )
    return PlacementModel(model, cells)
