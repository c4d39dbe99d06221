"""The subsidy uplift: the store's year-on-year jumps update the prior; without them the prior stands."""

from __future__ import annotations

import numpy as np
import pytest

from cpfr.targets.uplift import PRIOR_LOG_UPLIFT, PRIOR_SD, subsidy_uplift
from tests.targets.panels import YEAR, panel, seasonal


def _ranges(uplift: float, start: int | None, count: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    days = 2 * YEAR + 180
    ranges = []
    for position in range(count):
        cover = np.zeros((days + YEAR, 1), dtype=bool)
        if start is not None:
            cover[start + (14 * position if start else 0) :] = True  # staggered starts in the second year
        mean = seasonal(days + YEAR, growth=1.03, phase=40 * position)[:, None] * np.exp(uplift * cover)
        values = mean[:days] * rng.lognormal(0.0, 0.05, (days, 1))
        ranges.append(panel(values, subsidised=cover))
    return ranges


def test_the_uplift_is_learned_where_the_cover_changes() -> None:
    learned = subsidy_uplift(_ranges(0.35, YEAR + 300, 5, seed=1))
    assert learned.evidence > 1 / PRIOR_SD**2  # the store says more than the prior
    assert learned.mean == pytest.approx(0.35, abs=0.05) and learned.sd < PRIOR_SD / 2


def test_without_a_change_of_cover_the_prior_stands() -> None:
    for start in (None, 0):  # never covered, or covered all along
        kept = subsidy_uplift(_ranges(0.35, start, 3, seed=2))
        assert (kept.mean, kept.sd, kept.evidence) == (PRIOR_LOG_UPLIFT, PRIOR_SD, 0.0)
    grid = kept.grid()
    assert grid.mean() == pytest.approx(PRIOR_LOG_UPLIFT) and np.all(np.diff(grid) > 0)
