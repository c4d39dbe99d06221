"""Replenishment from demand sample paths: the cost-optimal order, lost sales, MOQ and packs; `cpfr replenish`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import Result

from cpfr.forecast.auto import AutoForecaster
from cpfr.inventory.replenish import plan_orders

Cli = Callable[..., Result]


def poisson_paths(rate: float, periods: int, n: int = 40_000, items: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(rate, size=(items, n, periods)).astype(float)


def test_backorder_order_is_the_critical_fractile_of_demand_over_l_plus_one() -> None:
    """L = 2, R = 1: cost at the end of period 3 only, so S* is the p/(p+h) fractile of 3 periods' demand."""
    paths = poisson_paths(4.0, 3)
    plan = plan_orders(
        ["a"],
        paths,
        np.array([5.0]),
        np.array([[2.0, 1.0]]),
        lead_time=2,
        review_period=1,
        holding_cost=1.0,
        shortage_cost=9.0,
    ).orders
    exact = stats.poisson.ppf(0.9, 12.0) - 8.0  # order-up-to minus the inventory position
    assert abs(plan["order_qty"].iloc[0] - exact) <= 1
    assert plan["inventory_position"].iloc[0] == 8.0
    assert plan["protection_demand_mean"].iloc[0] == pytest.approx(4.0, rel=0.02)


def test_lost_sales_orders_less_when_stock_runs_out_before_arrival() -> None:
    paths = poisson_paths(10.0, 4)
    common = {"lead_time": 2, "review_period": 2, "holding_cost": 1.0, "shortage_cost": 4.0}
    backorders = plan_orders(["a"], paths, np.array([2.0]), np.zeros((1, 2)), **common).orders
    lost = plan_orders(["a"], paths, np.array([2.0]), np.zeros((1, 2)), lost_sales=True, **common).orders
    # With backorders the order must also cover ~18 units of backlog from periods 1-2; with lost sales they are gone.
    assert backorders["order_qty"].iloc[0] - lost["order_qty"].iloc[0] >= 14
    assert lost["expected_on_hand_at_arrival"].iloc[0] < 1.0


def test_lost_sales_choice_is_the_brute_force_minimum() -> None:
    paths = poisson_paths(3.0, 3, n=5_000)
    plan = plan_orders(
        ["a"],
        paths,
        np.array([4.0]),
        np.array([[1.0]]),
        lead_time=1,
        review_period=2,
        holding_cost=0.5,
        shortage_cost=3.0,
        lost_sales=True,
    ).orders

    def cost(quantity: int) -> float:
        stock = np.maximum(4.0 + 1.0 - paths[0, :, 0], 0.0) + quantity
        total = 0.0
        for period in (1, 2):
            sold = np.minimum(stock, paths[0, :, period])
            total += 3.0 * (paths[0, :, period] - sold)
            stock = stock - sold
            total += 0.5 * stock
        return float(total.mean())

    costs = [cost(q) for q in range(40)]
    assert plan["order_qty"].iloc[0] == int(np.argmin(costs))
    assert plan["expected_cost"].iloc[0] == pytest.approx(min(costs))


def test_moq_and_pack_size_are_respected_at_the_best_allowed_quantity() -> None:
    paths = poisson_paths(7.0, 2, items=3)
    plan = plan_orders(
        ["a", "b", "c"],
        paths,
        np.array([0.0, 3.0, 40.0]),
        np.zeros((3, 1)),
        lead_time=1,
        review_period=1,
        holding_cost=1.0,
        shortage_cost=5.0,
        moq=12,
        pack_size=6,
    ).orders.set_index("unique_id")["order_qty"]
    assert all(q == 0 or (q >= 12 and q % 6 == 0) for q in plan)
    assert plan["c"] == 0  # 40 on hand covers two periods of 7
    assert plan["a"] in (12, 18)  # ~14-16 needed, nearest allowed


def test_forecaster_sample_paths_keep_the_spread_of_multi_period_sums() -> None:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2024-01-01", periods=200, freq="D")
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": rng.poisson(6.0, len(dates))})
            for i in range(30)
        ]
    )
    model = AutoForecaster(horizon=7, models=["window_average", "historic_average"]).fit(history, freq="D")
    ids, paths = model.sample_paths(model.predict(), n_paths=4_000)
    assert ids == [f"s{i}" for i in range(30)]
    assert paths.shape == (30, 4_000, 7) and (paths >= 0).all()
    weekly = paths.sum(axis=2)
    # A week of Poisson(6) days: mean 42, sd sqrt(42) = 6.5 (plus a little estimation error).
    assert weekly.mean() == pytest.approx(42.0, rel=0.05)
    assert 5.5 < weekly.std(axis=1).mean() < 8.5


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=150, freq="D")
    sales = pd.concat(
        [
            pd.DataFrame({"unique_id": f"sku{i}", "ds": dates, "y": rng.poisson(rate, len(dates))})
            for i, rate in enumerate([2.0, 8.0, 20.0])
        ]
    )
    sales_path = tmp_path / "sales.csv"
    sales.to_csv(sales_path, index=False)
    state_path = tmp_path / "state.csv"
    pd.DataFrame(
        {
            "unique_id": ["sku0", "sku1", "sku2"],
            "on_hand": [1, 10, 100],
            "in_transit_1": [0, 4, 0],
            "in_transit_2": [3, 0, 0],
        }
    ).to_csv(state_path, index=False)
    return sales_path, state_path


