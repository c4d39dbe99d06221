"""Inventory instance files (JSON or YAML): read, check, solve, and give the result as plain data.

One entry point, :func:`solve_instance`, maps ``kind`` to the solver and the
solver's result to the keys of the ``cpfr inventory solve`` contract. Every
problem with the instance is an :class:`~cpfr.exceptions.InputError` naming
the field (``nodes[2].lead_time``), which the CLI turns into exit code 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from scipy import stats

from cpfr.exceptions import InputError
from cpfr.inventory.demand import Demand
from cpfr.inventory.distribution import Location, distribution_base_stock
from cpfr.inventory.gsm import GSMStage, gsm_tree
from cpfr.inventory.serial import SerialStage, serial_base_stock
from cpfr.inventory.single import base_stock, eoq, eoq_all_units_discount, newsvendor, r_q, s_S, wagner_whitin


def read_instance(path: Path) -> dict[str, Any]:
    """Read an instance from ``path`` (.json, .yaml or .yml) into a dict."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    try:
        data = (
            json.loads(text)
            if suffix == ".json"
            else yaml.safe_load(text)
            if suffix in (".yaml", ".yml")
            else None
        )
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{path}: not valid {suffix[1:].upper()}: {error}") from None
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError(f"{path}: unknown file type {suffix!r} — expected .json, .yaml or .yml")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected one object (a mapping of fields), got {type(data).__name__}")
    return data


def _number(
    data: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    minimum: float | None = 0.0,
    strict: bool = False,
    default: float | None = None,
) -> float:
    """Read a finite number field; name it in the error (``where`` + ``key``)."""
    name = f"{where}{key}"
    if key not in data or data[key] is None:
        if default is not None:
            return default
        raise InputError(f"{name}: missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{name} {value!r}: expected a number")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise InputError(f"{name} {value!r}: expected a number {'>' if strict else '>='} {minimum:g}")
    return float(value)


def _demand(data: Mapping[str, Any], where: str = "demand") -> Demand:
    spec = data.get("demand")
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: missing (expected an object with 'distribution')")
    kind = spec.get("distribution")
    if kind == "normal":
        return Demand.normal(
            _number(spec, "mean", f"{where}."), _number(spec, "sd", f"{where}.", strict=True)
        )
    if kind == "poisson":
        return Demand.poisson(_number(spec, "mean", f"{where}.", strict=True))
    if kind in ("empirical", "discrete"):
        values, probabilities = spec.get("values"), spec.get("probabilities")
        if not isinstance(values, list) or not isinstance(probabilities, list):
            raise InputError(f"{where}.values and {where}.probabilities: expected two lists")
        try:
            return Demand.discrete(values, probabilities)
        except InputError as error:
            raise InputError(str(error).replace("demand.", f"{where}.")) from None
        except (TypeError, ValueError):
            raise InputError(f"{where}.values and {where}.probabilities: expected lists of numbers") from None
    raise InputError(f"{where}.distribution {kind!r}: expected 'normal', 'poisson' or 'empirical'")


def _newsvendor(data: Mapping[str, Any]) -> dict[str, Any]:
    result = newsvendor(
        _number(data, "holding_cost", strict=True), _number(data, "stockout_cost", strict=True), _demand(data)
    )
    return {
        "base_stock": result.base_stock,
        "expected_cost": result.expected_cost,
        "critical_ratio": result.critical_ratio,
    }


def _base_stock(data: Mapping[str, Any]) -> dict[str, Any]:
    lead_time = _number(data, "lead_time")
    if lead_time != int(lead_time):
        raise InputError(f"lead_time {lead_time:g}: expected a whole number of periods")
    result = base_stock(
        _number(data, "holding_cost", strict=True),
        _number(data, "stockout_cost", strict=True),
        _demand(data),
        int(lead_time),
    )
    return {
        "base_stock": result.base_stock,
        "expected_cost": result.expected_cost,
        "critical_ratio": result.critical_ratio,
    }


def _s_S(data: Mapping[str, Any]) -> dict[str, Any]:
    result = s_S(
        _number(data, "holding_cost", strict=True),
        _number(data, "stockout_cost", strict=True),
        _number(data, "fixed_cost", strict=True),
        _demand(data),
    )
    return {
        "reorder_point": result.reorder_point,
        "order_up_to": result.order_up_to,
        "expected_cost": result.expected_cost,
    }


def _r_Q(data: Mapping[str, Any]) -> dict[str, Any]:
    result = r_q(
        _number(data, "holding_cost", strict=True),
        _number(data, "stockout_cost", strict=True),
        _number(data, "fixed_cost", strict=True),
        _demand(data),
        _number(data, "lead_time", strict=True),
    )
    return {
        "reorder_point": result.reorder_point,
        "order_quantity": result.order_quantity,
        "expected_cost": result.expected_cost,
    }


def _eoq(data: Mapping[str, Any]) -> dict[str, Any]:
    fixed, rate = _number(data, "fixed_cost", strict=True), _number(data, "demand_rate", strict=True)
    discounts = data.get("discounts")
    if discounts is None:
        result = eoq(fixed, _number(data, "holding_cost", strict=True), rate)
    else:
        if not isinstance(discounts, Mapping):
            raise InputError("discounts: expected an object with breakpoints, unit_costs, holding_cost_rate")
        result = eoq_all_units_discount(
            fixed,
            _number(discounts, "holding_cost_rate", "discounts.", strict=True),
            rate,
            list(discounts.get("breakpoints") or []),
            list(discounts.get("unit_costs") or []),
        )
    return {"order_quantity": result.order_quantity, "expected_cost": result.expected_cost}


