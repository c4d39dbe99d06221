"""The trade-in estimators recover effects planted in synthetic panels with known answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.tradein import UpliftPanel, estimate_panel, fit_poisson_fe
from cpfr.tradein.uplift import COLUMNS, PULL_FORWARD_DAYS

from ..conftest import demo_store

N_DAYS = 420
N_REGIONS = 6
OPEN = 200  # the first region opens the subsidy on this day, the others up to 8 weeks later
CLOSE = 330


def synthetic_panel(
    lift: float,
    *,
    seed: int,
    n_eligible: int = 8,
    n_ineligible: int = 6,
    cannibalisation: float = 0.0,
    dip: float = 0.0,
    stagger: int = 56,
    close: int | None = CLOSE,
    anticipation: float = 0.0,
) -> UpliftPanel:
    """Poisson units per (SKU, region) with a shared wave, festival and trend, and planted effects."""
    rng = np.random.default_rng(seed)
    n_skus = n_eligible + n_ineligible
    day = np.arange(N_DAYS)
    # Every row shares the seasonality, a festival spike and the trend: the day effects take them.
    shared = (
        (1.0 + 0.4 * np.sin(2 * np.pi * day / 365.25))
        * (1.0 + 0.2 * (day % 7 >= 5))
        * np.exp(0.3 * day / 365.25)
        * np.where((day >= 300) & (day < 310), 2.5, 1.0)
    )
    sku = np.repeat(np.arange(n_skus), N_REGIONS)
    region = np.tile(np.arange(N_REGIONS), n_skus)
    eligible = sku < n_eligible
    opens = OPEN + np.round(np.linspace(0, stagger, N_REGIONS)).astype(int)
    closes = (
        np.full(N_REGIONS, N_DAYS)
        if close is None
        else close - np.round(np.linspace(0, 40, N_REGIONS)).astype(int)
    )
    covered = (day[None, :] >= opens[region][:, None]) & (day[None, :] <= closes[region][:, None])
    factor = np.ones((sku.size, N_DAYS))
    factor[eligible[:, None] & covered] = 1.0 + lift
    factor[~eligible[:, None] & covered] = 1.0 - cannibalisation
    age = day[None, :] - closes[region][:, None]
    fade = np.clip(1.0 - (age - 1) / PULL_FORWARD_DAYS, 0.0, 1.0) * (age >= 1)
    factor *= np.where(eligible[:, None], 1.0 - dip * fade, 1.0)
    before = (day[None, :] >= opens[region][:, None] - 28) & (day[None, :] < opens[region][:, None])
    factor *= np.where(eligible[:, None] & before, 1.0 - anticipation, 1.0)
    level = rng.uniform(2.0, 10.0, size=n_skus)[sku] * rng.uniform(0.5, 1.5, size=N_REGIONS)[region]
    units = rng.poisson(level[:, None] * shared[None, :] * factor).astype(float)
    return UpliftPanel(
        category_id="PHONE",
        units=units,
        gmv=units * 2000.0,
        on_sale=np.ones_like(units, dtype=bool),
        sku=np.array([f"SKU{k}" for k in sku]),
        eligible=eligible,
        in_leaf=np.ones(sku.size, dtype=bool),
        covered=covered,
        days=pd.date_range("2024-01-01", periods=N_DAYS, freq="D"),
        control="leaf+regions" if n_ineligible else "regions",
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_effects_are_recovered_and_covered(seed: int) -> None:
    panel = synthetic_panel(0.25, seed=seed, cannibalisation=0.10, dip=0.30)
    row = estimate_panel(panel, n_boot=49, seed=seed)
    assert row["uplift"] == pytest.approx(0.25, abs=0.03)
    assert row["uplift_low"] <= 0.25 <= row["uplift_high"]
    assert row["cannibalisation"] == pytest.approx(0.10, abs=0.03)
    assert row["cannibalisation_low"] <= 0.10 <= row["cannibalisation_high"]
    assert row["pull_forward_depth"] == pytest.approx(0.30, abs=0.06)
    assert row["pre_trend_p"] > 0.01


def test_all_eligible_leaf_is_identified_by_the_regions_alone() -> None:
    panel = synthetic_panel(0.20, seed=3, n_ineligible=0, dip=0.2)
    row = estimate_panel(panel, n_boot=49, seed=3)
    assert row["control"] == "regions"
    assert row["uplift"] == pytest.approx(0.20, abs=0.04)
    assert row["cannibalised_units"] == 0.0  # no unsubsidised model to take from
    assert np.isnan(row["cannibalisation"])


def test_null_effect_gives_zero_within_interval() -> None:
    row = estimate_panel(synthetic_panel(0.0, seed=4), n_boot=49, seed=4)
    assert abs(row["uplift"]) < 0.03
    assert row["uplift_low"] <= 0.0 <= row["uplift_high"]
    assert abs(row["cannibalisation"]) < 0.03
    assert row["cannibalisation_low"] < 0.01 and row["cannibalisation_high"] > -0.01


def test_naive_before_after_is_biased_where_the_design_is_not() -> None:
    panel = synthetic_panel(0.15, seed=5)
    rows = panel.eligible
    naive = panel.units[rows][panel.covered[rows]].mean() / panel.units[rows][~panel.covered[rows]].mean() - 1
    row = estimate_panel(panel, n_boot=19)
    assert abs(naive - 0.15) > 0.1  # the shared wave, trend and festival leak into before/after
    assert abs(row["uplift"] - 0.15) < 0.03


def test_units_net_out_pull_forward_and_cannibalisation() -> None:
    panel = synthetic_panel(0.25, seed=6, cannibalisation=0.10, dip=0.30)
    row = estimate_panel(panel, n_boot=19)
    treated = panel.units[panel.eligible[:, None] & panel.covered].sum()
    assert row["gross_incremental_units"] == pytest.approx(treated * (1 - 1 / 1.25), rel=0.1)
    lost = panel.units[~panel.eligible[:, None] & panel.covered].sum() * (1 / 0.9 - 1)
    assert row["cannibalised_units"] == pytest.approx(lost, rel=0.3)
    assert row["pull_forward_units"] > 0
    net = row["gross_incremental_units"] - row["pull_forward_units"] - row["cannibalised_units"]
    assert row["incremental_units"] == pytest.approx(net)


def test_no_close_gives_no_pull_forward() -> None:
    row = estimate_panel(synthetic_panel(0.2, seed=7, close=None), n_boot=19)
    assert np.isnan(row["pull_forward_units"]) and np.isnan(row["pull_forward_depth"])


def test_placebo_flags_anticipation_before_the_opening() -> None:
    # Buyers who wait for the subsidy depress eligible sales in the weeks before it opens.
    row = estimate_panel(synthetic_panel(0.2, seed=8, anticipation=0.3), n_boot=19)
    assert row["pre_trend_p"] < 0.01


def test_without_regional_variation_only_the_difference_is_identified() -> None:
    panel = synthetic_panel(0.2, seed=9, stagger=0, close=None)
    panel = UpliftPanel(
        **{
            **panel.__dict__,
            "covered": np.repeat(panel.covered[:1], panel.units.shape[0], 0),
            "control": "leaf",
        }
    )
    row = estimate_panel(panel, n_boot=19)
    assert row["uplift"] == pytest.approx(0.2, abs=0.04)
    assert np.isnan(row["cannibalisation"]) and np.isnan(row["cannibalised_units"])


def test_a_panel_without_controls_is_reported_without_an_estimate() -> None:
    panel = synthetic_panel(0.2, seed=10)
    row = estimate_panel(UpliftPanel(**{**panel.__dict__, "control": "none"}), n_boot=19)
    assert row["control"] == "none" and np.isnan(row["uplift"])


def test_fixed_effects_fit_matches_a_known_multiplier() -> None:
    rng = np.random.default_rng(11)
    treated = np.zeros((40, 100))
    treated[:20, 50:] = 1.0
    mean = rng.uniform(5, 20, 40)[:, None] * rng.uniform(0.5, 2.0, 100)[None, :] * np.exp(0.3 * treated)
    fit = fit_poisson_fe(rng.poisson(mean).astype(float), np.ones_like(mean), treated[None])
    assert fit.converged
    assert fit.effects[0] == pytest.approx(0.3, abs=0.02)
    assert np.sqrt(fit.covariance[0, 0]) < 0.02


def test_cli_writes_the_contract_columns(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from cpfr.data.demo import DemoConfig, generate_scenario

    scenario = generate_scenario(DemoConfig.small(seed=1))
    demo_store(scenario, tmp_path).close()
    output = tmp_path / "uplift.csv"
    result = cli(
        "tradein",
        "estimate",
        "--db",
        str(tmp_path / "demo.duckdb"),
        "--output",
        str(output),
        "--n-boot",
        "19",
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output)
    assert list(written.columns) == list(COLUMNS)
    subsidised = {"PHONE", "TV", "AC", "FRIDGE", "WASHER", "WATCH", "BAND", "TABLET"}
    assert subsidised <= set(written["category_id"])
    assert not {"LAPTOP", "TOILET", "SHOWER"} & set(written["category_id"])  # never subsidised
    phone = written.set_index("category_id").loc["PHONE"]
    assert phone["uplift"] == pytest.approx(scenario.truth["subsidy_uplift"]["PHONE"], abs=0.06)
    assert "phones" in result.output