def test_cli_writes_orders_close_to_the_known_optimum(
    files: tuple[Path, Path], tmp_path: Path, cli: Cli
) -> None:
    sales, state = files
    output = tmp_path / "orders.parquet"
    result = cli(
        "replenish",
        sales,
        "--state",
        state,
        "--output",
        output,
        "--lead-time",
        "2",
        "--review-period",
        "1",
        "--holding-cost",
        "1",
        "--shortage-cost",
        "9",
    )
    assert result.exit_code == 0, result.output
    orders = pd.read_parquet(output).set_index("unique_id")
    assert list(orders.columns[:1]) == ["order_qty"] and orders["order_qty"].dtype.kind == "i"
    for uid, rate, position in (("sku0", 2.0, 4), ("sku1", 8.0, 14), ("sku2", 20.0, 100)):
        exact = max(stats.poisson.ppf(0.9, 3 * rate) - position, 0)
        assert abs(orders.loc[uid, "order_qty"] - exact) <= max(2, 0.1 * exact), uid
    assert "ordered" in result.stderr


@pytest.mark.parametrize(
    ("state_text", "message"),
    [
        ("unique_id,on_hand,in_transit_1\nsku0,1,0\n", "in_transit_2: missing"),
        ("unique_id,on_hand,in_transit_1,in_transit_2\nsku0,1,0,-3\n", ":2:in_transit_2: value '-3'"),
        ("unique_id,on_hand,in_transit_1,in_transit_2\nsku0,1,0,0\nsku0,2,0,0\n", ":3:unique_id"),
        ("unique_id,on_hand,in_transit_1,in_transit_2\nsku0,x,0,0\n", ":2:on_hand: value 'x'"),
        (
            "unique_id,on_hand,in_transit_1,in_transit_2\nsku9,1,0,0\n",
            ":2:unique_id: 'sku9' has no sales history",
        ),
    ],
)
def test_bad_state_is_named_and_nothing_is_written(
    files: tuple[Path, Path], tmp_path: Path, cli: Cli, state_text: str, message: str
) -> None:
    sales, _ = files
    state = tmp_path / "bad_state.csv"
    state.write_text(state_text)
    output = tmp_path / "orders.csv"
    result = cli(
        "replenish",
        sales,
        "--state",
        state,
        "--output",
        output,
        "--lead-time",
        "2",
        "--review-period",
        "1",
        "--holding-cost",
        "1",
        "--shortage-cost",
        "9",
    )
    assert result.exit_code in (1, 2)
    assert message in result.stderr, result.stderr
    assert not output.exists()


def test_bad_flags_exit_2(files: tuple[Path, Path], tmp_path: Path, cli: Cli) -> None:
    sales, state = files
    base = ["replenish", sales, "--state", state, "--output", tmp_path / "o.csv", "--lead-time", "2"]
    result = cli(*base, "--review-period", "0", "--holding-cost", "1", "--shortage-cost", "9")
    assert result.exit_code == 2 and "--review-period 0" in result.stderr
    result = cli(*base, "--review-period", "1", "--holding-cost", "-1", "--shortage-cost", "9")
    assert result.exit_code == 2 and "--holding-cost" in result.stderr


def test_simulate_command_replays_a_policy(files: tuple[Path, Path], tmp_path: Path, cli: Cli) -> None:
    sales, state = files
    policy = tmp_path / "policy.csv"
    pd.DataFrame({"unique_id": ["sku0", "sku1", "sku2"], "order_up_to": [10, 35, 80]}).to_csv(
        policy, index=False
    )
    output = tmp_path / "metrics.csv"
    result = cli(
        "simulate",
        sales,
        "--policy",
        policy,
        "--lead-time",
        "2",
        "--holding-cost",
        "1",
        "--shortage-cost",
        "9",
        "--lost-sales",
        "--state",
        state,
        "--output",
        output,
    )
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(output).set_index("unique_id")
    assert set(metrics.columns) >= {
        "total_cost",
        "fill_rate",
        "cycle_service_level",
        "short_units",
        "average_on_hand",
        "turnover_periods",
    }
    assert (metrics["fill_rate"].between(0, 1)).all()
    assert metrics.loc["sku2", "demand"] == pd.read_csv(sales).query("unique_id == 'sku2'")["y"].sum()
    assert "fill_rate" in result.stdout
    missing = tmp_path / "partial_policy.csv"
    pd.DataFrame({"unique_id": ["sku0"], "order_up_to": [10]}).to_csv(missing, index=False)
    bad = cli(
        "simulate",
        sales,
        "--policy",
        missing,
        "--lead-time",
        "2",
        "--holding-cost",
        "1",
        "--shortage-cost",
        "9",
    )
    assert bad.exit_code == 2 and "no policy for item 'sku1'" in bad.stderr
