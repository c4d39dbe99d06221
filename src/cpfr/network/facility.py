"""Capacitated facility location: which warehouses to open, and which customers each one serves.

:func:`facility_location` solves the mixed-integer programme exactly (HiGHS, within a gap and a
time limit) in its strong formulation; :func:`cpfr.network.facility_greedy.greedy_facility_location`
is the add/drop/swap heuristic it is compared with. :func:`solve_document` is the
``facility_location`` kind of ``cpfr network solve``.

The model, with y_i = 1 when facility i opens and x_ij the fraction of customer j's demand
served from i (Cornuéjols, Nemhauser & Wolsey 1990, eqs. (1.1)-(1.5); Daskin 2013, sec. 6.3)::

    min  sum_i f_i y_i + sum_ij c_ij x_ij
    s.t. sum_i x_ij = 1                      every customer j is served in full
         x_ij <= y_i                         only from an open facility (the strong linking rows)
         sum_j d_j x_ij <= u_i y_i           within the facility's capacity, if it has one
         sum_i u_i y_i >= sum_j d_j          (when every facility has a capacity: a valid cut)
         y binary; x in [0, 1], or binary with single sourcing

``c_ij`` is the cost of serving *all* of j's demand from i, so a fraction x_ij costs x_ij c_ij.
The aggregated linking row alone (``sum_j x_ij <= n y_i``) gives the same integer optima but a
far weaker LP bound; the pairwise rows are what makes the branch and bound short.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from cpfr.exceptions import InfeasibleError, InputError, SolverLimitError
from cpfr.network.solver import (
    DEFAULT_MIP_GAP,
    DEFAULT_TIME_LIMIT_SECONDS,
    LinearModel,
    Solution,
    require_solution,
    solve,
)

SHOWN_FRACTION = 1e-7
"""Smallest fraction of a customer's demand reported in an assignment (solver noise is below it)."""


@dataclass(frozen=True)
class FacilityResult:
    """Which facilities open and who serves whom, with the cost and how well it is proven.

    Attributes
    ----------
    open : tuple of str
        The ids of the facilities opened, in input order.
    total_cost : float
        ``fixed_cost + assignment_cost_total``.
    fixed_cost : float
        Sum of the fixed costs f_i of the open facilities.
    assignment_cost_total : float
        Sum of c_ij x_ij over every customer and facility.
    assignment : dict
        Customer id -> {facility id: fraction of its demand served from there}; fractions sum
        to 1 (a single facility with fraction 1.0 under single sourcing).
    gap : float
        Relative gap ``(total_cost - bound) / total_cost`` proven by the solver; 0 when proven
        optimal exactly. A heuristic without a bound reports ``inf``.
    seconds : float
        Wall time of the solve.
    status : str
        ``optimal`` (within the gap asked for), ``time_limit`` or ``node_limit`` (the best
        solution found when the solver stopped), or ``heuristic``.
    bound : float
        The best proven lower bound on the optimal total cost (``-inf`` for a heuristic).
    """

    open: tuple[str, ...]
    total_cost: float
    fixed_cost: float
    assignment_cost_total: float
    assignment: Mapping[str, Mapping[str, float]] = field(repr=False)
    gap: float
    seconds: float
    status: str
    bound: float


