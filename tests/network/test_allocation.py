"""Hot-launch allocation: the greedy and the programme against enumeration, rules, bad instances."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from cpfr.exceptions import InfeasibleError, InputError
from cpfr.inventory.demand import Demand
from cpfr.network.allocation import (
    AllocationPoint,
    GroupMinimum,
    allocate,
    expected_sales,
    negative_binomial,
)
from cpfr.network.instances import solve_instance


def _best_by_enumeration(
    points: Sequence[AllocationPoint],
    quantity: int,
    pack_size: int = 1,
    minimums: Sequence[GroupMinimum] = (),
) -> float:
    """The largest expected sales over every allocation of whole packs meeting every rule."""
    packs = quantity // pack_size
    best = -np.inf
    for split in itertools.product(range(packs + 1), repeat=len(points)):
        if sum(split) != packs:
            continue
        units = [count * pack_size for count in split]
        if any(
            a < point.min_units or (point.capacity is not None and a > point.capacity)
            for a, point in zip(units, points, strict=True)
        ):
            continue
        if any(
            sum(a for a, p in zip(units, points, strict=True) if getattr(p, rule.dimension) == rule.group)
            < rule.units
            for rule in minimums
        ):
            continue
        value = sum(float(expected_sales(p.demand, a)) for a, p in zip(units, points, strict=True))
        best = max(best, value)
    return best


def _points(seed: int, count: int) -> list[AllocationPoint]:
    rng = np.random.default_rng(seed)
    points = []
    for position in range(count):
        mean = float(rng.uniform(0.5, 6.0))
        kind = position % 3
        if kind == 0:
            demand = Demand.poisson(mean)
        elif kind == 1:
            demand = negative_binomial(mean, float(rng.uniform(0.5, 5.0)))
        else:
            samples = rng.integers(0, 9, size=5).astype(float)
            demand = Demand.discrete(samples, np.full(5, 0.2))
        points.append(AllocationPoint(f"P{position}", f"C{position % 2}", str(1 + position % 3), demand))
    return points


@pytest.mark.parametrize("seed", range(6))
def test_greedy_and_milp_equal_enumeration_without_side_constraints(seed: int) -> None:
    points = _points(seed, 2 + seed % 3)
    quantity = 6 + 2 * seed
    best = _best_by_enumeration(points, quantity)
    greedy = allocate(points, quantity)
    milp = allocate(points, quantity, method="milp")
    assert greedy.method == "marginal" and milp.method == "milp"
    assert greedy.units.sum() == quantity == milp.units.sum()
    assert greedy.expected_sales.sum() == pytest.approx(best, abs=1e-9)
    assert milp.expected_sales.sum() == pytest.approx(best, abs=1e-7)


@pytest.mark.parametrize("pack_size", [2, 3])
def test_packs_are_whole_and_optimal(pack_size: int) -> None:
    points = _points(11, 3)
    quantity = 4 * pack_size
    answer = allocate(points, quantity, pack_size=pack_size)
    assert (answer.units % pack_size == 0).all()
    assert answer.expected_sales.sum() == pytest.approx(
        _best_by_enumeration(points, quantity, pack_size), abs=1e-9
    )


def test_capacity_and_point_floors_are_kept_and_optimal() -> None:
    base = _points(3, 3)
    points = [
        AllocationPoint(base[0].point_id, "C0", "1", Demand.poisson(9.0), capacity=3),
        AllocationPoint(base[1].point_id, "C1", "2", base[1].demand, min_units=4),
        base[2],
    ]
    answer = allocate(points, 10)
    assert answer.units[0] <= 3 and answer.units[1] >= 4 and answer.method == "marginal"
    assert answer.expected_sales.sum() == pytest.approx(_best_by_enumeration(points, 10), abs=1e-9)


def test_a_binding_tier_floor_goes_to_the_milp_and_matches_enumeration() -> None:
    points = [
        AllocationPoint("A", "JD_ONLINE", "1", Demand.poisson(9.0)),
        AllocationPoint("B", "JD_MALL", "1", Demand.poisson(6.0)),
        AllocationPoint("C", "JD_MALL", "3", Demand.poisson(1.0)),
        AllocationPoint("D", "JD_HA", "3", negative_binomial(1.5, 1.0)),
    ]
    rules = [GroupMinimum("tier", "3", 5), GroupMinimum("channel", "JD_MALL", 6)]
    unconstrained = allocate(points, 12)
    assert unconstrained.units[2:].sum() < 5  # the rule binds
    answer = allocate(points, 12, minimums=rules)
    assert answer.method == "milp" and answer.units[2:].sum() >= 5 and answer.units[1:3].sum() >= 6
    assert answer.expected_sales.sum() == pytest.approx(_best_by_enumeration(points, 12, 1, rules), abs=1e-7)


def test_a_floor_the_greedy_already_meets_keeps_the_greedy() -> None:
    points = _points(5, 3)
    answer = allocate(points, 9, minimums=[GroupMinimum("tier", "1", 1)])
    assert answer.method == "marginal" and answer.gap == 0


def test_capacity_below_the_quantity_leaves_units_unallocated() -> None:
    points = [AllocationPoint("A", "X", "1", Demand.poisson(5.0), capacity=4)]
    assert allocate(points, 10).units.tolist() == [4]


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": "allocation",
        "quantity": 20,
        "pack_size": 2,
        "points": [
            {"id": "S1", "channel": "JD_MALL", "tier": 3, "demand": {"distribution": "poisson", "mean": 8}},
            {
                "id": "S2",
                "channel": "JD_ONLINE",
                "tier": 1,
                "demand": {"distribution": "negative_binomial", "mean": 12, "dispersion": 2},
                "capacity": 14,
            },
            {
                "id": "S3",
                "channel": "JD_ONLINE",
                "tier": 2,
                "demand": {"distribution": "empirical", "samples": [0, 2, 4, 6]},
                "min_units": 2,
            },
        ],
        "min_share": {"tier": {"3": 0.6}},
    }
    document.update(changes)
    return document


def test_a_document_is_solved_with_its_summaries() -> None:
    result = solve_instance(_document(), label="launch.json")
    assert result["kind"] == "allocation" and result["method"] == "milp"
    assert sum(result["allocation"].values()) == 20 and result["unallocated"] == 0
    assert result["allocation"]["S1"] >= 12 and result["allocation"]["S3"] >= 2
    assert result["by_tier"]["3"]["units"] == result["allocation"]["S1"]
    assert (
        result["by_channel"]["JD_ONLINE"]["units"] == result["allocation"]["S2"] + result["allocation"]["S3"]
    )
    assert result["fill_rate"] == pytest.approx(result["expected_sales"] / result["expected_demand"])
    assert result["expected_lost_sales"] == pytest.approx(
        result["expected_demand"] - result["expected_sales"]
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": -5}, "quantity: expected a whole number >= 0"),
        ({"quantity": 21}, "not a whole number of packs of 2"),
        (
            {
                "points": [
                    {"id": "S1", "channel": "C", "tier": 1, "demand": {"distribution": "gamma", "mean": 1}}
                ]
            },
            "points[0].demand.distribution: expected one of",
        ),
        ({"min_share": {"tier": {"3": 0.7, "1": 0.5}}}, "min_share.tier: shares sum to 1.2, more than 1"),
        ({"min_share": {"channel": {"JD_HA": 0.1}}}, "min_share.channel.JD_HA: no point has channel JD_HA"),
        ({"pack_size": 0}, "pack_size: expected a whole number >= 1"),
    ],
)
def test_bad_documents_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match="launch.json: .*" + message.replace("[", r"\[").replace(".", r"\.")):
        solve_instance(_document(**changes), label="launch.json")


def test_floors_above_the_supply_are_infeasible_in_words() -> None:
    document = _document(min_units={"tier": {"3": 30}}, min_share={})
    with pytest.raises(InfeasibleError, match="tier 3 must get at least 30 units"):
        solve_instance(document, label="launch.json")
    with pytest.raises(InfeasibleError, match="floors add up to"):
        allocate([AllocationPoint("A", "X", "1", Demand.poisson(1.0), min_units=5)], 4)


def test_packs_beyond_every_demand_are_spread_pro_rata_not_piled_on_the_first_point() -> None:
    points = [
        AllocationPoint("A", "X", "1", Demand.discrete([0.0, 1.0], [0.5, 0.5])),
        AllocationPoint("B", "X", "1", Demand.discrete([0.0, 1.0], [0.75, 0.25])),
    ]
    answer = allocate(points, 101)
    assert answer.units.tolist() == [67, 34]  # 1 each sells; the 99 left go 2:1 like the means
