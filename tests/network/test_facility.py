"""Capacitated facility location: enumerated optima, greedy vs MILP, instance errors, the CLI."""

from __future__ import annotations

import copy
import itertools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from cpfr.cli.main import app
from cpfr.exceptions import InfeasibleError, InputError
from cpfr.network.facility import facility_location, solve_document
from cpfr.network.facility_greedy import greedy_facility_location
from cpfr.network.facility_samples import instance_arguments, random_facility_instance
from cpfr.network.instances import solve_instance

EXAMPLE = Path(__file__).parents[2] / "examples" / "network" / "facility_location.json"


def _enumerated_optimum(arguments: dict[str, Any]) -> float:
    """Price every open set with scipy's LP (or the nearest open facility), independently of cpfr."""
    facilities, customers = list(arguments["fixed_cost"]), list(arguments["demand"])
    demand = np.array([arguments["demand"][key] for key in customers])
    cost = np.array([[arguments["assignment_cost"][f].get(c, np.inf) for c in customers] for f in facilities])
    capacity = np.array([arguments["capacity"].get(f, np.inf) for f in facilities])
    best = math.inf
    for flags in itertools.product([False, True], repeat=len(facilities)):
        is_open = np.array(flags)
        if not is_open.any():
            continue
        fixed = sum(arguments["fixed_cost"][f] for f, flag in zip(facilities, flags, strict=True) if flag)
        rows = cost[is_open]
        if np.isinf(capacity[is_open]).all():
            nearest = rows.min(axis=0)
            best = min(best, fixed + nearest.sum()) if np.isfinite(nearest).all() else best
            continue
        count = int(is_open.sum())
        finite = np.isfinite(rows.ravel())
        equality = np.kron(np.ones(count), np.eye(len(customers)))  # x flattened facility-major
        capacity_rows = np.kron(np.eye(count), demand)
        limited = np.isfinite(capacity[is_open])
        answer = linprog(
            np.where(finite, rows.ravel(), 0.0),
            A_ub=capacity_rows[limited],
            b_ub=capacity[is_open][limited],
            A_eq=equality,
            b_eq=np.ones(len(customers)),
            bounds=[(0, 1 if ok else 0) for ok in finite],
        )
        if answer.status == 0:
            best = min(best, fixed + answer.fun)
    return best


def _single_sourced_optimum(arguments: dict[str, Any]) -> float:
    """Try every assignment of each customer to one facility (the open set is the facilities used)."""
    facilities, customers = list(arguments["fixed_cost"]), list(arguments["demand"])
    best = math.inf
    for choice in itertools.product(facilities, repeat=len(customers)):
        load = dict.fromkeys(facilities, 0.0)
        total = 0.0
        for customer, facility in zip(customers, choice, strict=True):
            load[facility] += arguments["demand"][customer]
            total += arguments["assignment_cost"][facility].get(customer, math.inf)
        if all(load[f] <= arguments["capacity"].get(f, math.inf) for f in facilities):
            best = min(best, total + sum(arguments["fixed_cost"][f] for f in set(choice)))
    return best


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("capacity_ratio", [0.0, 1.5, 3.0])
def test_the_milp_finds_the_enumerated_optimum(seed: int, capacity_ratio: float) -> None:
    arguments = instance_arguments(random_facility_instance(6, 12, capacity_ratio=capacity_ratio, seed=seed))
    result = facility_location(**arguments, mip_gap=1e-9)
    assert result.status == "optimal"
    assert result.total_cost == pytest.approx(_enumerated_optimum(arguments), rel=1e-7)
    assert result.total_cost == pytest.approx(result.fixed_cost + result.assignment_cost_total)
    assert result.bound <= result.total_cost + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_single_sourcing_finds_the_brute_force_optimum_and_costs_at_least_split_delivery(seed: int) -> None:
    arguments = instance_arguments(random_facility_instance(4, 6, capacity_ratio=1.6, seed=seed))
    single = facility_location(**{**arguments, "single_sourcing": True}, mip_gap=1e-9)
    split = facility_location(**arguments, mip_gap=1e-9)
    assert single.total_cost == pytest.approx(_single_sourced_optimum(arguments), rel=1e-7)
    assert single.total_cost >= split.total_cost - 1e-6
    assert all(list(shares.values()) == [1.0] for shares in single.assignment.values())


