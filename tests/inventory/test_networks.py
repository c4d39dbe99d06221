"""Multi-echelon solvers: serial (Clark-Scarf), guaranteed service on trees, one warehouse with many locations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cpfr.inventory.serial as serial_module
from cpfr.exceptions import InputError
from cpfr.inventory.demand import Demand
from cpfr.inventory.distribution import Location, distribution_base_stock
from cpfr.inventory.gsm import GSMStage, gsm_tree
from cpfr.inventory.serial import SerialStage, serial_base_stock
from cpfr.inventory.single import newsvendor

EXAMPLE_6_1 = [SerialStage(1, 3, 1), SerialStage(2, 2, 1), SerialStage(3, 2, 2)]


def test_serial_example_6_1() -> None:
    """Snyder & Shen Example 6.1: echelon levels 6.49, 12.02, 22.71 (stockpyl's coarse grid: 6.51, 12.01, 22.70)."""
    result = serial_base_stock(EXAMPLE_6_1, stockout_cost=37.12, demand_mean=5, demand_sd=1)
    assert result.base_stock[1] == pytest.approx(6.4909, abs=1e-3)
    assert result.base_stock[2] == pytest.approx(12.0176, abs=1e-3)
    assert result.base_stock[3] == pytest.approx(22.7055, abs=1e-3)
    assert result.expected_cost == pytest.approx(47.6601, abs=1e-3)
    assert result.local_base_stock[2] == pytest.approx(result.base_stock[2] - result.base_stock[1])


def test_serial_converges_as_the_grid_is_refined(monkeypatch: pytest.MonkeyPatch) -> None:
    fine = serial_base_stock(EXAMPLE_6_1, 37.12, 5, 1)
    monkeypatch.setattr(serial_module, "_GRID", 240_000)
    finer = serial_base_stock(EXAMPLE_6_1, 37.12, 5, 1)
    assert abs(fine.expected_cost - finer.expected_cost) < 1e-5
    for stage in fine.base_stock:
        assert abs(fine.base_stock[stage] - finer.base_stock[stage]) < 1e-4


def test_one_stage_serial_is_the_newsvendor_on_lead_time_demand() -> None:
    result = serial_base_stock([SerialStage("store", 0.18, 3)], 0.70, 50, 8)
    exact = newsvendor(0.18, 0.70, Demand.normal(150, 8 * np.sqrt(3)))
    assert result.base_stock["store"] == pytest.approx(exact.base_stock, abs=1e-4)
    assert result.expected_cost == pytest.approx(exact.expected_cost, abs=1e-5)


EXAMPLE_6_5 = [
    GSMStage(1, 2, 1, external_inbound_cst=1),
    GSMStage(3, 1, 2),
    GSMStage(2, 1, 3, demand_sd=1, max_outbound_cst=0),
    GSMStage(4, 1, 3, demand_sd=1, max_outbound_cst=1),
]


def test_gsm_tree_example_6_5() -> None:
    result = gsm_tree(EXAMPLE_6_5, [(1, 3), (3, 2), (3, 4)], service_level=float(stats.norm.cdf(1)))
    assert result.committed_service_time == {1: 0, 3: 0, 2: 0, 4: 1}
    assert result.expected_cost == pytest.approx(8.277917, abs=1e-6)


def test_gsm_tree_equals_brute_force_on_a_random_tree() -> None:
    rng = np.random.default_rng(4)
    stages = [GSMStage(0, 2, 1.0, external_inbound_cst=1)]
    edges = []
    for node in range(1, 7):
        parent = int(rng.integers(0, node))
        leaf_demand = node >= 4
        stages.append(
            GSMStage(
                node,
                int(rng.integers(1, 3)),
                float(rng.uniform(1, 4)),
                demand_sd=float(rng.uniform(1, 3)) if leaf_demand else 0.0,
                max_outbound_cst=int(rng.integers(0, 2)) if leaf_demand else None,
            )
        )
        edges.append((parent, node))
    result = gsm_tree(stages, edges, 0.95)
    z = stats.norm.ppf(0.95)
    children = {stage.id: [d for u, d in edges if u == stage.id] for stage in stages}
    parents = {d: u for u, d in edges}

    def sd(node: int) -> float:
        return float(np.sqrt(stages[node].demand_sd ** 2 + sum(sd(c) ** 2 for c in children[node])))

    best = np.inf
    for choice in np.ndindex(*(4,) * len(stages)):
        cost = 0.0
        for stage in stages:
            inbound = choice[parents[stage.id]] if stage.id in parents else stage.external_inbound_cst
            net = inbound + stage.processing_time - choice[stage.id]
            if net < 0 or (stage.max_outbound_cst is not None and choice[stage.id] > stage.max_outbound_cst):
                cost = np.inf
                break
            cost += stage.holding_cost * z * sd(stage.id) * np.sqrt(net)
        best = min(best, cost)
    assert result.expected_cost == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([(1, 3), (3, 2), (3, 4), (4, 1)], "cycle"),
        ([(1, 3), (3, 2), (3, 9)], "not among nodes"),
        ([(1, 3), (3, 2), (2, 3)], "not a tree|cycle"),
    ],
)
def test_gsm_rejects_networks_that_are_not_trees(edges, message: str) -> None:
    with pytest.raises(InputError, match=message):
        gsm_tree(EXAMPLE_6_5, edges, 0.95)


