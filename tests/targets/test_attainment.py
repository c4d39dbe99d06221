"""Attainment: calibration on simulated alliances, the demo's targets, what is within reach, late data."""

from __future__ import annotations

import datetime as dt
import doctest

import numpy as np
import pytest

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets import attainment, conformal, growth, panel, record, uplift
from cpfr.targets.attainment import rest_distribution, target_attainment
from cpfr.targets.conformal import origin_errors
from cpfr.targets.decompose import decompose_target
from cpfr.targets.record import TargetRecord
from cpfr.targets.tracking import track_target
from tests.targets.panels import YEAR, seasonal
from tests.targets.panels import panel as make_panel


def _range(rng: np.random.Generator, days: int) -> np.ndarray:
    """Three SKUs with their own season, a random walk in their level and lumpy days."""
    columns = []
    for _ in range(3):
        mean = seasonal(days, level=rng.uniform(50, 200), phase=int(rng.integers(YEAR)))
        drift = np.exp(np.cumsum(rng.normal(0.0002, 0.006, days)))
        columns.append(rng.poisson(mean * drift) * rng.lognormal(0.0, 0.1, days))
    return np.column_stack(columns)


def _alliances(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate alliances with known outcomes; return P(reach target), what happened, and the PIT."""
    rng = np.random.default_rng(seed)
    days = 3 * YEAR
    predicted, reached, pits = [], [], []
    for _ in range(count):
        ranges = [_range(rng, days) for _ in range(3)]
        origin = 2 * YEAR + int(rng.choice([150, 240, 320]))
        panels = [make_panel(values[: origin + 1]) for values in ranges]
        errors = [origin_errors(one) for one in panels]
        rest, point = rest_distribution(panels[0], errors, days - origin - 1)
        own = ranges[0].sum(axis=1)
        actual, final = own[2 * YEAR : origin + 1].sum(), own[2 * YEAR :].sum()
        target = (actual + point) * rng.lognormal(0.0, 0.08)  # set without knowing the days to come
        totals = actual + rest
        predicted.append(np.mean(totals >= target))
        reached.append(final >= target)
        pits.append(np.mean(totals < final))
    return np.array(predicted), np.array(reached, dtype=float), np.array(pits)


def test_attainment_is_calibrated_on_simulated_alliances() -> None:
    predicted, reached, pits = _alliances(120, seed=5)
    brier = np.mean((predicted - reached) ** 2)
    climatology = np.mean((reached.mean() - reached) ** 2)
    assert brier < 0.7 * climatology  # far better than always saying the base rate
    assert abs(predicted.mean() - reached.mean()) < 0.08  # right on average
    assert 0.42 < pits.mean() < 0.58  # the realised total sits mid-distribution on average
    confident, doubtful = predicted >= 0.8, predicted <= 0.2
    assert reached[confident].mean() >= 0.7 and reached[doubtful].mean() <= 0.3


def test_the_record_weighs_but_the_probability_still_falls_as_the_target_rises() -> None:
    totals = np.random.default_rng(1).lognormal(np.log(100.0), 0.2, 4000)
    kept = TargetRecord(targets=6, log_ratio=0.1, spread=0.06)
    chances = []
    for target in np.linspace(80, 140, 13):
        weights = kept.weights(target, totals)
        chances.append(np.sum(weights * (totals >= target)) / weights.sum())
    assert np.all(np.diff(chances) <= 1e-12) and chances[0] > 5 * chances[-1]
    # Targets of this alliance have run 10 % above what was sold: a target 10 % above the forecast is
    # less likely reached than the forecast alone says, and one 20 % below it somewhat less likely too.
    for target in (110.0, 80.0):
        weights = kept.weights(target, totals)
        assert np.sum(weights * (totals >= target)) / weights.sum() < np.mean(totals >= target)


def test_demo_target_attainment(small_demo_store: Store) -> None:
    result = target_attainment(small_demo_store, "T-XIAOMI-GMV-2025")
    assert result.as_of == result.sales_through == dt.date(2025, 6, 30)
    assert 0 <= result.probability <= 1 and len(result.totals) == attainment.SAMPLES
    quantiles = list(result.quantiles.values())
    assert quantiles == sorted(quantiles) and quantiles[0] > result.actual
    # What is within reach: the total reached with 80 % is below the one reached with 50 %,
    # and reaching 90 % of the target is likelier than reaching it.
    assert result.reachable_total[0.8] <= result.reachable_total[0.5] == pytest.approx(result.quantiles[0.5])
    assert result.share_probability[0.9] >= result.share_probability[0.95] >= result.probability
    # The uplift for 80 % asks more than the one for 50 %, and reaching it there is (almost) certain.
    assert result.uplift_needed[0.8] >= result.uplift_needed[0.5]
    rest = result.totals - result.actual
    boosted = result.actual + rest * (1 + result.uplift_needed[0.8])
    assert np.mean(boosted >= result.target - 1e-6) >= 0.8 - 0.01
    # The 2024 targets have ended: they are the alliance's record.
    assert result.record is not None and result.record.targets >= 3
    alone = target_attainment(small_demo_store, "T-XIAOMI-GMV-2025", use_record=False)
    assert alone.record is None and alone.probability == alone.probability_from_sales
    assert alone.probability == pytest.approx(result.probability_from_sales)
    over = target_attainment(small_demo_store, "T-XIAOMI-GMV-2024")
    assert over.probability in (0.0, 1.0) and over.expected_total == pytest.approx(over.actual)


def test_days_after_the_last_sales_are_forecast_not_counted_as_zero(small_demo_store: Store) -> None:
    last = target_attainment(small_demo_store, "T-MIDEA-GMV-2025")
    later = target_attainment(small_demo_store, "T-MIDEA-GMV-2025", as_of=dt.date(2025, 9, 30))
    assert later.as_of == dt.date(2025, 9, 30) and later.sales_through == dt.date(2025, 6, 30)
    # Nothing more is known on 30 September than on 30 June: the same actual and the same distribution.
    assert later.actual == last.actual and later.expected_total == pytest.approx(last.expected_total)
    assert later.probability == pytest.approx(last.probability)
    with pytest.raises(InputError, match="sales end on 2025-06-30"):
        track_target(
            small_demo_store, decompose_target(small_demo_store, "T-MIDEA-GMV-2025"), as_of=later.as_of
        )


def test_an_unknown_target_is_refused(small_demo_store: Store) -> None:
    with pytest.raises(InputError, match="T-NOPE"):
        target_attainment(small_demo_store, "T-NOPE")


@pytest.mark.parametrize("module", [attainment, conformal, growth, panel, record, uplift])
def test_docstring_examples(module: object) -> None:
    failed, _ = doctest.testmod(module, raise_on_error=False, verbose=False)  # type: ignore[arg-type]
    assert failed == 0