def test_capacity_changes_the_answer_of_the_uncapacitated_textbook_case() -> None:
    # One cheap central depot serves everyone when it may; with capacities of half the demand each,
    # both must open, and the cheaper split sends the nearer customer east.
    fixed = {"centre": 100.0, "east": 80.0}
    demand = {"a": 10.0, "b": 10.0}
    cost = {"centre": {"a": 10.0, "b": 10.0}, "east": {"a": 50.0, "b": 20.0}}
    free = facility_location(fixed, None, demand, cost)
    tight = facility_location(fixed, {"centre": 10.0, "east": 10.0}, demand, cost)
    assert free.open == ("centre",) and free.total_cost == pytest.approx(120.0)
    assert tight.open == ("centre", "east") and tight.total_cost == pytest.approx(210.0)
    assert tight.assignment == {"a": {"centre": 1.0}, "b": {"east": 1.0}}


def test_split_fractions_sum_to_one_and_respect_capacity_and_forbidden_arcs() -> None:
    fixed = {"F1": 10.0, "F2": 10.0}
    demand = {"C1": 6.0, "C2": 6.0}
    cost = {"F1": {"C1": 1.0, "C2": 1.0}, "F2": {"C2": 5.0}}  # F2 may not serve C1
    result = facility_location(fixed, {"F1": 9.0, "F2": 9.0}, demand, cost)
    assert result.assignment["C1"] == {"F1": 1.0}
    assert result.assignment["C2"] == pytest.approx({"F1": 0.5, "F2": 0.5})
    assert result.total_cost == pytest.approx(20.0 + 1.0 + 0.5 + 2.5)


@pytest.mark.parametrize(
    ("seed", "size", "capacity_ratio", "single_sourcing"),
    [
        (1, (10, 40), 3.0, False),
        (2, (15, 60), 2.0, False),
        (3, (12, 40), 0.0, False),
        (4, (8, 30), 2.0, True),
    ],
)
def test_the_milp_is_never_worse_than_the_greedy(
    seed: int, size: tuple[int, int], capacity_ratio: float, single_sourcing: bool
) -> None:
    arguments = instance_arguments(
        random_facility_instance(
            *size, capacity_ratio=capacity_ratio, seed=seed, single_sourcing=single_sourcing
        )
    )
    exact = facility_location(**arguments)
    greedy = greedy_facility_location(**arguments)
    assert exact.status == "optimal" and greedy.status == "heuristic"
    assert exact.total_cost <= greedy.total_cost * (1 + 1e-4) + 1e-6
    assert greedy.total_cost <= 1.2 * exact.total_cost  # and the greedy is a fair yardstick
    assert greedy.total_cost == pytest.approx(greedy.fixed_cost + greedy.assignment_cost_total)


def test_the_reported_gap_is_within_the_gap_asked_for() -> None:
    arguments = instance_arguments(random_facility_instance(20, 60, capacity_ratio=2.0, seed=5))
    result = facility_location(**arguments, mip_gap=0.01)
    assert result.status == "optimal"
    assert 0 <= result.gap <= 0.01
    assert result.bound <= result.total_cost + 1e-6
    assert (result.total_cost - result.bound) / result.total_cost == pytest.approx(result.gap, abs=1e-9)


def test_the_time_limit_is_honoured_with_a_finite_gap() -> None:
    arguments = instance_arguments(random_facility_instance(60, 300, capacity_ratio=3.0, seed=9))
    started = time.perf_counter()
    result = facility_location(**arguments, time_limit=0.5, mip_gap=1e-9)
    assert time.perf_counter() - started < 5
    assert result.status in ("time_limit", "optimal")
    assert math.isfinite(result.gap) and result.bound <= result.total_cost + 1e-6


def test_single_sourcing_where_no_facility_fits_a_customer_is_infeasible_in_words() -> None:
    with pytest.raises(InfeasibleError, match="customer C1 needs 50 units, more than any facility"):
        facility_location(
            {"F1": 1.0, "F2": 1.0},
            {"F1": 40.0, "F2": 40.0},
            {"C1": 50.0},
            {"F1": {"C1": 1.0}, "F2": {"C1": 1.0}},
            single_sourcing=True,
        )


# -- instance documents and the CLI --------------------------------------------------------------


