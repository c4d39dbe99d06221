"""Conformal quantiles: the step profile follows the errors, slow movers get their own skewed quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpfr.forecast.conformal import fit_conformal, isotonic_increasing, step_profile


def test_isotonic_fit_pools_adjacent_violators() -> None:
    fitted = isotonic_increasing(np.array([1.0, 3.0, 2.0, 4.0, 0.0]), np.array([1.0, 1.0, 1.0, 1.0, 3.0]))
    assert (np.diff(fitted) >= 0).all()
    np.testing.assert_allclose(fitted, [1.0, 1.5, 1.5, 1.5, 1.5])  # 3, 2, 4 and 0 (weight 3): mean 9 / 6


def test_step_profile_grows_like_the_errors_and_stays_flat_when_they_do() -> None:
    rng = np.random.default_rng(0)
    steps = np.tile(np.arange(12), 500)
    growing = rng.normal(0, np.sqrt(steps + 1.0))
    profile = step_profile(growing, steps, 12)
    assert (np.diff(profile) >= 0).all()
    assert profile[-1] / profile[0] > 2.5  # sqrt(12) = 3.5 in truth
    flat = step_profile(rng.normal(0, 1, len(steps)), steps, 12)
    assert flat[-1] / flat[0] < 1.3


def test_slow_movers_get_skewed_quantiles_fast_movers_symmetric_ones() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for number in range(400):
        level = 0.3 if number < 200 else 50.0
        actual = rng.poisson(level, 12).astype(float)
        rows.append(
            pd.DataFrame(
                {"unique_id": f"s{number}", "step": np.arange(12), "error": actual - level, "forecast": level}
            )
        )
    errors = pd.concat(rows, ignore_index=True)
    calibration = fit_conformal(errors, (0.05, 0.5, 0.95), 12)
    forecast = pd.DataFrame({"unique_id": ["s0", "s399"], "ds": [0, 0], "mean": [0.3, 50.0]})
    quantiles = calibration.apply(forecast).set_index("unique_id")
    # Poisson(0.3): 5 % and median are 0, the 95 % quantile is 1.
    assert quantiles.loc["s0", "q0.05"] == 0.0
    assert 0.8 <= quantiles.loc["s0", "q0.95"] <= 1.5
    # Poisson(50): roughly 50 -/+ 1.645 x 7.1.
    assert 36 <= quantiles.loc["s399", "q0.05"] <= 43
    assert 57 <= quantiles.loc["s399", "q0.95"] <= 64
    assert len(calibration.bin_edges) >= 1