@dataclass(frozen=True)
class FacilityNetwork:
    """A facility-location instance as arrays: facilities, customers and the allowed arcs between them.

    Built by :meth:`from_mappings`, which checks the input. Arrays are indexed by position in
    ``facility_ids`` / ``customer_ids``; an arc ``a`` joins facility ``arc_facility[a]`` to customer
    ``arc_customer[a]`` at ``arc_cost[a]`` for the whole of that customer's demand.
    """

    facility_ids: tuple[str, ...]
    customer_ids: tuple[str, ...]
    fixed_cost: np.ndarray
    capacity: np.ndarray  # inf for an uncapacitated facility
    demand: np.ndarray
    arc_facility: np.ndarray
    arc_customer: np.ndarray
    arc_cost: np.ndarray

    @classmethod
    def from_mappings(
        cls,
        fixed_cost: Mapping[str, float],
        capacity: Mapping[str, float] | None,
        demand: Mapping[str, float],
        assignment_cost: Mapping[str, Mapping[str, float]],
    ) -> FacilityNetwork:
        """Check the four inputs of :func:`facility_location` and turn them into arrays.

        Raises
        ------
        InputError
            A negative or non-finite number, an id of ``assignment_cost`` or ``capacity`` that is
            not a facility or customer, a customer no facility can serve, or total capacity below
            total demand.
        """
        facility_ids = tuple(str(key) for key in fixed_cost)
        customer_ids = tuple(str(key) for key in demand)
        if not facility_ids or not customer_ids:
            raise InputError("facility location: expected at least one facility and one customer")
        facility_index = {key: position for position, key in enumerate(facility_ids)}
        customer_index = {key: position for position, key in enumerate(customer_ids)}
        fixed = _finite_non_negative("fixed_cost", fixed_cost)
        needed = _finite_non_negative("demand", demand)
        capacities = np.full(len(facility_ids), math.inf)
        for key, value in (capacity or {}).items():
            if key not in facility_index:
                raise InputError(f"capacity.{key}: unknown facility")
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"capacity.{key}: expected a finite number >= 0, got {value!r}")
            capacities[facility_index[key]] = float(value)
        facilities: list[int] = []
        customers: list[int] = []
        costs: list[float] = []
        for facility, row in assignment_cost.items():
            if facility not in facility_index:
                raise InputError(f"assignment_cost.{facility}: unknown facility")
            for customer, cost in row.items():
                if customer not in customer_index:
                    raise InputError(f"assignment_cost.{facility}.{customer}: unknown customer")
                facilities.append(facility_index[facility])
                customers.append(customer_index[customer])
                costs.append(cost)
        arc_cost = np.asarray(costs, dtype=float)
        bad = ~np.isfinite(arc_cost) | (arc_cost < 0)
        if bad.any():
            first = int(np.argmax(bad))
            raise InputError(
                f"assignment_cost.{facility_ids[facilities[first]]}.{customer_ids[customers[first]]}: "
                f"expected a finite number >= 0, got {costs[first]!r}"
            )
        arc_customer = np.asarray(customers, dtype=np.int64)
        served = np.bincount(arc_customer, minlength=len(customer_ids)) > 0
        if not served.all():
            lonely = customer_ids[int(np.argmin(served))]
            raise InputError(f"demand.{lonely}: no facility has an assignment cost to this customer")
        total_capacity, total_demand = float(capacities.sum()), float(needed.sum())
        if total_capacity < total_demand:
            raise InputError(
                f"capacity: total capacity {total_capacity:,.6g} is below total demand {total_demand:,.6g}"
            )
        return cls(
            facility_ids,
            customer_ids,
            fixed,
            capacities,
            needed,
            np.asarray(facilities, dtype=np.int64),
            arc_customer,
            arc_cost,
        )

    @property
    def capacitated(self) -> bool:
        """Whether any facility has a capacity."""
        return bool(np.isfinite(self.capacity).any())

    def check_single_sourcing(self) -> None:
        """Raise InfeasibleError, in words, if a customer's demand fits no facility that can serve it."""
        fits = self.demand[self.arc_customer] <= self.capacity[self.arc_facility]
        placed = np.bincount(self.arc_customer, weights=fits, minlength=len(self.customer_ids)) > 0
        if not placed.all():
            customer = int(np.argmin(placed))
            largest = self.capacity[self.arc_facility[self.arc_customer == customer]].max()
            raise InfeasibleError(
                f"facility location with single sourcing: customer {self.customer_ids[customer]} "
                f"needs {self.demand[customer]:,.6g} units, more than any facility that can serve it "
                f"holds (at most {largest:,.6g}); allow split deliveries or add capacity"
            )


def _finite_non_negative(name: str, values: Mapping[str, float]) -> np.ndarray:
    array = np.asarray(list(values.values()), dtype=float)
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        key = list(values)[int(np.argmax(bad))]
        raise InputError(f"{name}.{key}: expected a finite number >= 0, got {values[key]!r}")
    return array


