"""The subsidy budget split beats spending pro rata on a response with known returns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.exceptions import InputError
from cpfr.tradein.budget import SPLIT_COLUMNS, allocate_budget, read_rules, return_curves, shrunk_uplift


def known_cells() -> pd.DataFrame:
    """Three categories: cheap to saturate and rich (A), middling (B), poor but big last year (C)."""
    rows = []
    for category, rate, capacity, last_year in (
        ("A", 3.0, 100.0, 50.0),
        ("B", 2.0, 300.0, 100.0),
        ("C", 0.5, 1000.0, 850.0),
    ):
        for month in ("2026-01", "2026-02"):
            rows.append(
                {
                    "category_id": category,
                    "city_tier": 1,
                    "month": month,
                    "baseline_units": capacity,
                    "price": 1.0,
                    "subsidy_per_unit": 1.0,
                    "full_coverage_spend": capacity,
                    "incremental_units_at_full": capacity * rate / 10,
                    "incremental_gmv_at_full": capacity * rate,
                    "last_year_gmv": last_year,
                }
            )
    return pd.DataFrame(rows)


def test_split_fills_the_best_returns_first_and_beats_pro_rata() -> None:
    split = allocate_budget(known_cells(), 500.0)
    spend = split.cells.groupby("category_id")["spend"].sum()
    # Greedy by return is optimal for one budget row: A full (200), B the rest (300), C nothing.
    assert spend["A"] == pytest.approx(200.0)
    assert spend["B"] == pytest.approx(300.0)
    assert spend["C"] == pytest.approx(0.0, abs=1e-6)
    totals = split.totals()
    assert totals["incremental_gmv"] == pytest.approx(200 * 3.0 + 300 * 2.0)
    # Pro rata to last year's sales (5 %, 10 %, 85 %) spends most where each yuan returns least.
    assert totals["pro_rata_spend"] == pytest.approx(500.0)
    assert totals["pro_rata_incremental_gmv"] == pytest.approx(25 * 3.0 + 50 * 2.0 + 425 * 0.5)
    assert totals["incremental_gmv"] > 2 * totals["pro_rata_incremental_gmv"]
    assert set(SPLIT_COLUMNS) - {"category_name"} <= set(split.cells.columns)


def test_budget_beyond_full_cover_is_not_spent() -> None:
    split = allocate_budget(known_cells(), 1e6)
    assert split.totals()["spend"] == pytest.approx(2 * (100 + 300 + 1000))


def test_units_objective_ranks_by_units_per_yuan() -> None:
    cells = known_cells()
    cells.loc[cells["category_id"] == "C", "incremental_units_at_full"] *= 100  # C sells many cheap units
    split = allocate_budget(cells, 500.0, objective="units")
    assert split.cells.groupby("category_id")["spend"].sum()["C"] == pytest.approx(500.0)


def test_return_curves_are_concave() -> None:
    cells = known_cells()
    cells.loc[1, "incremental_gmv_at_full"] = 20.0  # a poorer second month for A
    curves = return_curves(cells)
    for _, curve in curves.groupby("category_id"):
        assert np.all(np.diff(curve["marginal_return"].to_numpy()) <= 1e-12)
        assert np.all(np.diff(curve["cumulative_spend"].to_numpy()) > 0)


def test_shrinkage_pulls_a_noisy_estimate_towards_the_others() -> None:
    estimates = pd.DataFrame(
        {
            "uplift": [0.20, 0.22, 0.18, 1.50],
            "uplift_low": [0.18, 0.20, 0.16, -0.10],
            "uplift_high": [0.22, 0.24, 0.20, 3.10],
        },
        index=pd.Index(["A", "B", "C", "NOISY"], name="category_id"),
    )
    shrunk = shrunk_uplift(estimates)
    assert shrunk["NOISY"] < 0.4
    assert shrunk["A"] == pytest.approx(0.20, abs=0.01)


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="objective"):
        allocate_budget(known_cells(), 100.0, objective="profit")
    with pytest.raises(InputError, match="budget"):
        allocate_budget(known_cells(), -5.0)
    rules = tmp_path / "rules.csv"
    rules.write_text("category_id,share,cap_yuan,price_limit\nPHONE,0.15,500,6000\nTV,0.15,lots,1e9\n")
    with pytest.raises(InputError, match=r"rules.csv, row 3, column cap_yuan"):
        read_rules(rules)


def test_cli_writes_the_split_beside_pro_rata(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from cpfr.data.demo import DemoConfig, generate_scenario

    from ..conftest import demo_store

    demo_store(generate_scenario(DemoConfig.small(seed=1)), tmp_path).close()
    output, curves = tmp_path / "split.parquet", tmp_path / "curves.csv"
    result = cli(
        "tradein", "allocate", "--db", str(tmp_path / "demo.duckdb"), "--budget", "3000000",
        "--objective", "units", "--months", "6", "--output", str(output), "--curves", str(curves),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    split = pd.read_parquet(output)
    assert set(SPLIT_COLUMNS) <= set(split.columns)
    assert split["spend"].sum() == pytest.approx(3_000_000, rel=1e-6)
    assert split["pro_rata_spend"].sum() == pytest.approx(3_000_000, rel=1e-6)
    assert (split["spend"] <= split["full_coverage_spend"] + 1e-6).all()
    assert split["expected_incremental_units"].sum() >= split["pro_rata_incremental_units"].sum()
    assert split["month"].nunique() == 6 and "phones" in set(split["category_name"])
    assert not pd.read_csv(curves).empty
    assert "pro rata" in result.output


def test_tier_uplifts_are_pooled_unless_the_tiers_truly_differ() -> None:
    from cpfr.tradein.budget import tier_uplift

    def tiers(values: list[float], width: float) -> dict[int, pd.DataFrame]:
        return {
            tier: pd.DataFrame(
                {
                    "category_id": ["A", "B"],
                    "uplift": [value, value],
                    "uplift_low": [value - width, value - width],
                    "uplift_high": [value + width, value + width],
                }
            )
            for tier, value in enumerate(values, start=1)
        }

    # Tier differences far inside the noise: every tier gets its category's uplift.
    noisy = tier_uplift({"A": 0.2, "B": 0.3}, tiers([0.18, 0.21, 0.22], width=0.3))
    assert noisy[("A", 1)] == pytest.approx(0.2) and noisy[("B", 3)] == pytest.approx(0.3)
    # Precise and far apart: the tiers keep most of their own difference, in order.
    sharp = tier_uplift({"A": 0.2, "B": 0.2}, tiers([0.1, 0.2, 0.4], width=0.02))
    assert sharp[("A", 1)] < 0.13 and sharp[("A", 3)] > 0.37