def _document() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("customers.3.demand", -5), "customers[3].demand: expected a finite number >= 0"),
        (_set("facilities.1.fixed_cost", -1), "facilities[1].fixed_cost: expected a finite number >= 0"),
        (_set("assignment_cost.F2.C4", -3.5), "assignment_cost.F2.C4: expected a finite number >= 0"),
        (_set("assignment_cost.F9", {"C1": 1.0}), "assignment_cost.F9: unknown facility"),
        (_set("assignment_cost.F1.C99", 1.0), "assignment_cost.F1.C99: unknown customer"),
        (_set("facilities.2.id", "F1"), "facilities[2].id F1: the same id as [0]"),
        (_set("customers.4.id", "C1"), "customers[4].id C1: the same id as [0]"),
        (_set("facilities.0.capacty", 5), "facilities[0].capacty: unknown field"),
        (_set("budget", 5), "budget: unknown field"),
        (_set("single_sourcing", "yes"), "single_sourcing: Input should be a valid boolean"),
        (_set("customers.0.demand", "146"), "customers[0].demand: expected a finite number"),
    ],
)
def test_a_bad_instance_gets_one_message_naming_the_field(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = _document()
    change(document)
    with pytest.raises(InputError) as raised:
        solve_instance(document, label="net.json")
    assert str(raised.value).startswith(f"net.json: {message}"), str(raised.value)


def test_a_customer_without_any_assignment_cost_is_named() -> None:
    document = _document()
    for row in document["assignment_cost"].values():
        del row["C7"]
    with pytest.raises(
        InputError, match=r"^net.json: customers\[6\]: C7 has no assignment_cost from any facility"
    ):
        solve_document(document, label="net.json", time_limit_seconds=10)


def test_total_capacity_below_demand_says_both_numbers() -> None:
    document = _document()
    for facility in document["facilities"]:
        facility["capacity"] = 100
    with pytest.raises(InputError, match="total capacity 500 is below total demand 1,970"):
        solve_document(document, label="net.json", time_limit_seconds=10)


def test_the_example_instance_solves_through_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["network", "solve", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["kind"] == "facility_location"
    assert answer["open"] == ["F2", "F3", "F4"] and answer["status"] == "optimal"
    assert answer["total_cost"] == pytest.approx(answer["fixed_cost"] + answer["assignment_cost_total"])
    assert answer["fixed_cost"] == pytest.approx(5683 + 5718 + 6317)
    assert answer["gap"] <= 1e-4 and answer["seconds"] >= 0
    arguments = instance_arguments(_document())
    assert answer["total_cost"] == pytest.approx(_enumerated_optimum(arguments), rel=1e-6)
    for shares in answer["assignment"].values():
        assert sum(shares.values()) == pytest.approx(1.0)


def test_a_bad_instance_exits_2_and_an_infeasible_one_exits_1(tmp_path: Path) -> None:
    bad = _document()
    bad["customers"][3]["demand"] = -1
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = CliRunner().invoke(app, ["network", "solve", str(tmp_path / "bad.json"), "--json"])
    assert result.exit_code == 2
    assert "customers[3].demand" in result.stderr

    infeasible = copy.deepcopy(_document())
    infeasible["single_sourcing"] = True
    infeasible["customers"][3]["demand"] = 900  # more than any one facility holds
    (tmp_path / "infeasible.json").write_text(json.dumps(infeasible))
    result = CliRunner().invoke(app, ["network", "solve", str(tmp_path / "infeasible.json"), "--json"])
    assert result.exit_code == 1
    assert "customer C4 needs 900 units, more than any facility" in result.stderr
    assert result.stdout == ""


def test_the_greedy_says_when_even_every_facility_open_cannot_serve_the_customers() -> None:
    # Capacity covers demand in total, but C2 may only be served by F1, which C1 fills.
    arguments = {
        "fixed_cost": {"F1": 1.0, "F2": 1.0},
        "capacity": {"F1": 10.0, "F2": 10.0},
        "demand": {"C1": 10.0, "C2": 5.0},
        "assignment_cost": {"F1": {"C1": 1.0, "C2": 1.0}},
    }
    with pytest.raises(InfeasibleError, match="every facility open"):
        greedy_facility_location(**arguments)
    with pytest.raises(InfeasibleError, match="infeasible"):
        facility_location(**arguments)