def facility_location(
    fixed_cost: Mapping[str, float],
    capacity: Mapping[str, float] | None,
    demand: Mapping[str, float],
    assignment_cost: Mapping[str, Mapping[str, float]],
    *,
    single_sourcing: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT_SECONDS,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> FacilityResult:
    """Open the facilities and assign the customers at the least fixed plus assignment cost.

    Parameters
    ----------
    fixed_cost : mapping of str to float
        Facility id -> f_i >= 0, the cost of opening it. Its keys are the facilities.
    capacity : mapping of str to float, or None
        Facility id -> u_i >= 0, in demand units. A facility missing from it, or every facility
        when it is None, is uncapacitated.
    demand : mapping of str to float
        Customer id -> d_j >= 0, in units. Its keys are the customers.
    assignment_cost : mapping of str to mapping of str to float
        ``assignment_cost[i][j]`` = c_ij >= 0, the cost of serving **all** of customer j's demand
        from facility i (a fraction x_ij costs x_ij c_ij). A pair that is missing is a forbidden
        arc: i never serves j. Every customer needs at least one arc.
    single_sourcing : bool
        Serve each customer from exactly one facility (x binary) instead of splitting its demand.
    time_limit : float
        Seconds the solver may search; when it stops early the result says ``time_limit`` and
        reports the gap proven so far.
    mip_gap : float
        Relative gap at which the search stops (``optimal`` means within it).

    Returns
    -------
    FacilityResult
        The open facilities, the costs, the assignment, the gap, bound, status and time.

    Raises
    ------
    InputError
        Bad input (see :meth:`FacilityNetwork.from_mappings`), naming the field.
    InfeasibleError
        No assignment satisfies every capacity (e.g. single sourcing where a customer fits no
        facility), said in words.
    SolverLimitError
        No feasible solution found within ``time_limit``.

    References
    ----------
    Cornuéjols, G., Nemhauser, G. L., & Wolsey, L. A. (1990). The uncapacitated facility
    location problem. In Mirchandani & Francis (eds.), Discrete Location Theory, 119-171
    (the strong formulation, eqs. (1.1)-(1.5)).
    Daskin, M. S. (2013). Network and Discrete Location, 2nd ed., Wiley, sec. 6.3 (capacitated).

    Examples
    --------
    Two warehouses, three stores; opening both costs more than shipping further:

    >>> result = facility_location(
    ...     {"north": 100.0, "south": 120.0},
    ...     None,
    ...     {"s1": 10.0, "s2": 10.0, "s3": 10.0},
    ...     {"north": {"s1": 10.0, "s2": 20.0, "s3": 80.0}, "south": {"s1": 60.0, "s2": 30.0, "s3": 10.0}},
    ... )
    >>> result.open, result.total_cost, result.status
    (('north',), 210.0, 'optimal')
    """
    network = FacilityNetwork.from_mappings(fixed_cost, capacity, demand, assignment_cost)
    if single_sourcing:
        network.check_single_sourcing()
    solution = require_solution(
        solve(location_model(network, single_sourcing), time_limit=time_limit, mip_gap=mip_gap),
        "facility location",
    )
    facilities = len(network.facility_ids)
    is_open = solution.x[:facilities] > 0.5
    flows = solution.x[facilities:]
    if single_sourcing:  # binaries come back within the solver's integrality tolerance
        flows = np.round(flows)
    return network_result(network, is_open, flows, solution)


def location_model(network: FacilityNetwork, single_sourcing: bool) -> LinearModel:
    """Build the strong MILP of the module docstring: variables ``y`` (facilities) then ``x`` (arcs)."""
    facilities, customers, arcs = len(network.facility_ids), len(network.customer_ids), len(network.arc_cost)
    arc_index = np.arange(arcs)
    x_column = facilities + arc_index
    capacitated = np.flatnonzero(np.isfinite(network.capacity))
    # Rows: customers (served in full), then one linking row per arc, then capacities, then the cut.
    link_row = customers + arc_index
    capacity_row = np.full(facilities, -1)
    capacity_row[capacitated] = customers + arcs + np.arange(len(capacitated))
    arc_capacity_row = capacity_row[network.arc_facility]
    on_capacity = arc_capacity_row >= 0
    rows = [
        network.arc_customer,
        link_row,
        link_row,
        arc_capacity_row[on_capacity],
        capacity_row[capacitated],
    ]
    columns = [x_column, x_column, network.arc_facility, x_column[on_capacity], capacitated]
    values = [
        np.ones(arcs),
        np.ones(arcs),
        -np.ones(arcs),
        network.demand[network.arc_customer[on_capacity]],
        -network.capacity[capacitated],
    ]
    row_count = customers + arcs + len(capacitated)
    row_lower = [np.ones(customers), np.full(arcs + len(capacitated), -np.inf)]
    row_upper = [np.ones(customers), np.zeros(arcs + len(capacitated))]
    if len(capacitated) == facilities:
        # Cornuéjols, Sridharan & Thizy (1991): the aggregate capacity row tightens the LP bound.
        rows.append(np.full(facilities, row_count))
        columns.append(np.arange(facilities))
        values.append(network.capacity.copy())
        row_lower.append(np.array([network.demand.sum()]))
        row_upper.append(np.array([np.inf]))
        row_count += 1
    matrix = sp.coo_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(row_count, facilities + arcs),
    ).tocsc()
    upper = np.ones(facilities + arcs)
    if single_sourcing:  # an arc to a customer larger than the facility can never carry it
        upper[facilities:] = network.demand[network.arc_customer] <= network.capacity[network.arc_facility]
    integer = np.zeros(facilities + arcs, dtype=bool)
    integer[: facilities if not single_sourcing else facilities + arcs] = True
    return LinearModel(
        c=np.concatenate([network.fixed_cost, network.arc_cost]),
        A=matrix,
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        lower=np.zeros(facilities + arcs),
        upper=upper,
        integer=integer,
    )


