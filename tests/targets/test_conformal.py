"""Replayed errors of the rest forecast: known by the origin only, scaled by horizon and by range."""

from __future__ import annotations

import numpy as np
import pytest

from cpfr.exceptions import InputError
from cpfr.targets.conformal import HORIZONS, error_model, origin_errors
from cpfr.targets.growth import HISTORY_DAYS
from tests.targets.panels import YEAR, panel, seasonal


def _noisy(sigma: float, seed: int, days: int = 3 * YEAR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return seasonal(days, growth=1.1)[:, None] * rng.lognormal(0.0, sigma, (days, 1))


def test_a_forecast_that_is_right_has_no_error() -> None:
    values = seasonal(3 * YEAR, growth=1.1, weekly=False)[:, None]
    # The yearly pattern repeats, so every replayed forecast is exact.
    errors = origin_errors(panel(values))
    assert len(errors) > 100 and set(errors[:, 0]) <= set(HORIZONS)
    assert np.abs(errors[:, 1]).max() < 1e-9


def test_replays_only_score_sums_known_by_the_origin() -> None:
    values = np.column_stack([_noisy(0.2, seed=1)[: 2 * YEAR, 0], np.zeros(2 * YEAR)])
    values[-60:, 1] = 5.0  # a SKU first sold in the last two months
    short = panel(values)
    errors = origin_errors(short)
    # No replayed sum reaches past the panel's last day; the first origin has a year and a window before it.
    assert 0 < errors[:, 0].max() <= 2 * YEAR - HISTORY_DAYS
    # Seen from an earlier origin, the late SKU has not sold yet.
    assert short.first_sale[1] == 2 * YEAR - 60 and short.up_to(2 * YEAR - 61).first_sale[1] > 10**8


def test_a_noisier_range_gets_a_wider_spread() -> None:
    quiet, loud = origin_errors(panel(_noisy(0.1, seed=2))), origin_errors(panel(_noisy(0.4, seed=3)))
    model = error_model([loud, quiet])
    assert 0.0 <= model.exponent <= 1.0
    assert model.range_scales[0] > 1.5 * model.range_scales[1]
    spread = np.std(model.log_errors(180))
    assert spread == pytest.approx(
        np.std(error_model([quiet, loud]).log_errors(180)) * model.range_scales[0] / model.range_scales[1],
        rel=1e-6,
    )


def test_too_few_errors_are_refused() -> None:
    with pytest.raises(InputError, match="too little history"):
        error_model([np.zeros((3, 2))])
