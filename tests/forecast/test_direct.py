"""Demand distributions for replenishment: censored periods left out, seasonality, spread and the lost-sales order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cpfr.forecast.direct import Panel, fit_alpha, forecast_demand, panel_from_long, seasonal_index
from cpfr.inventory.replenish import replenish_panel
from cpfr.inventory.simulate import order_up_to, simulate

HOLDING, SHORTAGE = 0.2, 1.0
RATIO = SHORTAGE / (SHORTAGE + HOLDING)


def _panel(values: np.ndarray, observed: np.ndarray | None = None) -> Panel:
    seen = np.ones(values.shape, dtype=bool) if observed is None else observed
    return Panel([f"item{i}" for i in range(values.shape[0])], values.astype(float), seen)


def test_censored_periods_are_left_out_not_learned_as_low_demand() -> None:
    rng = np.random.default_rng(1)
    demand = rng.poisson(4.0, size=(150, 80)).astype(float)
    out = rng.random(demand.shape) < 0.3  # a stock-out: only one unit was on the shelf
    sales = np.where(out, np.minimum(demand, 1.0), demand)
    left_out = forecast_demand(_panel(sales, ~out), horizon=3, season=1, critical_ratio=RATIO)
    learned = forecast_demand(_panel(sales), horizon=3, season=1, critical_ratio=RATIO)
    assert abs(left_out.mean.mean() / 4.0 - 1) < 0.08
    assert learned.mean.mean() < 0.85 * 4.0  # the zeros-and-ones of stock-outs drag a naive fit down


def test_panel_from_long_marks_censored_and_absent_cells_unobserved() -> None:
    history = pd.DataFrame(
        {
            "unique_id": ["a", "a", "a", "b", "b"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-08", "2024-01-15"]),
            "y": [1.0, 0.0, 3.0, 2.0, 5.0],
        }
    )
    panel = panel_from_long(history, np.array([False, True, False, False, False]))
    assert panel.ids == ["a", "b"]
    assert panel.observed.tolist() == [[True, False, True], [False, True, True]]
    assert panel.values.tolist() == [[1.0, 0.0, 3.0], [0.0, 2.0, 5.0]]


def test_seasonal_index_recovers_a_multiplicative_season() -> None:
    rng = np.random.default_rng(2)
    season = 12
    profile = 1 + 0.5 * np.sin(2 * np.pi * np.arange(season) / season)
    periods = 5 * season
    values = rng.poisson(20 * profile[np.arange(periods) % season], size=(200, periods))
    index = seasonal_index(_panel(values), season, horizon=3)
    assert len(index) == periods + 3
    np.testing.assert_allclose(index[:season], profile / profile.mean(), atol=0.05)
    assert index[periods] == index[periods - season]  # the future repeats the season
    assert np.all(seasonal_index(_panel(values[:, :20]), season, horizon=3) == 1.0)  # < 2 seasons: none


def test_negative_binomial_spread_is_fitted_and_chosen_for_overdispersed_demand() -> None:
    rng = np.random.default_rng(3)
    mean = rng.uniform(1, 6, size=(300, 1)) * np.ones((1, 80))
    alpha = 0.5
    values = rng.poisson(mean * rng.gamma(1 / alpha, alpha, size=mean.shape))
    assert abs(fit_alpha(mean, values, np.ones(values.shape, dtype=bool)) - alpha) < 0.1
    assert fit_alpha(mean, rng.poisson(mean), np.ones(values.shape, dtype=bool)) < 0.03
    found = forecast_demand(_panel(values), horizon=2, season=1, critical_ratio=RATIO)
    assert "x 1" in found.model and np.all(found.alpha > 0.2), found.scores
    assert set(found.scores) >= {"average (NB alpha x 0)", "average (NB alpha x 1)"}


def test_lost_sales_game_recovers_the_known_optimal_base_stock() -> None:
    """Zero lead time, lost sales, Poisson demand: the optimal policy is the newsvendor base stock."""
    rng = np.random.default_rng(4)
    rate = 3.0
    history = rng.poisson(rate, size=(200, 120)).astype(float)
    best = stats.poisson.ppf(RATIO, rate)  # smallest S with P(D <= S) >= p / (p + h)
    plan, forecast = replenish_panel(
        _panel(history),
        np.zeros(200),
        np.zeros((200, 0)),
        lead_time=0,
        review_period=1,
        holding_cost=HOLDING,
        shortage_cost=SHORTAGE,
        season=1,
        lost_sales=True,
    )
    orders = plan.orders["order_qty"].to_numpy()
    assert abs(np.median(orders) - best) < 1e-9
    assert np.mean(np.abs(orders - best) <= 1) > 0.95
    # Played forward against new demand, its cost is the optimal policy's (within noise).
    future = rng.poisson(rate, size=(200, 52)).astype(float)
    common = {"lead_time": 0, "holding_cost": HOLDING, "shortage_cost": SHORTAGE, "lost_sales": True}
    start = {"on_hand": np.zeros(200), "pipeline": np.zeros((200, 0))}
    optimal = simulate(future, order_up_to(np.full(200, best)), **start, **common).summary["total_cost"]
    ours = simulate(future, order_up_to(orders.astype(float)), **start, **common).summary["total_cost"]
    assert ours <= 1.03 * optimal
    assert forecast.mean.shape == (200, 1)


def test_short_history_falls_back_to_the_moving_average() -> None:
    values = np.tile(np.array([2.0, 3.0, 1.0, 2.0, 4.0, 0.0, 2.0, 3.0, 2.0, 1.0]), (5, 1))
    found = forecast_demand(_panel(values), horizon=2, season=52, critical_ratio=RATIO)
    assert found.model.startswith("average")
    np.testing.assert_allclose(found.mean, values[:, -13:].mean(), rtol=1e-9)
