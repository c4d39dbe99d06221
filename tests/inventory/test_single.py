"""Single-stage policies pinned to the worked examples of Snyder & Shen (2019) and checked by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cpfr.exceptions import InputError
from cpfr.inventory.demand import Demand
from cpfr.inventory.single import (
    base_stock,
    cycle_service_base_stock,
    eoq,
    eoq_all_units_discount,
    fill_rate_base_stock,
    newsvendor,
    newsvendor_cost,
    r_q,
    r_q_cost,
    s_S,
    wagner_whitin,
)


def test_newsvendor_normal_example_4_3() -> None:
    result = newsvendor(0.18, 0.70, Demand.normal(50, 8))
    assert result.base_stock == pytest.approx(56.6040, abs=1e-4)
    assert result.expected_cost == pytest.approx(1.9976, abs=1e-4)
    assert result.critical_ratio == pytest.approx(0.70 / 0.88)


def test_newsvendor_poisson_and_discrete_are_the_brute_force_minimum() -> None:
    demand = Demand.poisson(50)
    result = newsvendor(0.18, 0.70, demand)
    assert (result.base_stock, round(result.expected_cost, 4)) == (56.0, 1.7972)
    costs = [newsvendor_cost(level, 0.18, 0.70, demand) for level in range(30, 80)]
    assert 30 + int(np.argmin(costs)) == 56
    empirical = Demand.discrete([0, 1, 2, 3, 4], [0.1, 0.2, 0.4, 0.2, 0.1])
    found = newsvendor(1.0, 3.0, empirical)  # ratio 0.75: P(D <= 2) = 0.7, P(D <= 3) = 0.9
    assert found.base_stock == 3.0
    assert found.expected_cost == pytest.approx(1.0 * (3 * 0.1 + 2 * 0.2 + 1 * 0.4) + 3.0 * (1 * 0.1))


def test_newsvendor_from_forecast_quantiles_matches_the_distribution_they_come_from() -> None:
    levels = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    quantiles = stats.norm.ppf(levels, 100, 20)
    result = newsvendor(1.0, 9.0, Demand.from_quantiles(levels, quantiles))
    exact = newsvendor(1.0, 9.0, Demand.normal(100, 20))
    assert result.base_stock == pytest.approx(exact.base_stock, rel=0.002)
    assert result.expected_cost == pytest.approx(exact.expected_cost, rel=0.01)


def test_base_stock_uses_demand_over_lead_time_plus_one_periods() -> None:
    result = base_stock(0.18, 0.70, Demand.normal(50, 8), lead_time=3)
    assert result.base_stock == pytest.approx(200 + stats.norm.ppf(0.70 / 0.88) * 16)
    discrete = Demand.discrete([0, 1], [0.5, 0.5])
    two = base_stock(1, 1, discrete, lead_time=1)  # demand over 2 periods: 0, 1, 2 w.p. 1/4, 1/2, 1/4
    assert two.base_stock == 1.0


def test_service_level_base_stocks() -> None:
    demand = Demand.normal(50, 8)
    assert cycle_service_base_stock(demand, 0, 0.95) == pytest.approx(50 + 1.6448536 * 8, abs=1e-5)
    level = fill_rate_base_stock(demand, 0, 0.99)
    assert float(Demand.normal(50, 8).shortfall(level)) == pytest.approx(0.01 * 50, abs=1e-8)
    poisson_level = fill_rate_base_stock(Demand.poisson(4), 1, 0.95)
    protection = Demand.poisson(8)
    assert protection.shortfall(poisson_level) <= 0.05 * 4 < protection.shortfall(poisson_level - 1)


def test_eoq_example_and_all_units_discounts() -> None:
    result = eoq(8, 0.225, 1300)
    assert result.order_quantity == pytest.approx(304.0468, abs=1e-4)
    assert result.expected_cost == pytest.approx(68.4105, abs=1e-4)
    discounted = eoq_all_units_discount(150, 0.25, 2400, [0, 100, 200], [100, 90, 80])
    assert (discounted.order_quantity, discounted.expected_cost) == (200.0, 195800.0)
    # Brute force over a fine grid of quantities.
    grid = np.linspace(1, 1000, 99901)
    unit = np.where(grid >= 200, 80, np.where(grid >= 100, 90, 100))
    brute = unit * 2400 + 150 * 2400 / grid + 0.25 * unit * grid / 2
    assert discounted.expected_cost <= brute.min() + 1e-6


def test_r_q_normal_example_5_1_is_optimal() -> None:
    result = r_q(0.225, 7.5, 8, Demand.normal(1300, 150), 1 / 12)
    assert result.reorder_point == pytest.approx(126.8671, abs=1e-3)
    assert result.order_quantity == pytest.approx(328.4491, abs=1e-3)
    assert result.expected_cost == pytest.approx(78.0711, abs=1e-3)
    lead = Demand.normal(1300 / 12, 150 * np.sqrt(1 / 12))
    for dr, dq in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1)):
        other = r_q_cost(result.reorder_point + dr, result.order_quantity + dq, 0.225, 7.5, 8, lead, 1300)
        assert other > result.expected_cost


def test_r_q_poisson_federgruen_zheng() -> None:
    result = r_q(20, 150, 100, Demand.poisson(1.5), 2)
    assert (result.reorder_point, result.order_quantity) == (3.0, 5.0)
    assert result.expected_cost == pytest.approx(107.9236, abs=1e-4)
    lead = Demand.poisson(3.0)
    brute = min((r_q_cost(r, q, 20, 150, 100, lead, 1.5), r, q) for r in range(-2, 12) for q in range(1, 20))
    assert brute[1:] == (3, 5)


def test_s_S_example_4_7() -> None:
    result = s_S(1, 4, 5, Demand.poisson(6))
    assert (result.reorder_point, result.order_up_to) == (4.0, 10.0)
    assert result.expected_cost == pytest.approx(8.0341, abs=1e-4)


def test_wagner_whitin_example() -> None:
    result = wagner_whitin([90, 120, 80, 70], fixed_cost=500, holding_cost=2)
    assert result.order_quantities == (210.0, 0.0, 150.0, 0.0)
    assert result.expected_cost == 1380.0
    # Every other ordering plan (orders in a subset of periods containing period 1) costs more or the same.
    demand = np.array([90, 120, 80, 70])
    for mask in range(8):
        periods = [0] + [k for k in range(1, 4) if mask >> (k - 1) & 1]
        cost = 500 * len(periods)
        for position, start in enumerate(periods):
            end = periods[position + 1] if position + 1 < len(periods) else 4
            cost += 2 * sum(demand[t] * (t - start) for t in range(start, end))
        assert cost >= result.expected_cost


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: newsvendor(-1, 1, Demand.normal(1, 1)), "holding_cost"),
        (lambda: newsvendor(1, 0, Demand.normal(1, 1)), "stockout_cost"),
        (lambda: Demand.normal(1, 0), "demand.sd"),
        (lambda: Demand.discrete([1, 2], [0.5, 0.6]), "summing to 1"),
        (lambda: s_S(1, 1, 1, Demand.normal(5, 1)), "discrete"),
        (lambda: s_S(1, 1, 1, Demand.discrete([0.5, 1.5], [0.5, 0.5])), "whole units"),
    ],
)
def test_bad_parameters_name_the_field(call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()


def _markov_cost(s: int, big_s: int, h: float, p: float, k: float, demand: Demand) -> float:
    """Long-run cost of (s,S) from the stationary distribution of the post-order inventory position."""
    values, pmf = demand.support()
    states = np.arange(s + 1, big_s + 1)
    transition = np.zeros((len(states), len(states)))
    orders = np.zeros(len(states))
    for row, position in enumerate(states):
        for value, weight in zip(values.astype(int), pmf, strict=True):
            after = position - value
            if after <= s:
                transition[row, -1] += weight
                orders[row] += weight
            else:
                transition[row, after - s - 1] += weight
    eigen_values, eigen_vectors = np.linalg.eig(transition.T)
    stationary = np.real(eigen_vectors[:, np.argmin(np.abs(eigen_values - 1))])
    stationary /= stationary.sum()
    costs = np.array([h * float(demand.excess(y)) + p * float(demand.shortfall(y)) for y in states])
    return float(stationary @ costs + k * stationary @ orders)


def test_s_S_is_the_brute_force_optimum_by_markov_chain() -> None:
    demand = Demand.discrete([0, 1, 2, 3, 5, 8], [0.15, 0.25, 0.25, 0.15, 0.12, 0.08])
    result = s_S(1.0, 9.0, 12.0, demand)
    brute = min(
        (_markov_cost(s, big, 1.0, 9.0, 12.0, demand), s, big)
        for s in range(-3, 10)
        for big in range(s + 1, 25)
    )
    assert (result.reorder_point, result.order_up_to) == (brute[1], brute[2])
    assert result.expected_cost == pytest.approx(brute[0], rel=1e-9)
