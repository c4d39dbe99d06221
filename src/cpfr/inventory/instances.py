"""Inventory instance files (JSON or YAML): read, check, solve, and give the result as plain data.

:func:`read_instance` reads a file (UTF-8 JSON or YAML, one object);
:func:`solve_instance` validates it against its kind's model
(:mod:`cpfr.inventory.instance_models`), runs the solver within its bounds and
time limit, and maps the solver's result to the keys of the ``cpfr inventory
solve`` contract. Every problem with the instance is an
:class:`~cpfr.exceptions.InputError` naming the file and the field
(``instance.json: nodes[2].lead_time: ...``), which the CLI turns into exit
code 2; work beyond the bounds is a :class:`~cpfr.exceptions.LimitError`
(also 2); a solver out of time, or without a finite answer, a
:class:`~cpfr.exceptions.SolverLimitError` (1). Results hold finite numbers
only, so they always print as strict JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from scipy import stats

from cpfr.documents import read_document
from cpfr.exceptions import InputError
from cpfr.inventory import instance_models as models
from cpfr.inventory.demand import Demand
from cpfr.inventory.distribution import Location, distribution_base_stock
from cpfr.inventory.gsm import GSMStage, gsm_tree
from cpfr.inventory.limits import DEFAULT_TIME_LIMIT_SECONDS, TIME_LIMIT, check_finite
from cpfr.inventory.serial import SerialStage, serial_base_stock
from cpfr.inventory.single import base_stock, eoq, eoq_all_units_discount, newsvendor, r_q, s_S, wagner_whitin

MAX_INSTANCE_BYTES = 20_000_000
"""Largest instance file: every list at its bound of 100,000 numbers fits in a few MB."""


def read_instance(path: Path) -> Any:
    """Read an instance from ``path`` (.json, .yaml or .yml, UTF-8) into plain data.

    Raises
    ------
    InputError
        No such file, an unknown file type, text that is not UTF-8, or not valid JSON or YAML.
    LimitError
        A file larger than ``MAX_INSTANCE_BYTES``.
    """
    return read_document(path, max_bytes=MAX_INSTANCE_BYTES)


def solve_instance(
    data: object,
    *,
    label: str = "instance",
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> dict[str, Any]:
    """Solve one instance (parsed file content) by its ``kind``; return the result keys (plus ``kind``).

    Parameters
    ----------
    data : object
        The instance as :func:`read_instance` returns it (an object is expected; anything
        else is an InputError).
    label : str
        What to call the instance in messages (its file name).
    time_limit_seconds : float
        How long an iterative solver may search before it gives up (SolverLimitError).

    Returns
    -------
    dict
        ``kind`` and the kind's result keys; every number in it is finite.
    """
    TIME_LIMIT.check("time_limit_seconds", time_limit_seconds)
    instance = models.parse_instance(data, label)
    solver = _SOLVERS[type(instance)]
    try:
        result = {"kind": instance.kind, **solver(instance, time_limit_seconds)}
    except InputError as error:  # a rule only the solver checks (a cycle in a tree): name the file
        raise type(error)(f"{label}: {error}") from None
    for key, value in result.items():
        _check_finite(value, f"{label}: {key}")
    return result


def _check_finite(value: Any, where: str) -> None:
    """Raise SolverLimitError, naming the result key, where a result holds NaN or an infinity."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _check_finite(item, f"{where}[{position}]")
    elif isinstance(value, float):
        check_finite(where, value)


def _demand(spec: models.NormalDemand | models.PoissonDemand | models.EmpiricalDemand) -> Demand:
    if isinstance(spec, models.NormalDemand):
        return Demand.normal(spec.mean, spec.sd)
    if isinstance(spec, models.PoissonDemand):
        return Demand.poisson(spec.mean)
    return Demand.discrete(spec.values, spec.probabilities)


def _newsvendor(instance: models.NewsvendorInstance, seconds: float) -> dict[str, Any]:
    del seconds  # closed forms and one quantile: nothing to time
    result = newsvendor(instance.holding_cost, instance.stockout_cost, _demand(instance.demand))
    return {
        "base_stock": result.base_stock,
        "expected_cost": result.expected_cost,
        "critical_ratio": result.critical_ratio,
    }


def _base_stock(instance: models.BaseStockInstance, seconds: float) -> dict[str, Any]:
    result = base_stock(
        instance.holding_cost,
        instance.stockout_cost,
        _demand(instance.demand),
        instance.lead_time,
        time_limit_seconds=seconds,
    )
    return {
        "base_stock": result.base_stock,
        "expected_cost": result.expected_cost,
        "critical_ratio": result.critical_ratio,
    }