LOCATIONS = [Location("A", 1, 2, 20, 1.0), Location("B", 2, 2, 20, 2.0), Location("C", 1, 3, 30, 0.5)]


def simulate(
    lead_time: float, holding: float, locations, warehouse: int, levels: dict, horizon: float, seed: int
):
    """Event-free simulation of one-for-one FCFS replenishment: unit k serves the request S positions later."""
    rng = np.random.default_rng(seed)
    rates = np.array([location.demand_mean for location in locations])
    count = rng.poisson(rates.sum() * horizon)
    times = np.sort(rng.uniform(0, horizon, count))
    owner = rng.choice(len(locations), count, p=rates / rates.sum())
    released = times.copy()
    released[warehouse:] = np.maximum(times[warehouse:], times[: count - warehouse] + lead_time)
    cost = holding * np.maximum(0, times[warehouse:] - times[: count - warehouse] - lead_time).sum() / horizon
    fills = {}
    for index, location in enumerate(locations):
        mine = np.flatnonzero(owner == index)
        arrive, asked, level = released[mine] + location.lead_time, times[mine], levels[location.id]
        wait = np.maximum(0, arrive[: len(mine) - level] - asked[level:])
        hold = np.maximum(0, asked[level:] - arrive[: len(mine) - level])
        cost += (location.stockout_cost * wait.sum() + location.holding_cost * hold.sum()) / horizon
        fills[location.id] = float(np.mean(wait == 0))
    return cost, fills


def test_distribution_exact_cost_and_fill_rates_match_simulation() -> None:
    result = distribution_base_stock(2, 1, LOCATIONS)
    cost, fills = simulate(2, 1, LOCATIONS, result.warehouse_base_stock, result.base_stock, 400_000.0, seed=1)
    assert result.expected_cost == pytest.approx(cost, rel=0.01)
    for location in LOCATIONS:
        assert result.fill_rate[location.id] == pytest.approx(fills[location.id], abs=0.005)
    # The METRIC approximation misjudges the same policy by more than the exact evaluation does.
    assert abs(result.metric_cost - cost) > abs(result.expected_cost - cost)


def test_distribution_choice_is_the_best_over_warehouse_levels() -> None:
    best = distribution_base_stock(2, 1, LOCATIONS)
    for level in range(0, 15):
        capped = distribution_base_stock(2, 1, LOCATIONS, max_warehouse_stock=level)
        assert capped.expected_cost >= best.expected_cost - 1e-12


def test_distribution_without_warehouse_lead_time_is_independent_newsvendors() -> None:
    result = distribution_base_stock(0, 1, LOCATIONS)
    assert result.warehouse_base_stock == 0
    for location in LOCATIONS:
        alone = newsvendor(
            location.holding_cost,
            location.stockout_cost,
            Demand.poisson(location.demand_mean * location.lead_time),
        )
        assert result.base_stock[location.id] == alone.base_stock