def _wagner_whitin(data: Mapping[str, Any]) -> dict[str, Any]:
    demand = data.get("demand")
    if not isinstance(demand, list):
        raise InputError("demand: expected a list of per-period demands")
    result = wagner_whitin(demand, _number(data, "fixed_cost"), _number(data, "holding_cost"))
    return {"order_quantities": list(result.order_quantities), "expected_cost": result.expected_cost}


def _nodes(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise InputError("nodes: missing (expected a non-empty list of objects)")
    for position, node in enumerate(nodes):
        if not isinstance(node, Mapping) or "id" not in node:
            raise InputError(f"nodes[{position}]: expected an object with an 'id'")
    return nodes


def _serial(data: Mapping[str, Any]) -> dict[str, Any]:
    demand = _demand(data)
    if demand.kind != "normal":
        raise InputError("demand.distribution: the serial solver takes normal demand")
    stages = [
        SerialStage(
            node["id"],
            _number(node, "echelon_holding_cost", f"nodes[{position}]."),
            _number(node, "lead_time", f"nodes[{position}]."),
        )
        for position, node in enumerate(_nodes(data))
    ]
    result = serial_base_stock(stages, _number(data, "stockout_cost", strict=True), demand.mean, demand.sd)
    return {
        "base_stock": {str(key): value for key, value in result.base_stock.items()},
        "local_base_stock": {str(key): value for key, value in result.local_base_stock.items()},
        "expected_cost": result.expected_cost,
    }


def _gsm_tree(data: Mapping[str, Any]) -> dict[str, Any]:
    stages = []
    for position, node in enumerate(_nodes(data)):
        where = f"nodes[{position}]."
        maximum = node.get("max_outbound_cst")
        stages.append(
            GSMStage(
                node["id"],
                _whole(node, "processing_time", where),
                _number(node, "holding_cost", where),
                _whole(node, "external_inbound_cst", where, default=0),
                _number(node, "demand_mean", where, default=0.0),
                _number(node, "demand_sd", where, default=0.0),
                None if maximum is None else _whole(node, "max_outbound_cst", where),
            )
        )
    edges = data.get("edges")
    if not isinstance(edges, list) or not all(
        isinstance(edge, list | tuple) and len(edge) == 2 for edge in edges
    ):
        raise InputError("edges: expected a list of [upstream_id, downstream_id] pairs")
    service = _number(data, "service_level", strict=True)
    result = gsm_tree(stages, [(edge[0], edge[1]) for edge in edges], service)
    return {
        "committed_service_time": {str(key): value for key, value in result.committed_service_time.items()},
        "inbound_service_time": {str(key): value for key, value in result.inbound_service_time.items()},
        "safety_stock": {str(key): value for key, value in result.safety_stock.items()},
        "expected_cost": result.expected_cost,
        "safety_factor": float(stats.norm.ppf(service)),
    }


def _whole(data: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = _number(data, key, where, default=None if default is None else float(default))
    if value != int(value):
        raise InputError(f"{where}{key} {value:g}: expected a whole number of periods")
    return int(value)


def _distribution(data: Mapping[str, Any]) -> dict[str, Any]:
    warehouse = data.get("warehouse")
    if not isinstance(warehouse, Mapping):
        raise InputError("warehouse: missing (expected an object with lead_time and holding_cost)")
    raw = data.get("locations")
    if not isinstance(raw, list) or not raw:
        raise InputError("locations: missing (expected a non-empty list of objects)")
    locations = []
    for position, location in enumerate(raw):
        where = f"locations[{position}]"
        if not isinstance(location, Mapping) or "id" not in location:
            raise InputError(f"{where}: expected an object with an 'id'")
        demand = _demand(location, f"{where}.demand")
        if demand.kind != "poisson":
            raise InputError(f"{where}.demand.distribution: the distribution solver takes Poisson demand")
        locations.append(
            Location(
                location["id"],
                _number(location, "lead_time", f"{where}."),
                _number(location, "holding_cost", f"{where}.", strict=True),
                _number(location, "stockout_cost", f"{where}.", strict=True),
                demand.mean,
            )
        )
    warehouse_id = str(warehouse.get("id", "warehouse"))
    result = distribution_base_stock(
        _number(warehouse, "lead_time", "warehouse."),
        _number(warehouse, "holding_cost", "warehouse."),
        locations,
        warehouse_id=warehouse_id,
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


SOLVERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "newsvendor": _newsvendor,
    "base_stock": _base_stock,
    "s_S": _s_S,
    "r_Q": _r_Q,
    "eoq": _eoq,
    "wagner_whitin": _wagner_whitin,
    "serial": _serial,
    "gsm_tree": _gsm_tree,
    "distribution": _distribution,
}


def solve_instance(data: Mapping[str, Any]) -> dict[str, Any]:
    """Solve one instance dict by its ``kind``; return the result keys (plus ``kind``)."""
    kind = data.get("kind")
    if kind not in SOLVERS:
        raise InputError(f"kind {kind!r}: expected one of {', '.join(SOLVERS)}")
    return {"kind": kind, **SOLVERS[kind](data)}
