"""SKU placement: enumerated optima, co-purchase, capacity, greedy, the decomposition's gap, files, CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cpfr.cli.main import app
from cpfr.exceptions import InfeasibleError, InputError
from cpfr.network.placement import place_skus, solve_document
from cpfr.network.placement_problem import (
    PlacementProblem,
    fits,
    greedy_placement,
    placement_cost,
    space_used,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "network" / "sku_placement.json"


def _random_problem(skus: int, fdcs: int, seed: int, *, pair_share: float = 0.3) -> PlacementProblem:
    """Skewed demand, capacity for about a third of the space wanted, some co-purchase pairs."""
    rng = np.random.default_rng(seed)
    mean = rng.pareto(1.5, (skus, fdcs)) * 3 + 0.05
    sd = np.sqrt(mean) + 0.1
    volume = rng.lognormal(0, 0.6, skus)
    problem = PlacementProblem(
        [f"S{index}" for index in range(skus)], [f"F{index}" for index in range(fdcs)], mean, sd, volume,
        capacity=np.ones(fdcs), local_parcel_cost=6.0, long_haul_parcel_cost=rng.uniform(9, 16, fdcs),
        split_penalty=5.0, holding_cost=0.4, cover_days=7.0,
    )  # fmt: skip
    count = max(1, int(pair_share * skus))
    first = rng.choice(skus, count, replace=False)
    second = (first + rng.integers(1, skus, count)) % skus
    return PlacementProblem(
        problem.sku_ids, problem.fdc_ids, mean, sd, volume,
        capacity=0.35 * problem.space.sum(axis=0), local_parcel_cost=6.0,
        long_haul_parcel_cost=problem.long_haul_parcel_cost, split_penalty=5.0, holding_cost=0.4,
        cover_days=7.0, pairs=np.column_stack([first, second]),
        pair_orders=rng.uniform(0.1, 0.6, (count, 1)) * np.minimum(mean[first], mean[second]),
    )  # fmt: skip


def _enumerated_optimum(problem: PlacementProblem) -> float:
    skus, fdcs = problem.shape
    best = np.inf
    for bits in itertools.product([False, True], repeat=skus * fdcs):
        stocked = np.array(bits).reshape(skus, fdcs)
        if fits(problem, stocked):
            best = min(best, placement_cost(problem, stocked).total)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("method", ["milp", "lagrangian"])
def test_tiny_instances_reach_the_enumerated_optimum(seed: int, method: str) -> None:
    problem = _random_problem(4, 2, seed, pair_share=0.5)
    optimum = _enumerated_optimum(problem)  # all 2^8 placements
    result = place_skus(problem, method=method, mip_gap=0.0)
    assert fits(problem, result.stocked)
    assert result.total_cost == pytest.approx(optimum, rel=1e-9)
    assert result.bound <= optimum + 1e-6 and result.gap <= 1e-6
    assert result.cost.total == pytest.approx(placement_cost(problem, result.stocked).total)


def _pair(split_penalty: float) -> PlacementProblem:
    # S0 pays for its space alone; S1 does not: parcels save 8 x 0.3 = 2.4 a day, its base
    # stock 0.3 x 7 + 1.65 x 3 = 7.05 costs 0.4 x 7.05 = 2.82 to hold.
    return PlacementProblem(
        ["S0", "S1"], ["F"], [[10.0], [0.3]], [[0.0], [3.0]], [1.0, 1.0], [100.0],
        local_parcel_cost=6, long_haul_parcel_cost=14, holding_cost=0.4, cover_days=7,
        split_penalty=split_penalty, pairs=[[0, 1]], pair_orders=[[0.3]],
    )  # fmt: skip


@pytest.mark.parametrize("method", ["milp", "lagrangian"])
def test_co_purchased_skus_go_together_when_splitting_costs_enough(method: str) -> None:
    apart = place_skus(_pair(0.0), method=method, mip_gap=0.0)
    together = place_skus(_pair(5.0), method=method, mip_gap=0.0)  # 5 x 0.3 = 1.5 > 2.82 - 2.4
    assert apart.stocked[:, 0].tolist() == [True, False]
    assert together.stocked[:, 0].tolist() == [True, True]
    assert together.cost.split == 0.0


def test_costs_are_priced_as_documented() -> None:
    cost = placement_cost(_pair(5.0), np.array([[True], [False]]))
    assert cost.local == pytest.approx(10 * 6) and cost.long_haul == pytest.approx(0.3 * 14)
    assert cost.holding == pytest.approx(0.4 * 70) and cost.split == pytest.approx(5 * 0.3)


@pytest.fixture(scope="module")
def medium() -> PlacementProblem:
    return _random_problem(400, 4, seed=11, pair_share=0.05)


@pytest.fixture(scope="module")
def exact(medium: PlacementProblem) -> Any:
    return place_skus(medium, method="milp", mip_gap=1e-7)


@pytest.mark.parametrize("method", ["milp", "lagrangian"])
def test_capacity_is_respected_and_the_optimum_beats_the_planners_rule(
    medium: PlacementProblem, method: str
) -> None:
    result = place_skus(medium, method=method, mip_gap=0.01)
    greedy = greedy_placement(medium)
    assert fits(medium, greedy) and fits(medium, result.stocked)
    assert np.all(result.capacity_used <= 1 + 1e-9)
    assert np.allclose(result.capacity_used, space_used(medium, result.stocked) / medium.capacity)
    assert result.total_cost <= placement_cost(medium, greedy).total == pytest.approx(result.greedy_cost)
    assert result.greedy_cost > result.total_cost * 1.001  # the rule leaves money on the table here


def test_the_lagrangian_answer_is_within_its_proven_gap_of_the_optimum(
    medium: PlacementProblem, exact: Any
) -> None:
    result = place_skus(medium, method="lagrangian", mip_gap=0.01)
    assert exact.gap <= 1e-6
    assert result.bound <= exact.total_cost * (1 + 1e-7)
    assert result.total_cost >= exact.total_cost * (1 - 1e-7)
    assert result.total_cost - exact.total_cost <= result.gap * result.total_cost + 1e-6
    assert result.gap <= 0.01


def test_required_placements_are_kept_and_too_many_are_infeasible() -> None:
    problem = _pair(0.0)
    required = PlacementProblem(
        problem.sku_ids, problem.fdc_ids, problem.demand_mean, problem.demand_sd, problem.volume,
        problem.capacity, local_parcel_cost=6, long_haul_parcel_cost=14, holding_cost=0.4,
        required=[[False], [True]],
    )  # fmt: skip
    assert place_skus(required, method="lagrangian").stocked[1, 0]
    assert place_skus(required, method="milp").stocked[1, 0]
    cramped = PlacementProblem(
        ["S0", "S1"], ["F"], [[10.0], [10.0]], [[0.0], [0.0]], [1.0, 1.0], [100.0],
        required=[[True], [True]],
    )  # fmt: skip
    for method in ("milp", "lagrangian"):
        with pytest.raises(InfeasibleError):
            place_skus(cramped, method=method)


def test_arrays_of_the_wrong_shape_or_sign_are_refused() -> None:
    with pytest.raises(InputError, match="demand_mean"):
        PlacementProblem(["S"], ["F"], [[1.0, 2.0]], [[1.0]], [1.0], [1.0])
    with pytest.raises(InputError, match="capacity"):
        PlacementProblem(["S"], ["F"], [[1.0]], [[1.0]], [1.0], [-1.0])
    with pytest.raises(InputError, match="method"):
        place_skus(_pair(0.0), method="simplex")


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["fdcs"][0].update(capacity=-5), r"fdcs\[0\]\.capacity"),
        (lambda d: d["skus"][1]["demand"].update(FDC_SOUTH={"mean": 1}), r"skus\[1\]\.demand: 'FDC_SOUTH'"),
        (lambda d: d["skus"][2].update(id="PHONE_X"), r"skus\[2\]\.id 'PHONE_X'"),
        (lambda d: d["copurchase"][0].update(b="NOPE"), r"copurchase\[0\]\.b: 'NOPE'"),
        (lambda d: d["costs"].pop("local_parcel"), r"costs\.local_parcel: missing"),
        (lambda d: d["costs"].update(holding_per_unit="0.4"), r"costs\.holding_per_unit"),
        (lambda d: d.update(colour="red"), r"colour: unknown field"),
    ],
)
def test_bad_instances_name_the_field(change: Any, message: str) -> None:
    document = _document()
    change(document)
    with pytest.raises(InputError, match=message):
        solve_document(document, label="p.json", time_limit_seconds=10)


def test_the_example_solves_with_every_result_key() -> None:
    result = solve_document(_document(), label="p.json", time_limit_seconds=10)
    assert set(result) == {
        "placement", "total_cost", "cost_breakdown", "greedy_cost", "capacity_used", "gap", "bound",
        "seconds", "method",
    }  # fmt: skip
    assert "TEA_GIFT" in result["placement"]["FDC_EAST"]  # required there, though slow
    assert sum(result["cost_breakdown"].values()) == pytest.approx(result["total_cost"])
    assert result["total_cost"] <= result["greedy_cost"] and result["gap"] <= 0.01
    assert all(0 <= share <= 1 for share in result["capacity_used"].values())


def test_cli_solves_the_example_as_json() -> None:
    outcome = CliRunner().invoke(app, ["network", "solve", str(EXAMPLE), "--json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.stdout)
    assert result["kind"] == "sku_placement" and result["method"] == "milp"
    assert set(result["placement"]) == {"FDC_NORTH", "FDC_EAST", "FDC_WEST"}


def test_cli_exit_codes_for_bad_and_infeasible_instances(tmp_path: Path) -> None:
    bad = _document()
    bad["fdcs"][0]["capacity"] = "lots"
    infeasible = _document()
    infeasible["skus"][3]["required"] = ["FDC_WEST"]  # a 65" TV's base stock overfills the west FDC
    infeasible["fdcs"][2]["capacity"] = 10
    for name, document, code in (("bad.json", bad, 2), ("infeasible.json", infeasible, 1)):
        path = tmp_path / name
        path.write_text(json.dumps(document))
        outcome = CliRunner().invoke(app, ["network", "solve", str(path), "--json"])
        assert outcome.exit_code == code, outcome.output