def _s_S(instance: models.SSInstance, seconds: float) -> dict[str, Any]:
    result = s_S(
        instance.holding_cost,
        instance.stockout_cost,
        instance.fixed_cost,
        _demand(instance.demand),
        time_limit_seconds=seconds,
    )
    return {
        "reorder_point": result.reorder_point,
        "order_up_to": result.order_up_to,
        "expected_cost": result.expected_cost,
    }


def _r_Q(instance: models.RQInstance, seconds: float) -> dict[str, Any]:
    result = r_q(
        instance.holding_cost,
        instance.stockout_cost,
        instance.fixed_cost,
        _demand(instance.demand),
        instance.lead_time,
        time_limit_seconds=seconds,
    )
    return {
        "reorder_point": result.reorder_point,
        "order_quantity": result.order_quantity,
        "expected_cost": result.expected_cost,
    }


def _eoq(instance: models.EOQInstance, seconds: float) -> dict[str, Any]:
    del seconds  # closed forms
    discounts = instance.discounts
    if discounts is None:
        assert instance.holding_cost is not None  # the model requires one or the other
        result = eoq(instance.fixed_cost, instance.holding_cost, instance.demand_rate)
    else:
        result = eoq_all_units_discount(
            instance.fixed_cost,
            discounts.holding_cost_rate,
            instance.demand_rate,
            discounts.breakpoints,
            discounts.unit_costs,
        )
    return {"order_quantity": result.order_quantity, "expected_cost": result.expected_cost}


def _wagner_whitin(instance: models.WagnerWhitinInstance, seconds: float) -> dict[str, Any]:
    result = wagner_whitin(
        instance.demand, instance.fixed_cost, instance.holding_cost, time_limit_seconds=seconds
    )
    return {"order_quantities": list(result.order_quantities), "expected_cost": result.expected_cost}


def _serial(instance: models.SerialInstance, seconds: float) -> dict[str, Any]:
    stages = [SerialStage(node.id, node.echelon_holding_cost, node.lead_time) for node in instance.nodes]
    result = serial_base_stock(
        stages, instance.stockout_cost, instance.demand.mean, instance.demand.sd, time_limit_seconds=seconds
    )
    return {
        "base_stock": {str(key): value for key, value in result.base_stock.items()},
        "local_base_stock": {str(key): value for key, value in result.local_base_stock.items()},
        "expected_cost": result.expected_cost,
    }


def _gsm_tree(instance: models.GSMInstance, seconds: float) -> dict[str, Any]:
    stages = [
        GSMStage(
            node.id,
            node.processing_time,
            node.holding_cost,
            node.external_inbound_cst,
            node.demand_mean,
            node.demand_sd,
            node.max_outbound_cst,
        )
        for node in instance.nodes
    ]
    result = gsm_tree(stages, list(instance.edges), instance.service_level, time_limit_seconds=seconds)
    return {
        "committed_service_time": {str(key): value for key, value in result.committed_service_time.items()},
        "inbound_service_time": {str(key): value for key, value in result.inbound_service_time.items()},
        "safety_stock": {str(key): value for key, value in result.safety_stock.items()},
        "expected_cost": result.expected_cost,
        "safety_factor": float(stats.norm.ppf(instance.service_level)),
    }


def _distribution(instance: models.DistributionInstance, seconds: float) -> dict[str, Any]:
    locations = [
        Location(
            location.id,
            location.lead_time,
            location.holding_cost,
            location.stockout_cost,
            location.demand.mean,
        )
        for location in instance.locations
    ]
    warehouse = instance.warehouse
    warehouse_id = str(warehouse.id)
    result = distribution_base_stock(
        warehouse.lead_time,
        warehouse.holding_cost,
        locations,
        warehouse_id=warehouse_id,
        time_limit_seconds=seconds,
    )
    return {
        "base_stock": {warehouse_id: result.warehouse_base_stock}
        | {str(k): v for k, v in result.base_stock.items()},
        "expected_cost": result.expected_cost,
        "fill_rate": {str(k): v for k, v in result.fill_rate.items()},
        "expected_backorders": {str(k): v for k, v in result.expected_backorders.items()},
        "expected_on_hand": {str(k): v for k, v in result.expected_on_hand.items()},
        "warehouse_delay": result.warehouse_delay,
        "metric_approximation_cost": result.metric_cost,
    }


_SOLVERS: dict[type, Callable[[Any, float], dict[str, Any]]] = {
    models.NewsvendorInstance: _newsvendor,
    models.BaseStockInstance: _base_stock,
    models.SSInstance: _s_S,
    models.RQInstance: _r_Q,
    models.EOQInstance: _eoq,
    models.WagnerWhitinInstance: _wagner_whitin,
    models.SerialInstance: _serial,
    models.GSMInstance: _gsm_tree,
    models.DistributionInstance: _distribution,
}
