"""Trade-in uplift: planted lifts on synthetic panels, and the CLI's output contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.tradein import UpliftPanel, estimate_panel
from cpfr.tradein.uplift import COLUMNS, PULL_FORWARD_DAYS

from ..conftest import demo_store

N_DAYS = 420
SUBSIDY_START = 240


def synthetic_panel(
    lift: float,
    *,
    seed: int,
    n_eligible: int = 15,
    n_control: int = 15,
    wave: float = 0.4,
    subsidy_end: int = N_DAYS,
    dip: float = 0.0,
    cannibalisation: float = 0.0,
    festival: float = 2.5,
    eligible_trend: float = 0.0,
) -> UpliftPanel:
    """Poisson units with SKU levels, a shared yearly wave, weekly cycle and trend, and a planted lift."""
    rng = np.random.default_rng(seed)
    n_skus = n_eligible + n_control
    day = np.arange(N_DAYS)
    # Both groups share the seasonality, a festival spike and the trend: DiD must remove them.
    shared = (
        (1.0 + wave * np.sin(2 * np.pi * day / 365.25))
        * (1.0 + 0.2 * (day % 7 >= 5))
        * np.exp(0.3 * day / 365.25)
        * np.where((day >= 300) & (day < 310), festival, 1.0)
    )
    level = rng.uniform(2.0, 12.0, size=n_skus)
    eligible = np.arange(n_skus) < n_eligible
    subsidised = (day >= SUBSIDY_START) & (day < subsidy_end)
    after = (day >= subsidy_end) & (day < subsidy_end + PULL_FORWARD_DAYS)
    factor = np.ones((n_skus, N_DAYS))
    factor[np.ix_(eligible, subsidised)] = 1.0 + lift
    factor[np.ix_(eligible, after)] = 1.0 - dip
    factor[np.ix_(~eligible, subsidised)] = 1.0 - cannibalisation
    factor[eligible] *= np.exp(eligible_trend * day / 365.25)[None, :]
    mean = level[:, None] * shared[None, :] * factor
    units = rng.poisson(mean).astype(float)
    return UpliftPanel(
        category_id="PHONE",
        units=units,
        gmv=units * 2000.0,
        on_sale=np.ones_like(units, dtype=bool),
        eligible=eligible,
        subsidised=subsidised,
        days=pd.date_range("2024-01-01", periods=N_DAYS, freq="D"),
        control="leaf",
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_lift_is_recovered_and_covered(seed: int) -> None:
    row = estimate_panel(synthetic_panel(0.25, seed=seed), n_boot=99, seed=seed)
    assert row["uplift"] == pytest.approx(0.25, abs=0.05)
    assert row["uplift_low"] <= 0.25 <= row["uplift_high"]
    assert row["uplift_high"] - row["uplift_low"] < 0.15
    # Parallel trends hold before the subsidy, so the slope test should not reject.
    assert row["pre_trend_p"] > 0.01
    panel = synthetic_panel(0.25, seed=seed)
    treated_units = panel.units[panel.eligible][:, panel.subsidised].sum()
    assert row["incremental_units"] == pytest.approx(treated_units * 0.25 / 1.25, rel=0.2)


def test_null_effect_gives_zero_within_interval() -> None:
    row = estimate_panel(synthetic_panel(0.0, seed=5), n_boot=99, seed=5)
    assert row["uplift"] == pytest.approx(0.0, abs=0.03)
    assert row["uplift_low"] <= 0.0 <= row["uplift_high"]


def test_naive_before_after_is_biased_where_did_is_not() -> None:
    # The shared wave and trend leak into the eligible SKUs' own before/after comparison.
    panel = synthetic_panel(0.0, seed=4)
    eligible_units = panel.units[panel.eligible]
    naive = eligible_units[:, panel.subsidised].mean() / eligible_units[:, ~panel.subsidised].mean() - 1.0
    row = estimate_panel(panel, n_boot=19, seed=4)
    assert abs(naive) > 0.04
    assert abs(row["uplift"]) < abs(naive) / 3


def test_pre_trend_check_flags_diverging_groups() -> None:
    # Eligible SKUs growing 60 % a year faster than the controls break parallel trends.
    row = estimate_panel(synthetic_panel(0.25, seed=9, eligible_trend=0.6), n_boot=19, seed=9)
    assert row["pre_trend_p"] < 0.01


def test_a_leaf_without_controls_is_reported_without_an_estimate() -> None:
    row = estimate_panel(synthetic_panel(0.25, seed=10, n_eligible=10, n_control=0), n_boot=19)
    assert row["control"] == "none"
    assert row["n_eligible_skus"] == 10
    assert np.isnan(row["uplift"]) and np.isnan(row["uplift_low"]) and np.isnan(row["incremental_units"])


def test_pull_forward_dip_after_the_subsidy_is_counted() -> None:
    panel = synthetic_panel(0.25, seed=6, subsidy_end=340, dip=0.3)
    row = estimate_panel(panel, n_boot=19, seed=6)
    dip_units = panel.units[panel.eligible][:, 340 : 340 + PULL_FORWARD_DAYS].sum()
    assert row["uplift"] == pytest.approx(0.25, abs=0.05)
    assert row["pull_forward_units"] == pytest.approx(dip_units * (1 / 0.7 - 1), rel=0.2)


def test_no_dip_and_no_end_give_no_pull_forward() -> None:
    assert np.isnan(estimate_panel(synthetic_panel(0.25, seed=7), n_boot=19)["pull_forward_units"])
    ended = estimate_panel(synthetic_panel(0.25, seed=7, subsidy_end=340), n_boot=19)
    ended_units = synthetic_panel(0.25, seed=7, subsidy_end=340).units
    assert abs(ended["pull_forward_units"]) < 0.05 * ended_units[:15, 340 : 340 + PULL_FORWARD_DAYS].sum()


def test_cannibalised_units_of_ineligible_skus() -> None:
    # Without a wave the controls' own log-linear trend is their true counterfactual.
    panel = synthetic_panel(0.25, seed=8, wave=0.0, festival=1.0, cannibalisation=0.1)
    row = estimate_panel(panel, n_boot=19, seed=8)
    lost = panel.units[~panel.eligible][:, panel.subsidised].sum() * (1 / 0.9 - 1)
    assert row["cannibalised_units"] == pytest.approx(lost, rel=0.25)


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
    assert "PHONE" in set(written["category_id"])
    phone = written.set_index("category_id").loc["PHONE"]
    assert phone["control"] == "leaf"
    assert phone["uplift"] == pytest.approx(scenario.truth["subsidy_uplift"]["PHONE"], abs=0.05)
    assert "phones" in result.output
