"""`cpfr inventory solve`: the instance-file contract (kinds, result keys) and bad instances (exit code 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Cli = Callable[..., Result]

INSTANCES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "newsvendor": (
        {
            "kind": "newsvendor",
            "holding_cost": 0.18,
            "stockout_cost": 0.70,
            "demand": {"distribution": "normal", "mean": 50, "sd": 8},
        },
        {"base_stock": 56.6040, "expected_cost": 1.9976},
    ),
    "newsvendor_empirical": (
        {
            "kind": "newsvendor",
            "holding_cost": 1,
            "stockout_cost": 3,
            "demand": {
                "distribution": "empirical",
                "values": [0, 1, 2, 3, 4],
                "probabilities": [0.1, 0.2, 0.4, 0.2, 0.1],
            },
        },
        {"base_stock": 3.0},
    ),
    "base_stock": (
        {
            "kind": "base_stock",
            "holding_cost": 0.18,
            "stockout_cost": 0.70,
            "lead_time": 0,
            "demand": {"distribution": "poisson", "mean": 50},
        },
        {"base_stock": 56.0, "expected_cost": 1.7972},
    ),
    "s_S": (
        {
            "kind": "s_S",
            "holding_cost": 1,
            "stockout_cost": 4,
            "fixed_cost": 5,
            "demand": {"distribution": "poisson", "mean": 6},
        },
        {"reorder_point": 4.0, "order_up_to": 10.0, "expected_cost": 8.0341},
    ),
    "r_Q": (
        {
            "kind": "r_Q",
            "holding_cost": 0.225,
            "stockout_cost": 7.5,
            "fixed_cost": 8,
            "lead_time": 1 / 12,
            "demand": {"distribution": "normal", "mean": 1300, "sd": 150},
        },
        {"reorder_point": 126.8671, "order_quantity": 328.4491, "expected_cost": 78.0711},
    ),
    "eoq": (
        {"kind": "eoq", "fixed_cost": 8, "holding_cost": 0.225, "demand_rate": 1300},
        {"order_quantity": 304.0468, "expected_cost": 68.4105},
    ),
    "serial": (
        {
            "kind": "serial",
            "stockout_cost": 37.12,
            "demand": {"distribution": "normal", "mean": 5, "sd": 1},
            "nodes": [
                {"id": 1, "echelon_holding_cost": 3, "lead_time": 1},
                {"id": 2, "echelon_holding_cost": 2, "lead_time": 1},
                {"id": 3, "echelon_holding_cost": 2, "lead_time": 2},
            ],
        },
        {"base_stock": {"1": 6.4909, "2": 12.0176, "3": 22.7055}, "expected_cost": 47.6601},
    ),
    "gsm_tree": (
        {
            "kind": "gsm_tree",
            "service_level": 0.8413447460685429,
            "edges": [[1, 3], [3, 2], [3, 4]],
            "nodes": [
                {
                    "id": 1,
                    "processing_time": 2,
                    "holding_cost": 1,
                    "external_inbound_cst": 1,
                    "demand_mean": 0,
                    "demand_sd": 0,
                },
                {
                    "id": 3,
                    "processing_time": 1,
                    "holding_cost": 2,
                    "external_inbound_cst": 0,
                    "demand_mean": 0,
                    "demand_sd": 0,
                },
                {
                    "id": 2,
                    "processing_time": 1,
                    "holding_cost": 3,
                    "external_inbound_cst": 0,
                    "demand_mean": 0,
                    "demand_sd": 1,
                    "max_outbound_cst": 0,
                },
                {
                    "id": 4,
                    "processing_time": 1,
                    "holding_cost": 3,
                    "external_inbound_cst": 0,
                    "demand_mean": 0,
                    "demand_sd": 1,
                    "max_outbound_cst": 1,
                },
            ],
        },
        {"committed_service_time": {"1": 0, "3": 0, "2": 0, "4": 1}, "expected_cost": 8.2779},
    ),
}


def _write(tmp_path: Path, data: dict[str, Any], name: str = "instance.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _close(found: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert set(expected) <= set(found)
        for key, value in expected.items():
            _close(found[key], value)
    else:
        assert found == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_json_result_has_the_contract_keys(name: str, tmp_path: Path, cli: Cli) -> None:
    instance, expected = INSTANCES[name]
    result = cli("inventory", "solve", _write(tmp_path, instance), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["kind"] == instance["kind"]
    _close(found, expected)


def test_yaml_instances_and_table_output(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "eoq.yaml"
    path.write_text("kind: eoq\nfixed_cost: 8\nholding_cost: 0.225\ndemand_rate: 1300\n")
    result = cli("inventory", "solve", path)
    assert result.exit_code == 0, result.output
    assert "order_quantity" in result.stdout and "304.047" in result.stdout


def test_distribution_instance(tmp_path: Path, cli: Cli) -> None:
    instance = {
        "kind": "distribution",
        "warehouse": {"id": "RDC", "lead_time": 2, "holding_cost": 1},
        "locations": [
            {
                "id": "FDC-A",
                "lead_time": 1,
                "holding_cost": 2,
                "stockout_cost": 20,
                "demand": {"distribution": "poisson", "mean": 1.0},
            },
            {
                "id": "FDC-B",
                "lead_time": 2,
                "holding_cost": 2,
                "stockout_cost": 20,
                "demand": {"distribution": "poisson", "mean": 2.0},
            },
        ],
    }
    result = cli("inventory", "solve", _write(tmp_path, instance), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert set(found["base_stock"]) == {"RDC", "FDC-A", "FDC-B"}
    assert found["expected_cost"] > 0
    assert 0 < found["fill_rate"]["FDC-A"] < 1


BAD = [
    (
        {
            "kind": "newsvendor",
            "holding_cost": -1,
            "stockout_cost": 1,
            "demand": {"distribution": "normal", "mean": 5, "sd": 1},
        },
        "holding_cost",
    ),
    (
        {
            "kind": "newsvendor",
            "holding_cost": 1,
            "stockout_cost": 1,
            "demand": {"distribution": "empirical", "values": [1, 2], "probabilities": [0.5, 0.6]},
        },
        "demand.probabilities",
    ),
    ({"kind": "warp_drive"}, "kind: expected one of newsvendor, .*; got 'warp_drive'"),
    (
        {
            "kind": "s_S",
            "holding_cost": 1,
            "stockout_cost": 4,
            "demand": {"distribution": "poisson", "mean": 6},
        },
        "fixed_cost: missing",
    ),
    (
        {
            "kind": "base_stock",
            "holding_cost": 1,
            "stockout_cost": 4,
            "lead_time": 1,
            "demand": {"distribution": "gamma"},
        },
        "demand.distribution",
    ),
    (
        {
            "kind": "serial",
            "stockout_cost": 10,
            "demand": {"distribution": "normal", "mean": 5, "sd": 1},
            "nodes": [{"id": 1, "echelon_holding_cost": -2, "lead_time": 1}],
        },
        r"nodes\[0\].echelon_holding_cost",
    ),
    ({**INSTANCES["gsm_tree"][0], "edges": [[1, 3], [3, 2], [3, 4], [4, 1]]}, "cycle"),
    ({**INSTANCES["gsm_tree"][0], "edges": [[1, 3], [3, 2], [3, 7]]}, "node 7 is not among nodes"),
    (
        {
            "kind": "distribution",
            "warehouse": {"lead_time": 2, "holding_cost": 1},
            "locations": [
                {
                    "id": "A",
                    "lead_time": 1,
                    "holding_cost": 2,
                    "stockout_cost": -5,
                    "demand": {"distribution": "poisson", "mean": 1},
                }
            ],
        },
        r"locations\[0\].stockout_cost",
    ),
]


@pytest.mark.parametrize(("instance", "message"), BAD)
def test_bad_instances_exit_2_naming_the_field(
    instance: dict, message: str, tmp_path: Path, cli: Cli
) -> None:
    result = cli("inventory", "solve", _write(tmp_path, instance), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    import re

    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.output


def test_unreadable_instance_files(tmp_path: Path, cli: Cli) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert cli("inventory", "solve", broken).exit_code == 2
    assert cli("inventory", "solve", tmp_path / "missing.json").exit_code == 2
    listed = _write(tmp_path, [1, 2], "list.json")  # type: ignore[arg-type]
    result = cli("inventory", "solve", listed)
    assert result.exit_code == 2 and "expected one object" in result.stderr


def _refused(result: Result, code: int, message: str) -> None:
    import re

    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert re.search(message, result.stderr), result.stderr


def test_hostile_instances_of_issue_10_end_in_one_line_not_a_traceback(tmp_path: Path, cli: Cli) -> None:
    newsvendor = INSTANCES["newsvendor"][0]
    kind_list = _write(tmp_path, {**newsvendor, "kind": ["newsvendor"]})
    _refused(
        cli("inventory", "solve", kind_list, "--json"), 2, "kind: expected one of .*; got \\['newsvendor'\\]"
    )
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"kind": "eoq", "note": "caf\xe9"}'.encode("latin-1"))
    _refused(cli("inventory", "solve", latin1), 2, "latin1.json: not UTF-8 text")
    huge_cost = _write(tmp_path, {**newsvendor, "stockout_cost": 1e300})
    _refused(cli("inventory", "solve", huge_cost, "--json"), 2, "stockout_cost: expected a finite number")
    nan_cost = tmp_path / "nan.json"
    nan_cost.write_text(json.dumps({**newsvendor, "holding_cost": float("nan")}))  # NaN, as Python writes it
    _refused(cli("inventory", "solve", nan_cost, "--json"), 2, "holding_cost: expected a finite number")
    poisson = _write(tmp_path, {**INSTANCES["s_S"][0], "demand": {"distribution": "poisson", "mean": 1e9}})
    _refused(cli("inventory", "solve", poisson, "--json"), 2, "1,000,000 at most supported")
    slow = _write(tmp_path, INSTANCES["s_S"][0])
    _refused(cli("inventory", "solve", slow, "--time-limit", "1e-9"), 1, "no answer within the time limit")
    _refused(cli("inventory", "solve", slow, "--time-limit", "inf"), 2, "--time-limit inf: expected a finite")


def test_extreme_but_valid_instances_print_strict_json_and_no_negative_level(
    tmp_path: Path, cli: Cli
) -> None:
    def reject(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    extreme = {
        "kind": "newsvendor",
        "holding_cost": 1e-6,
        "stockout_cost": 1e9,
        "demand": {"distribution": "normal", "mean": 1e9, "sd": 1e9},
    }
    result = cli("inventory", "solve", _write(tmp_path, extreme), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout, parse_constant=reject)["base_stock"] > 1e9
    wide = {
        **extreme,
        "holding_cost": 10,
        "stockout_cost": 1,
        "demand": {"distribution": "normal", "mean": 0.1, "sd": 5},
    }
    result = cli("inventory", "solve", _write(tmp_path, wide), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["base_stock"] == 0.0  # was -6.6
