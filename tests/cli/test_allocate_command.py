"""``cpfr allocate`` on the small demo store, and ``cpfr network solve`` of an allocation instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from click.testing import Result

from cpfr.data.store import Store

Cli = Callable[..., Result]


def _latest_launch(store: Store) -> str:
    events = store.read_table("events", where={"kind": "launch"})
    return str(events.sort_values("start_date")["event_id"].iloc[-1]).removeprefix("LAUNCH-")


def test_allocate_splits_a_launch_and_writes_every_point(
    small_demo_store: Store, tmp_path: Path, cli: Cli
) -> None:
    sku = _latest_launch(small_demo_store)
    output = tmp_path / "split.csv"
    result = cli(
        "allocate",
        "--db",
        small_demo_store.location,
        "--sku",
        sku,
        "--quantity",
        "600",
        "--pack",
        "2",
        "--output",
        output,
    )
    assert result.exit_code == 0, result.output
    assert "by channel" in result.stdout and "by city tier" in result.stdout and "tier 1" in result.stdout
    assert "JD.com" in result.stdout  # channel names, not only codes
    assert "[allocate" in result.stderr
    table = pd.read_csv(output)
    assert table["units"].sum() == 600 and (table["units"] % 2 == 0).all()
    assert (table["expected_sales"] <= table["units"] + 1e-9).all()
    assert (table["expected_sales"] <= table["expected_demand"] + 1e-9).all()
    assert set(table["sku_id"]) == {sku} and table["point_id"].is_unique


def test_allocate_refuses_an_unknown_sku_and_a_broken_pack(small_demo_store: Store, cli: Cli) -> None:
    db = ["--db", small_demo_store.location]
    unknown = cli("allocate", *db, "--sku", "NOPE", "--quantity", "10")
    assert unknown.exit_code == 2 and "NOPE" in unknown.stderr
    broken = cli(
        "allocate", *db, "--sku", _latest_launch(small_demo_store), "--quantity", "11", "--pack", "2"
    )
    assert broken.exit_code == 2 and "--quantity 11" in broken.stderr


def test_an_infeasible_allocation_instance_exits_1(tmp_path: Path, cli: Cli) -> None:
    instance = tmp_path / "launch.json"
    instance.write_text(
        json.dumps(
            {
                "kind": "allocation",
                "quantity": 10,
                "points": [
                    {
                        "id": "A",
                        "channel": "JD_MALL",
                        "tier": 1,
                        "demand": {"distribution": "poisson", "mean": 5},
                        "min_units": 6,
                    },
                    {
                        "id": "B",
                        "channel": "JD_MALL",
                        "tier": 2,
                        "demand": {"distribution": "poisson", "mean": 5},
                        "min_units": 6,
                    },
                ],
            }
        )
    )
    result = cli("network", "solve", instance)
    assert result.exit_code == 1 and "floors add up to 12 units, more than the 10" in result.stderr
    solved = tmp_path / "ok.json"
    solved.write_text(instance.read_text().replace('"min_units": 6', '"min_units": 2'))
    answer = cli("network", "solve", solved, "--json")
    assert answer.exit_code == 0
    assert json.loads(answer.stdout)["allocation"] == {"A": 5, "B": 5}
