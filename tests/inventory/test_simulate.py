"""The policy simulator: hand-checked periods, and long runs that reproduce the exact base-stock cost."""

from __future__ import annotations

import numpy as np
import pytest

from cpfr.exceptions import InputError
from cpfr.inventory.demand import Demand
from cpfr.inventory.simulate import order_up_to, reorder_point, simulate
from cpfr.inventory.single import base_stock


def test_hand_checked_periods_lost_sales() -> None:
    """Up to 6, L = 1, 5 on hand, demand 3 a period: orders 1, 3, 3, 3; end stock 2, 0, 0, 0."""
    demand = np.array([[3.0, 3.0, 3.0, 3.0]])
    result = simulate(
        demand,
        order_up_to(np.array([6.0])),
        lead_time=1,
        holding_cost=0.5,
        shortage_cost=4.0,
        on_hand=np.array([5.0]),
        pipeline=np.array([[0.0]]),
    )
    assert result.on_hand.tolist() == [[2.0, 0.0, 0.0, 0.0]]
    row = result.per_item.iloc[0]
    assert row["ordered"] == 10.0
    assert row["holding_cost"] == 1.0 and row["shortage_cost"] == 0.0
    assert row["fill_rate"] == 1.0 and row["cycle_service_level"] == 1.0


def test_lost_sales_and_backorders_differ_after_a_stockout() -> None:
    demand = np.array([[8.0, 1.0, 1.0]])
    common = {
        "lead_time": 1,
        "holding_cost": 1.0,
        "shortage_cost": 10.0,
        "on_hand": np.array([5.0]),
        "pipeline": np.array([[0.0]]),
    }
    rule = order_up_to(np.array([5.0]))
    lost = simulate(demand, rule, lost_sales=True, **common)
    back = simulate(demand, rule, lost_sales=False, **common)
    # Period 0 orders nothing (position 5) and 3 units are short. In period 1 the order placed then arrives only
    # in period 2, so 1 more unit is short. Lost: 4 lost. Backorders: 3, then 4 units owed at period ends.
    assert lost.per_item["short_units"].iloc[0] == 4.0
    assert lost.per_item["shortage_cost"].iloc[0] == 40.0
    assert back.per_item["shortage_cost"].iloc[0] == 70.0
    assert back.per_item["short_units"].iloc[0] == 4.0
    assert lost.per_item["fill_rate"].iloc[0] == pytest.approx(6 / 10)
    assert back.per_item["fill_rate"].iloc[0] == pytest.approx(6 / 10)
    assert lost.per_item["cycle_service_level"].iloc[0] == pytest.approx(1 / 3)
    assert back.on_hand.tolist() == [[0.0, 0.0, 3.0]]


def test_long_run_cost_matches_the_exact_base_stock_cost() -> None:
    """Backorders, Poisson(5) a period, L = 2: the base-stock level of demand over L + 1 periods."""
    exact = base_stock(1.0, 9.0, Demand.poisson(5.0), lead_time=2)
    demand = np.random.default_rng(0).poisson(5.0, size=(20, 20_000)).astype(float)
    level = np.full(20, exact.base_stock)
    result = simulate(
        demand,
        order_up_to(level),
        lead_time=2,
        holding_cost=1.0,
        shortage_cost=9.0,
        lost_sales=False,
        on_hand=level,
        pipeline=np.zeros((20, 2)),
    )
    per_period = result.summary["total_cost"] / (20 * 20_000)
    assert per_period == pytest.approx(exact.expected_cost, rel=0.02)


def test_review_period_and_s_S_rule() -> None:
    demand = np.full((1, 6), 2.0)
    result = simulate(
        demand,
        reorder_point(np.array([10.0]), np.array([4.0])),
        lead_time=0,
        review_period=2,
        holding_cost=1.0,
        shortage_cost=1.0,
        on_hand=np.array([10.0]),
    )
    # Reviews at periods 0, 2, 4: positions 10, 6, 2 -> orders 0, 0, 8.
    assert result.per_item["ordered"].iloc[0] == 8.0
    assert result.on_hand.tolist() == [[8.0, 6.0, 4.0, 2.0, 8.0, 6.0]]


def test_bad_demand_is_refused() -> None:
    with pytest.raises(InputError, match="demand"):
        simulate(
            np.array([[1.0, -1.0]]),
            order_up_to(np.array([1.0])),
            lead_time=0,
            holding_cost=1,
            shortage_cost=1,
        )
