"""Attainment probability: seasonal growth, conformal errors, and calibration on simulated alliances."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.attainment import (
    GROWTH_DAMPING,
    YEAR,
    origin_errors,
    rest_distribution,
    seasonal_growth,
    target_attainment,
)


def _yearly(pattern: np.ndarray, growth: float, years: int) -> np.ndarray:
    return np.concatenate([pattern * growth**year for year in range(years)])


def test_seasonal_growth_on_a_growing_seasonal_series() -> None:
    days = np.arange(YEAR)
    pattern = 100 + 40 * np.sin(2 * np.pi * days / YEAR) + 30 * (days % 7 == 5)
    values = _yearly(pattern, 1.2, 3)
    history = values[: 2 * YEAR]
    damped = 1.2**GROWTH_DAMPING  # last year's days times the damped growth
    assert seasonal_growth(history, len(history) - 1, 30) == pytest.approx(
        values[YEAR : YEAR + 30].sum() * damped
    )
    # Ten days on, after a gap of five days that do not count:
    assert seasonal_growth(history, len(history) - 1, 10, skip=5) == pytest.approx(
        values[YEAR + 5 : YEAR + 15].sum() * damped
    )
    # Steady growth: every origin misses by the same factor, the growth the damping left out.
    errors = origin_errors(values, 30)
    assert len(errors) > 30 and errors == pytest.approx(np.full(len(errors), np.log(1.2 / damped)))


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(InputError, match="at least"):
        rest_distribution(np.ones(200), 30)


def _alliances(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulate alliances with known outcomes; return predicted P(reach target) and what happened."""
    rng = np.random.default_rng(seed)
    days = np.arange(3 * YEAR)
    predicted, reached = [], []
    for _ in range(count):
        season = 1 + 0.3 * np.sin(2 * np.pi * (days - rng.integers(YEAR)) / YEAR) + 0.6 * (days % YEAR == 314)
        level = np.exp(np.cumsum(rng.normal(0.0005, 0.01, len(days))))  # random-walk growth
        values = 1000 * season * level * rng.lognormal(0, 0.2, len(days))
        as_of = 2 * YEAR + 300
        expected = values[2 * YEAR : as_of + 1].sum() + values[as_of + 1 - YEAR : 3 * YEAR - YEAR].sum() * 1.1
        target = expected * rng.uniform(0.9, 1.12)
        rest, _ = rest_distribution(values[: as_of + 1], 3 * YEAR - as_of - 1)
        actual = values[2 * YEAR : as_of + 1].sum()
        predicted.append(np.mean(actual + rest >= target))
        reached.append(values[2 * YEAR :].sum() >= target)
    return np.array(predicted), np.array(reached, dtype=float)


def test_attainment_is_calibrated_on_simulated_alliances() -> None:
    predicted, reached = _alliances(150, seed=5)
    brier = np.mean((predicted - reached) ** 2)
    climatology = np.mean((reached.mean() - reached) ** 2)
    assert brier < 0.6 * climatology  # far better than always saying the base rate
    assert abs(predicted.mean() - reached.mean()) < 0.08  # right on average
    confident = predicted >= 0.8
    assert reached[confident].mean() >= 0.7 and reached[predicted <= 0.2].mean() <= 0.3


def test_demo_target_attainment(small_demo_store: Store) -> None:
    result = target_attainment(small_demo_store, "T-XIAOMI-GMV-2025")
    assert result.as_of == dt.date(2025, 6, 30)
    assert 0 <= result.probability <= 1 and len(result.totals) >= 8
    quantiles = list(result.quantiles.values())
    assert quantiles == sorted(quantiles) and quantiles[0] > result.actual
    # The uplift for 80 % asks more than the one for 50 %, and reaching it there is (almost) certain.
    assert result.uplift_needed[0.8] >= result.uplift_needed[0.5]
    rest = result.totals - result.actual
    boosted = result.actual + rest * (1 + result.uplift_needed[0.8])
    assert np.mean(boosted >= result.target - 1e-6) >= 0.8 - 1e-9
    over = target_attainment(small_demo_store, "T-XIAOMI-GMV-2024")
    assert over.probability in (0.0, 1.0) and over.expected_total == pytest.approx(over.actual)
