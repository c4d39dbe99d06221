"""Instance files: read as UTF-8 JSON or YAML, validated by one pydantic model per kind, solved to finite results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cpfr.exceptions import InputError, LimitError, SolverLimitError
from cpfr.inventory.instance_models import MODELS, instance_schema, parse_instance
from cpfr.inventory.instances import read_instance, solve_instance

NEWSVENDOR: dict[str, Any] = {
    "kind": "newsvendor",
    "holding_cost": 0.18,
    "stockout_cost": 0.7,
    "demand": {"distribution": "normal", "mean": 50, "sd": 8},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"kind": ["newsvendor"]},
            "instance.json: kind: expected one of newsvendor, .*; got \\['newsvendor'\\]",
        ),
        ({"kind": None}, "kind: expected one of .*; got None"),
        ({"holding_cost": "0.18"}, "holding_cost: expected a finite number >= 1e-6 and <= 1e9, got '0.18'"),
        ({"holding_cost": True}, "holding_cost: expected a finite number .*, got True"),
        ({"holding_cost": float("nan")}, "holding_cost: expected a finite number .*, got nan"),
        (
            {"stockout_cost": 1e300},
            "stockout_cost: .*<= 1e9 \\(a cost per unit beyond a billion is a typing slip\\)",
        ),
        ({"stockout_cost": [1, 2]}, "stockout_cost: expected a finite number"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"demand": [50, 8]}, "demand: expected an object \\(a mapping of fields\\), got a list"),
        ({"demand": {"distribution": "normal", "mean": 50}}, "demand.sd: missing"),
        (
            {"demand": {"distribution": "normal", "mean": 1e9, "sd": 1}},
            "demand.sd: expected at least 1e-6 x the mean",
        ),
        ({"demand": {"distribution": "poisson", "mean": 5, "sd": 1}}, "demand.sd: unknown field"),
        ({"demand": {"distribution": ["normal"]}}, "demand.distribution: expected one of 'normal', "),
        (
            {"demand": {"distribution": "empirical", "values": [1, -2], "probabilities": [0.5, 0.5]}},
            r"demand.values\[1\]: expected a finite number >= 0",
        ),
    ],
)
def test_every_wrong_field_is_named_by_its_path(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_instance({**NEWSVENDOR, **change}, "instance.json")


def test_nested_paths_name_list_items() -> None:
    serial = {
        "kind": "serial",
        "stockout_cost": 10,
        "demand": {"distribution": "normal", "mean": 5, "sd": 1},
        "nodes": [
            {"id": 1, "echelon_holding_cost": 1, "lead_time": 1},
            {"id": 2, "echelon_holding_cost": 1, "lead_time": 1},
            {"id": 3, "echelon_holding_cost": -1, "lead_time": 1},
        ],
    }
    with pytest.raises(
        InputError, match=r"^s.json: nodes\[2\].echelon_holding_cost: expected a finite number >= 0"
    ):
        parse_instance(serial, "s.json")
    serial["nodes"][2] = {"id": "1", "echelon_holding_cost": 1, "lead_time": 1}
    with pytest.raises(InputError, match=r"nodes\[2\].id '1': the same id as \[0\]"):
        parse_instance(serial, "s.json")
    serial["nodes"] = []
    with pytest.raises(InputError, match="nodes: expected at least 1 item"):
        parse_instance(serial, "s.json")


def test_the_models_keep_the_contract_defaults_and_document_it() -> None:
    eoq = parse_instance({"kind": "eoq", "fixed_cost": 8, "holding_cost": 0.225, "demand_rate": 1300})
    assert eoq.discounts is None
    with pytest.raises(InputError, match="holding_cost: missing \\(needed without discounts\\)"):
        parse_instance({"kind": "eoq", "fixed_cost": 8, "demand_rate": 1300})
    for kind in MODELS:
        schema = instance_schema(kind)
        assert schema["additionalProperties"] is False
        assert schema["properties"]["kind"]["const"] == kind
    holding = instance_schema("newsvendor")["properties"]["holding_cost"]
    assert (holding["type"], holding["minimum"], holding["maximum"]) == ("number", 1e-6, 1e9)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.json", '{"kind": "newsvendor", "note": "caf\xe9"}'.encode("latin-1"), "not UTF-8 text"),
        ("broken.json", b"{not json", "not valid JSON"),
        ("broken.yaml", b"kind: eoq\nfixed_cost: [1\n", "not valid YAML"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("long_number.json", b'{"kind": "eoq", "fixed_cost": 1' + b"0" * 5000 + b"}", "not valid JSON"),
        ("instance.txt", b"{}", "unknown file type '.txt'"),
    ],
)
def test_unreadable_files_are_input_errors(name: str, content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_instance(path)


def test_a_byte_order_mark_is_not_part_of_the_json(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(NEWSVENDOR).encode())
    assert solve_instance(read_instance(path))["kind"] == "newsvendor"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cpfr.inventory.instances as instances

    monkeypatch.setattr(instances, "MAX_INSTANCE_BYTES", 10)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(NEWSVENDOR))
    with pytest.raises(LimitError, match="at most 10 are supported"):
        read_instance(path)


def test_solver_errors_name_the_file_and_results_are_finite() -> None:
    with pytest.raises(InputError, match=r"^tree.json: edges"):
        solve_instance(
            {
                "kind": "gsm_tree",
                "service_level": 0.9,
                "edges": [[1, 2], [2, 1]],
                "nodes": [
                    {"id": 1, "processing_time": 1, "holding_cost": 1},
                    {"id": 2, "processing_time": 1, "holding_cost": 1},
                ],
            },
            label="tree.json",
        )
    with pytest.raises(SolverLimitError, match="time limit"):
        solve_instance(
            {
                "kind": "s_S",
                "holding_cost": 1,
                "stockout_cost": 4,
                "fixed_cost": 5,
                "demand": {"distribution": "poisson", "mean": 6},
            },
            time_limit_seconds=1e-9,
        )
    # Extreme but valid: a normal newsvendor at the bounds gives finite numbers (it printed Infinity and NaN).
    extreme = solve_instance(
        {
            **NEWSVENDOR,
            "holding_cost": 1e-6,
            "stockout_cost": 1e9,
            "demand": {"distribution": "normal", "mean": 1e9, "sd": 1e9},
        }
    )
    json.dumps(extreme, allow_nan=False)


def test_yaml_alias_bombs_are_refused_in_a_moment(tmp_path: Path) -> None:
    import time

    lines = ["a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")  # 9^9 numbers by reference
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "\n".join([*lines, "kind: wagner_whitin", "fixed_cost: 1", "holding_cost: 1", "demand: *i"]) + "\n"
    )
    started = time.monotonic()
    with pytest.raises(
        InputError, match=r"bomb.yaml: demand\[0\]: expected a finite number .*, got \[\[\[\[\.\.\.\]"
    ):
        solve_instance(read_instance(path), label="bomb.yaml")
    assert time.monotonic() - started < 10  # the message used to repr the whole 387-million-item list
