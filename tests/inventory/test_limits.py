"""Bounds of work and time limits of the inventory solvers (issue 10), and the answers they keep."""

from __future__ import annotations

import numpy as np
import pytest

from cpfr.exceptions import InputError, LimitError, SolverLimitError
from cpfr.inventory.demand import Demand
from cpfr.inventory.distribution import Location, distribution_base_stock
from cpfr.inventory.gsm import GSMStage, gsm_tree
from cpfr.inventory.limits import Deadline
from cpfr.inventory.serial import SerialStage, serial_base_stock
from cpfr.inventory.single import base_stock, newsvendor, r_q, r_q_cost, s_S, wagner_whitin


def test_a_poisson_support_beyond_the_bound_is_refused_before_it_is_built() -> None:
    with pytest.raises(LimitError, match="1,000,000 at most supported"):
        Demand.poisson(1e7).support()
    with pytest.raises(LimitError, match="1e9"):
        Demand.poisson(2e9)
    with pytest.raises(LimitError, match="1,000,000 at most supported"):
        s_S(1, 4, 5, Demand.poisson(5e6))


def test_closed_forms_still_take_a_poisson_mean_of_a_billion() -> None:
    result = newsvendor(1, 1e9, Demand.poisson(1e9))
    assert np.isfinite(result.base_stock) and result.base_stock > 1e9
    assert np.isfinite(result.expected_cost)


@pytest.mark.parametrize(
    ("solve", "message"),
    [
        (lambda: s_S(1, 4, 1e9, Demand.poisson(100)), r"s_S: an order size S - s of about .* at most 20,000"),
        (
            lambda: r_q(1, 4, 1e9, Demand.poisson(1e4), 1),
            r"r_Q: an order quantity of about .* at most 1,000,000",
        ),
        (lambda: wagner_whitin([1.0] * 10_001, 1, 1), "at most 10,000"),
        (
            lambda: gsm_tree(
                [GSMStage(k, 100, 1, 0, 0, 1) for k in range(30)], [(k, k + 1) for k in range(29)], 0.9
            ),
            "cells, at most 20,000,000",
        ),
        (
            lambda: distribution_base_stock(10, 1, [Location(k, 1, 1, 10, 10) for k in range(50)]),
            "at most 20,000,000",
        ),
        (
            lambda: base_stock(1, 1, Demand.discrete(np.arange(5000) * 0.37, np.full(5000, 1 / 5000)), 2),
            "pairs",
        ),
    ],
)
def test_work_beyond_the_bounds_is_refused_up_front(solve: object, message: str) -> None:
    with pytest.raises(LimitError, match=message):
        solve()  # type: ignore[operator]


@pytest.mark.parametrize(
    "solve",
    [
        lambda: s_S(1, 4, 5, Demand.poisson(6), time_limit_seconds=1e-9),
        lambda: r_q(1, 4, 5, Demand.poisson(6), 1, time_limit_seconds=1e-9),
        lambda: r_q(1, 4, 5, Demand.normal(60, 8), 1, time_limit_seconds=1e-9),
        lambda: wagner_whitin([1.0] * 300, 1, 1, time_limit_seconds=1e-9),
        lambda: gsm_tree([GSMStage(1, 1, 1, 0, 0, 1)], [], 0.9, time_limit_seconds=1e-9),
        lambda: serial_base_stock([SerialStage(1, 1, 1)], 10, 5, 1, time_limit_seconds=1e-9),
        lambda: distribution_base_stock(1, 1, [Location("a", 1, 1, 10, 1)], time_limit_seconds=1e-9),
        lambda: base_stock(1, 1, Demand.discrete([0, 1], [0.5, 0.5]), 3, time_limit_seconds=1e-9),
    ],
)
def test_every_iterative_solver_stops_at_its_time_limit(solve: object) -> None:
    with pytest.raises(SolverLimitError, match="time limit"):
        solve()  # type: ignore[operator]


def test_a_time_limit_must_be_positive_and_finite() -> None:
    for seconds in (0, -1, float("nan"), float("inf")):
        with pytest.raises(InputError, match="time_limit_seconds"):
            Deadline(seconds, "s_S")


def test_a_stock_level_is_never_negative() -> None:
    # Ratio 1/11 on a wide normal: the fractile is mu - 1.34 sigma = -6.6; the best level >= 0 is 0.
    result = newsvendor(10, 1, Demand.normal(0.1, 5))
    assert result.base_stock == 0.0
    assert result.expected_cost == pytest.approx(
        10 * float(Demand.normal(0.1, 5).excess(0.0)) + float(Demand.normal(0.1, 5).shortfall(0.0))
    )
    assert base_stock(10, 1, Demand.normal(0.1, 5), 0).base_stock == 0.0