def network_result(
    network: FacilityNetwork, is_open: np.ndarray, flows: np.ndarray, solution: Solution | None
) -> FacilityResult:
    """Turn open flags and arc fractions into a :class:`FacilityResult` (a heuristic's: no ``solution``)."""
    fixed = float(network.fixed_cost[is_open].sum())
    served = float(network.arc_cost @ flows)
    assignment: dict[str, dict[str, float]] = {key: {} for key in network.customer_ids}
    for arc in np.flatnonzero(flows > SHOWN_FRACTION):
        customer = network.customer_ids[network.arc_customer[arc]]
        assignment[customer][network.facility_ids[network.arc_facility[arc]]] = float(flows[arc])
    if solution is None:
        status, bound, gap, seconds = "heuristic", -math.inf, math.inf, 0.0
    else:
        status, bound, gap, seconds = solution.status, solution.bound, solution.gap, solution.seconds
    return FacilityResult(
        open=tuple(key for key, flag in zip(network.facility_ids, is_open, strict=True) if flag),
        total_cost=fixed + served,
        fixed_cost=fixed,
        assignment_cost_total=served,
        assignment=assignment,
        gap=gap,
        seconds=seconds,
        status=status,
        bound=bound,
    )


def solve_document(data: Any, *, label: str, time_limit_seconds: float) -> dict[str, Any]:
    """Solve a ``facility_location`` instance document; return the contract's result keys.

    The document's schema is :class:`cpfr.network.facility_instance.FacilityLocationInstance`.
    The result holds ``open``, ``total_cost``, ``fixed_cost``, ``assignment_cost_total``,
    ``assignment``, ``gap``, ``seconds``, ``status`` and ``bound``.

    Raises
    ------
    InputError
        The document breaks its schema: ``label: field.path: what is wrong``.
    InfeasibleError
        No assignment satisfies every capacity.
    """
    from cpfr.network.facility_instance import parse_facility_location

    instance = parse_facility_location(data, label)
    try:
        result = facility_location(
            {facility.id: facility.fixed_cost for facility in instance.facilities},
            {
                facility.id: facility.capacity
                for facility in instance.facilities
                if facility.capacity is not None
            },
            {customer.id: customer.demand for customer in instance.customers},
            instance.assignment_cost,
            single_sourcing=instance.single_sourcing,
            time_limit=time_limit_seconds,
        )
    except (InputError, InfeasibleError, SolverLimitError) as error:  # name the file, as the CLI shows it
        raise type(error)(f"{label}: {error}") from None
    return {
        "open": list(result.open),
        "total_cost": result.total_cost,
        "fixed_cost": result.fixed_cost,
        "assignment_cost_total": result.assignment_cost_total,
        "assignment": {customer: dict(shares) for customer, shares in result.assignment.items()},
        "gap": result.gap,
        "seconds": result.seconds,
        "status": result.status,
        "bound": result.bound,
    }
