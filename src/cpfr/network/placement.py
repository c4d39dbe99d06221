"""SKU placement across the RDC -> FDC network: which SKUs each front warehouse stocks.

:func:`place_skus` solves a :class:`~cpfr.network.placement_problem.PlacementProblem` (the
model and its cost are documented there) by the monolithic MILP (``method="milp"``, HiGHS
through :mod:`cpfr.network.solver`) or by Lagrangian relaxation of the FDC capacities
(``"lagrangian"``, :mod:`cpfr.network.placement_lagrangian`); ``"auto"`` takes the MILP for
small instances and the decomposition for large ones (``AUTO_MILP_MAX_CELLS``). Either answer
is never worse than :func:`greedy_placement`, the planner's rule, whose placement is the
fallback incumbent. ``PlacementProblem`` is built from plain arrays (SKU and FDC ids, mean and
sd matrices, volumes, capacities, per-FDC parcel costs, co-purchase pairs as row indices), so
a caller with a store builds one without writing an instance file.

Instance files of kind ``sku_placement`` (``cpfr network solve``)::

    {"kind": "sku_placement",
     "fdcs": [{"id": "FDC_NORTH", "capacity": 4000, "rdc": "RDC_NORTH",
               "local_parcel": 6, "long_haul_parcel": 14}],          # parcel costs optional
     "skus": [{"id": "S1", "volume": 1.0,                             # volume optional (1)
               "demand": {"FDC_NORTH": {"mean": 12, "sd": 4}},       # daily orders by region
               "required": ["FDC_NORTH"]}],                           # optional
     "costs": {"local_parcel": 6, "long_haul_parcel": 14, "split_penalty": 5,
               "holding_per_unit": 0.4, "cover_days": 7, "lead_time_days": 1,
               "service_z": 1.65},
     "copurchase": [{"a": "S1", "b": "S2", "orders": {"FDC_NORTH": 3}}],
     "mip_gap": 0.01, "method": "auto"}

A region missing from a SKU's ``demand`` has none. Result keys: ``placement`` (FDC -> SKU
ids stocked), ``total_cost`` (per day), ``cost_breakdown`` (``local``, ``long_haul``,
``split``, ``holding``), ``greedy_cost``, ``capacity_used`` (FDC -> share of capacity),
``gap``, ``bound``, ``seconds``, ``method``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from cpfr.documents import validated
from cpfr.exceptions import InputError
from cpfr.network.placement_lagrangian import lagrangian_placement
from cpfr.network.placement_problem import (
    CostBreakdown,
    PlacementProblem,
    fits,
    greedy_placement,
    placement_cost,
    placement_model,
    space_used,
)
from cpfr.network.solver import require_solution, solve

__all__ = ["PlacementProblem", "PlacementResult", "greedy_placement", "place_skus", "solve_document"]

AUTO_MILP_MAX_CELLS = 20_000
"""Largest SKU x FDC count ``method="auto"`` sends to the monolithic MILP (2,500 SKUs x 8 FDCs).
Measured (benchmarks/network_placement.py, 8 FDCs, 5 % of SKUs co-purchased, 2 cores): both
methods prove 1 % at every size, the MILP in 0.4 s / 1.3 s / 6.5 s for 1k / 5k / 10k SKUs,
the decomposition in 0.06 s / 0.24 s / 0.58 s with an equal or smaller gap. Below the
threshold the MILP is well under a second and its bound needs no duality argument; above
it the decomposition is ten times faster and grows linearly (numpy over cells plus one LP
over the paired cells per bisection step)."""

METHODS = ("auto", "milp", "lagrangian")


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """A placement, what it costs a day, and how far from optimal it is proven to be.

    Attributes
    ----------
    stocked : numpy.ndarray of bool, shape (S, F)
        Which SKU is stocked at which FDC.
    cost : CostBreakdown
        Daily cost by component; ``total_cost`` is its total.
    total_cost, bound : float
        Cost of the placement and the best proven lower bound on any placement's cost.
    gap : float
        ``(total_cost - bound) / total_cost``, proven.
    greedy_cost : float
        Cost of the planner's rule (:func:`greedy_placement`) on the same instance.
    capacity_used : numpy.ndarray, shape (F,)
        Share of each FDC's capacity the placement occupies.
    method : str
        ``milp`` or ``lagrangian`` (what ran, also under ``auto``).
    seconds : float
        Wall time.
    """

    stocked: np.ndarray
    cost: CostBreakdown
    bound: float
    gap: float
    greedy_cost: float
    capacity_used: np.ndarray
    method: str
    seconds: float

    @property
    def total_cost(self) -> float:
        """Daily cost of the placement."""
        return self.cost.total

    def placement(self, problem: PlacementProblem) -> dict[str, list[str]]:
        """FDC id -> the SKU ids stocked there, in the problem's order."""
        return {
            fdc: [problem.sku_ids[row] for row in np.flatnonzero(self.stocked[:, column])]
            for column, fdc in enumerate(problem.fdc_ids)
        }