def test_poisson_r_q_with_orders_far_above_the_demand_support_is_exact() -> None:
    # Q* ~ 15,800 while lead-time demand lives within 0 .. 150: the window must grow past its table.
    demand = Demand.poisson(100)
    result = r_q(1, 4, 1e6, demand, 1)
    assert result.order_quantity > 15_000
    lead = Demand.poisson(100)
    for reorder, quantity in (
        (result.reorder_point - 1, result.order_quantity + 1),
        (result.reorder_point + 1, result.order_quantity - 1),
    ):
        assert r_q_cost(reorder, quantity, 1, 4, 1e6, lead, 100) >= result.expected_cost - 1e-9


def test_discrete_sums_on_whole_units_use_the_lattice_and_agree_with_pairwise_sums() -> None:
    demand = Demand.discrete([0, 1, 3], [0.2, 0.5, 0.3])
    lattice = demand.over_periods(5)
    values, pmf = demand.values, demand.probabilities
    for _ in range(4):
        sums = (values[:, None] + demand.values[None, :]).ravel()
        weights = (pmf[:, None] * demand.probabilities[None, :]).ravel()
        values, inverse = np.unique(sums, return_inverse=True)
        pmf = np.bincount(inverse, weights=weights)
    np.testing.assert_allclose(lattice.values, values)
    np.testing.assert_allclose(lattice.probabilities, pmf, atol=1e-15)
    long = Demand.discrete(np.arange(100), np.full(100, 0.01)).over_periods(1000)  # was a 60 s loop
    assert long.mean == pytest.approx(49.5 * 1000)


def test_the_discrete_loss_function_matches_its_definition() -> None:
    demand = Demand.discrete([0, 2, 5, 9], [0.1, 0.4, 0.3, 0.2])
    levels = np.array([-1.0, 0.0, 1.5, 2.0, 7.0, 9.0, 12.0])
    exact = np.array(
        [
            sum(p * max(v - y, 0) for v, p in zip([0, 2, 5, 9], [0.1, 0.4, 0.3, 0.2], strict=True))
            for y in levels
        ]
    )
    np.testing.assert_allclose(demand.shortfall(levels), exact, atol=1e-12)


def test_service_levels_below_one_half_are_refused_by_the_gsm() -> None:
    with pytest.raises(InputError, match=r">= 0\.5"):
        gsm_tree([GSMStage(1, 1, 1, 0, 0, 1)], [], 0.3)


def test_deep_gsm_chains_need_no_recursion() -> None:
    # A chain of 1,000 stages (Python's recursion limit), processing times 0 but the first's.
    stages = [GSMStage(k, 1 if k == 0 else 0, 1, 0, 0, 1 if k == 999 else 0) for k in range(1000)]
    result = gsm_tree(stages, [(k, k + 1) for k in range(999)], 0.9)
    assert len(result.committed_service_time) == 1000


def test_a_billion_unit_backlog_is_ordered_in_a_bisection_not_a_grid() -> None:
    import time

    from cpfr.inventory.replenish import plan_orders

    paths = np.random.default_rng(0).poisson(5, size=(1, 2_000, 300)).astype(float)
    started = time.monotonic()
    backlog = plan_orders(
        ["a"],
        paths,
        np.array([-1e9]),
        np.zeros((1, 0)),
        lead_time=0,
        review_period=300,
        holding_cost=1,
        shortage_cost=9,
    ).orders
    plain = plan_orders(
        ["a"],
        paths,
        np.array([0.0]),
        np.zeros((1, 0)),
        lead_time=0,
        review_period=300,
        holding_cost=1,
        shortage_cost=9,
    ).orders
    assert time.monotonic() - started < 10  # the grid search took minutes
    assert backlog["order_qty"].iloc[0] == 1_000_000_000 + plain["order_qty"].iloc[0]
    with pytest.raises(LimitError, match="an order of about 1e\\+13 units"):
        plan_orders(
            ["a"],
            paths,
            np.array([-1e13]),
            np.zeros((1, 0)),
            lead_time=0,
            review_period=300,
            holding_cost=1,
            shortage_cost=9,
        )


def test_a_subnormal_demand_rate_is_refused_not_passed_to_scipy() -> None:
    # Found by the hostile-instance campaign: scipy's binomial overflows on a share of 1e-308.
    from cpfr.inventory.instances import solve_instance

    with pytest.raises(InputError, match=r"expected a Poisson mean >= 1e-9"):
        distribution_base_stock(
            2, 1, [Location("a", 1, 2, 20, 2.2250738585072014e-308), Location("b", 1, 2, 20, 2)]
        )
    location = {"lead_time": 1, "holding_cost": 2, "stockout_cost": 20}
    instance = {
        "kind": "distribution",
        "warehouse": {"lead_time": 2, "holding_cost": 1},
        "locations": [
            {"id": "a", **location, "demand": {"distribution": "poisson", "mean": 2.2250738585072014e-308}},
            {"id": "b", **location, "demand": {"distribution": "poisson", "mean": 2}},
        ],
    }
    with pytest.raises(InputError, match=r"locations\[0\].demand.mean: expected a finite number >= 1e-9"):
        solve_instance(instance)
