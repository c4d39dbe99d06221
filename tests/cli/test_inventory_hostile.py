"""Property-based: hostile inventory instances end with exit code 0, 1 or 2, quickly, never a traceback (issue 10).

Each case starts from a valid instance of one kind, may move its numbers to the edges of their
documented bounds, and applies up to three mutations a hostile or careless user would: a huge, tiny,
zero or negative number, NaN or infinity (as numbers and as text), a wrong type, a list where a number
belongs, a missing field, an unknown field, a kind that is not a name. Through ``cpfr inventory solve --json`` every case must end within seconds with 0 (and strict,
finite, sane JSON), 1 (a solver limit) or 2 (a refused instance, one line naming it), never with an
internal error.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import Result

Cli = Callable[..., Result]

SECONDS_PER_CASE = 15.0  # within the bounds every solver needs about 2 s at most; a loaded CI box is slower

NORMAL = {"distribution": "normal", "mean": 50, "sd": 8}
POISSON = {"distribution": "poisson", "mean": 6}
EMPIRICAL = {"distribution": "empirical", "values": [0, 1, 2, 3], "probabilities": [0.1, 0.4, 0.4, 0.1]}

BASES: dict[str, dict[str, Any]] = {
    "newsvendor": {"kind": "newsvendor", "holding_cost": 0.18, "stockout_cost": 0.7, "demand": NORMAL},
    "newsvendor_empirical": {
        "kind": "newsvendor",
        "holding_cost": 1,
        "stockout_cost": 3,
        "demand": EMPIRICAL,
    },
    "base_stock": {
        "kind": "base_stock",
        "holding_cost": 0.18,
        "stockout_cost": 0.7,
        "lead_time": 2,
        "demand": POISSON,
    },
    "base_stock_empirical": {
        "kind": "base_stock",
        "holding_cost": 1,
        "stockout_cost": 3,
        "lead_time": 3,
        "demand": EMPIRICAL,
    },
    "s_S": {"kind": "s_S", "holding_cost": 1, "stockout_cost": 4, "fixed_cost": 5, "demand": POISSON},
    "r_Q": {
        "kind": "r_Q",
        "holding_cost": 0.225,
        "stockout_cost": 7.5,
        "fixed_cost": 8,
        "lead_time": 0.1,
        "demand": {"distribution": "normal", "mean": 1300, "sd": 150},
    },
    "r_Q_poisson": {
        "kind": "r_Q",
        "holding_cost": 1,
        "stockout_cost": 10,
        "fixed_cost": 20,
        "lead_time": 2,
        "demand": POISSON,
    },
    "eoq": {"kind": "eoq", "fixed_cost": 8, "holding_cost": 0.225, "demand_rate": 1300},
    "eoq_discounts": {
        "kind": "eoq",
        "fixed_cost": 8,
        "demand_rate": 1300,
        "discounts": {"breakpoints": [0, 400], "unit_costs": [1.0, 0.9], "holding_cost_rate": 0.2},
    },
    "wagner_whitin": {
        "kind": "wagner_whitin",
        "demand": [20, 50, 10, 50],
        "fixed_cost": 100,
        "holding_cost": 1,
    },
    "serial": {
        "kind": "serial",
        "stockout_cost": 37.12,
        "demand": {"distribution": "normal", "mean": 5, "sd": 1},
        "nodes": [
            {"id": 1, "echelon_holding_cost": 3, "lead_time": 1},
            {"id": 2, "echelon_holding_cost": 2, "lead_time": 1},
        ],
    },
    "gsm_tree": {
        "kind": "gsm_tree",
        "service_level": 0.9,
        "edges": [[1, 2], [1, 3]],
        "nodes": [
            {"id": 1, "processing_time": 2, "holding_cost": 1},
            {"id": 2, "processing_time": 1, "holding_cost": 2, "demand_sd": 1, "max_outbound_cst": 0},
            {"id": 3, "processing_time": 1, "holding_cost": 2, "demand_mean": 5, "demand_sd": 2},
        ],
    },
    "distribution": {
        "kind": "distribution",
        "warehouse": {"id": "RDC", "lead_time": 2, "holding_cost": 1},
        "locations": [
            {
                "id": "A",
                "lead_time": 1,
                "holding_cost": 2,
                "stockout_cost": 20,
                "demand": {"distribution": "poisson", "mean": 1.0},
            },
            {
                "id": "B",
                "lead_time": 2,
                "holding_cost": 2,
                "stockout_cost": 20,
                "demand": {"distribution": "poisson", "mean": 2.0},
            },
        ],
    },
}

HOSTILE: list[Any] = [
    1e300,
    1e12,
    1e9,
    999_999,
    10**30,
    1e-300,
    5e-324,
    1e-7,
    0,
    0.0,
    -1,
    -1e9,
    0.5,
    2.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e999",
    "12",
    True,
    False,
    None,
    "text",
    "",
    [],
    {},
    [1, 2],
    [[1, 2]],
    {"a": 1},
    {"distribution": "poisson", "mean": 1e7},
    {"distribution": "normal", "mean": 1e9, "sd": 1e-9},
    ["newsvendor"],
]


# Numbers at and near the documented bounds: costs 1e-6 .. 1e9, quantities 0 .. 1e9, periods 0 .. 1000.
EXTREME: list[float] = [0, 1e-6, 1e-3, 0.5, 1, 7, 999, 1000, 1e4, 1e6, 1e9]


def _extreme(value: Any, draw: Callable[[Any], Any]) -> Any:
    """Replace some numbers of an instance (not its ids) by numbers near the bounds."""
    if isinstance(value, dict):
        return {key: item if key == "id" else _extreme(item, draw) for key, item in value.items()}
    if isinstance(value, list):
        return [_extreme(item, draw) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and draw(st.booleans()):
        return draw(st.sampled_from(EXTREME) | st.floats(0, 1e9, allow_nan=False))
    return value


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in an instance a mutation can hit: dict keys and list items, depth first."""
    places = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            places += _places(item, (*path, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            places += _places(item, (*path, position))
    return places


def _mutate(instance: Any, path: tuple[Any, ...], action: str, value: Any) -> None:
    parent = instance
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "delete" and isinstance(parent, list) and len(parent) > 1:
        parent.pop(last)
    elif action == "surplus" and isinstance(parent, dict):
        parent["surprise_field"] = value
    elif action == "grow" and isinstance(parent, list):
        parent.extend([copy.deepcopy(parent[last])] * 3)


def _no_constants(text: str) -> float:
    raise AssertionError(f"--json printed the non-standard JSON constant {text}")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


def _check_sane(result: dict[str, Any]) -> None:
    assert all(math.isfinite(number) for number in _numbers(result)), result
    kind = result["kind"]
    if kind in ("newsvendor", "base_stock"):
        assert result["base_stock"] >= 0, result  # a stock level, never negative
        assert 0 < result["critical_ratio"] < 1, result
    if kind == "s_S":
        assert result["order_up_to"] >= max(result["reorder_point"], 0), result
    if kind == "r_Q":
        assert result["order_quantity"] > 0, result
    if kind == "distribution":
        assert all(level >= 0 for level in result["base_stock"].values()), result
    if kind == "gsm_tree":
        assert all(stock >= 0 for stock in result["safety_stock"].values()), result
    if kind in ("eoq", "wagner_whitin"):
        assert all(quantity >= 0 for quantity in _numbers(result)), result


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_instances_end_in_the_exit_code_table(data: st.DataObject, tmp_path: Path, cli: Cli) -> None:
    name = data.draw(st.sampled_from(sorted(BASES)), label="base")
    instance = copy.deepcopy(BASES[name])
    if data.draw(st.booleans(), label="extreme numbers"):
        instance = _extreme(instance, data.draw)
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        places = _places(instance)
        if not places:
            break
        path = data.draw(st.sampled_from(places), label="path")
        action = data.draw(st.sampled_from(["replace", "replace", "replace", "delete", "surplus", "grow"]))
        _mutate(instance, path, action, copy.deepcopy(data.draw(st.sampled_from(HOSTILE), label="value")))
    if data.draw(st.booleans(), label="yaml"):
        path = tmp_path / "instance.yaml"
        path.write_text(yaml.safe_dump(instance), encoding="utf-8")
    else:
        path = tmp_path / "instance.json"
        path.write_text(json.dumps(instance), encoding="utf-8")  # NaN and Infinity as Python writes them

    started = time.monotonic()
    result = cli("inventory", "solve", path, "--json")
    elapsed = time.monotonic() - started

    event(f"exit code {result.exit_code}")
    assert result.exit_code in (0, 1, 2), (instance, result.output)
    assert "Traceback" not in result.output
    assert elapsed < SECONDS_PER_CASE, (instance, elapsed)
    if result.exit_code == 0:
        found = json.loads(result.stdout, parse_constant=_no_constants)
        _check_sane(found)
    else:
        message = result.stderr.strip()
        assert message.startswith("error: ") and "\n" not in message, message
        assert result.stdout == ""