def place_skus(
    problem: PlacementProblem, *, time_limit: float = 60.0, mip_gap: float = 0.01, method: str = "auto"
) -> PlacementResult:
    """Choose the SKUs each FDC stocks at least daily cost within its capacity.

    Parameters
    ----------
    problem : PlacementProblem
        The instance (demand, space, costs, co-purchase pairs, required placements).
    time_limit : float
        Seconds the solver may search; the gap says how far it got.
    mip_gap : float
        Relative gap at which the search may stop.
    method : {'auto', 'milp', 'lagrangian'}
        The monolithic MILP, the Lagrangian decomposition, or ``auto`` (the MILP up to
        ``AUTO_MILP_MAX_CELLS`` SKU x FDC cells, the decomposition beyond).

    Returns
    -------
    PlacementResult
        The placement, its cost, the proven bound and gap, and the greedy rule's cost.

    Raises
    ------
    InfeasibleError
        Required placements that overfill an FDC.
    SolverLimitError
        No placement found within the time limit (not expected: the greedy one always fits).
    """
    if method not in METHODS:
        raise InputError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    if not (time_limit > 0 and math.isfinite(time_limit)):
        raise InputError(f"time_limit {time_limit}: expected seconds > 0")
    if not 0 <= mip_gap < 1:
        raise InputError(f"mip_gap {mip_gap}: expected a fraction in [0, 1)")
    started = time.perf_counter()
    skus, fdcs = problem.shape
    if method == "auto":
        method = "milp" if skus * fdcs <= AUTO_MILP_MAX_CELLS else "lagrangian"
    if method == "milp":
        built = placement_model(problem)
        answer = require_solution(solve(built.model, time_limit=time_limit, mip_gap=mip_gap), "sku placement")
        stocked, bound = built.stocked(answer.x, problem.shape), answer.bound
    else:
        outcome = lagrangian_placement(problem, time_limit=time_limit, mip_gap=mip_gap)
        stocked, bound = outcome.stocked, outcome.bound
    greedy = greedy_placement(problem)
    greedy_cost = placement_cost(problem, greedy).total
    cost = placement_cost(problem, stocked)
    if greedy_cost < cost.total and fits(problem, greedy):  # an incumbent the search did not beat
        stocked, cost = greedy, placement_cost(problem, greedy)
    total = cost.total
    bound = min(bound, total)
    return PlacementResult(
        stocked=stocked,
        cost=cost,
        bound=bound,
        gap=max(0.0, (total - bound) / max(abs(total), 1e-9)),
        greedy_cost=greedy_cost,
        capacity_used=space_used(problem, stocked) / np.maximum(problem.capacity, 1e-300),
        method=method,
        seconds=time.perf_counter() - started,
    )


# -- the instance file ---------------------------------------------------------------------------

MAX_ITEMS = 1_000_000
"""Most SKUs or co-purchase pairs in an instance file (also bounded by the file size)."""

MAX_NUMBER = 1e12
"""Largest cost, capacity, volume or demand in a file: beyond it is a typing slip."""

Id = Annotated[str, Field(min_length=1, max_length=100)]
Number = Annotated[float, Field(ge=0, le=MAX_NUMBER, allow_inf_nan=False, strict=True)]
Positive = Annotated[float, Field(gt=0, le=MAX_NUMBER, allow_inf_nan=False, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fdc(_Model):
    """A front warehouse: its ``capacity`` (in SKU volume units), its RDC, optional parcel costs."""

    id: Id
    capacity: Number
    rdc: Id | None = None
    local_parcel: Number | None = None
    long_haul_parcel: Number | None = None


class RegionalDemand(_Model):
    """Daily orders of a SKU in an FDC's region: ``mean`` and standard deviation ``sd``."""

    mean: Number
    sd: Number = 0.0


class Sku(_Model):
    """A SKU: ``volume`` per unit, daily ``demand`` by FDC id, FDCs where it is ``required``."""

    id: Id
    volume: Number = 1.0
    demand: Annotated[dict[str, RegionalDemand], Field(max_length=10_000)]
    required: Annotated[list[str], Field(max_length=10_000)] = []


class Costs(_Model):
    """Parcel costs (defaults for every FDC), split penalty, holding cost and base-stock rule."""

    local_parcel: Number
    long_haul_parcel: Number
    split_penalty: Number = 0.0
    holding_per_unit: Number = 0.0
    cover_days: Number = 7.0
    lead_time_days: Number = 1.0
    service_z: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False, strict=True)] = 1.65


class CoPurchase(_Model):
    """Two SKUs bought together: daily joint ``orders`` by FDC id."""

    a: Id
    b: Id
    orders: dict[str, Number]


class PlacementInstance(_Model):
    """``sku_placement``: FDCs, SKUs with regional demand, costs and co-purchase pairs."""

    kind: Literal["sku_placement"]
    fdcs: Annotated[list[Fdc], Field(min_length=1, max_length=1_000)]
    skus: Annotated[list[Sku], Field(min_length=1, max_length=MAX_ITEMS)]
    costs: Costs
    copurchase: Annotated[list[CoPurchase], Field(max_length=MAX_ITEMS)] = []
    mip_gap: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False, strict=True)] = 0.01
    method: Literal["auto", "milp", "lagrangian"] = "auto"

    @model_validator(mode="after")
    def _references_known(self) -> PlacementInstance:
        fdcs = _unique("fdcs", [fdc.id for fdc in self.fdcs])
        skus = _unique("skus", [sku.id for sku in self.skus])
        for position, sku in enumerate(self.skus):
            for key in list(sku.demand) + sku.required:
                if key not in fdcs:
                    where = "demand" if key in sku.demand else "required"
                    raise _unknown(f"skus[{position}].{where}", "FDC", key)
        for position, pair in enumerate(self.copurchase):
            for name in ("a", "b"):
                if getattr(pair, name) not in skus:
                    raise _unknown(f"copurchase[{position}].{name}", "SKU", getattr(pair, name))
            if pair.a == pair.b:
                raise PydanticCustomError(
                    "pair", "copurchase[{p}]: a and b are the same SKU", {"p": position}
                )
            for key in pair.orders:
                if key not in fdcs:
                    raise _unknown(f"copurchase[{position}].orders", "FDC", key)
        return self


def _unique(field: str, ids: list[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for position, key in enumerate(ids):
        if key in seen:
            raise PydanticCustomError(
                "duplicate",
                "{f}[{p}].id '{id}': the same id as {f}[{first}]",
                {"f": field, "p": position, "id": key, "first": seen[key]},
            )
        seen[key] = position
    return seen


def _unknown(where: str, what: str, key: str) -> PydanticCustomError:
    return PydanticCustomError(
        "unknown", "{where}: '{key}' is not a known {what} id", {"where": where, "key": key, "what": what}
    )


def problem_from_instance(instance: PlacementInstance) -> PlacementProblem:
    """Build the arrays of a validated instance file."""
    fdc_ids = [fdc.id for fdc in instance.fdcs]
    column = {fdc: index for index, fdc in enumerate(fdc_ids)}
    row = {sku.id: index for index, sku in enumerate(instance.skus)}
    mean = np.zeros((len(row), len(column)))
    sd = np.zeros_like(mean)
    required = np.zeros(mean.shape, dtype=bool)
    for index, sku in enumerate(instance.skus):
        for fdc, demand in sku.demand.items():
            mean[index, column[fdc]], sd[index, column[fdc]] = demand.mean, demand.sd
        for fdc in sku.required:
            required[index, column[fdc]] = True
    orders = np.zeros((len(instance.copurchase), len(column)))
    for index, pair in enumerate(instance.copurchase):
        for fdc, count in pair.orders.items():
            orders[index, column[fdc]] = count
    costs = instance.costs
    return PlacementProblem(
        sku_ids=tuple(row),
        fdc_ids=tuple(fdc_ids),
        demand_mean=mean,
        demand_sd=sd,
        volume=np.array([sku.volume for sku in instance.skus]),
        capacity=np.array([fdc.capacity for fdc in instance.fdcs]),
        local_parcel_cost=np.array([_given(fdc.local_parcel, costs.local_parcel) for fdc in instance.fdcs]),
        long_haul_parcel_cost=np.array(
            [_given(fdc.long_haul_parcel, costs.long_haul_parcel) for fdc in instance.fdcs]
        ),
        split_penalty=costs.split_penalty,
        holding_cost=costs.holding_per_unit,
        cover_days=costs.cover_days,
        lead_time_days=costs.lead_time_days,
        service_z=costs.service_z,
        pairs=np.array([[row[pair.a], row[pair.b]] for pair in instance.copurchase], dtype=np.int64),
        pair_orders=orders,
        required=required,
    )


def _given(value: float | None, default: float) -> float:
    return default if value is None else value


def solve_document(data: Any, *, label: str, time_limit_seconds: float) -> dict[str, Any]:
    """Validate and solve an ``sku_placement`` instance; return the result keys (module docstring)."""
    instance = validated(PlacementInstance, data, label)
    problem = problem_from_instance(instance)
    result = place_skus(
        problem, time_limit=time_limit_seconds, mip_gap=instance.mip_gap, method=instance.method
    )
    return {
        "placement": result.placement(problem),
        "total_cost": result.total_cost,
        "cost_breakdown": result.cost.as_dict(),
        "greedy_cost": result.greedy_cost,
        "capacity_used": {
            fdc: float(share) for fdc, share in zip(problem.fdc_ids, result.capacity_used, strict=True)
        },
        "gap": result.gap,
        "bound": result.bound,
        "seconds": result.seconds,
        "method": result.method,
    }
