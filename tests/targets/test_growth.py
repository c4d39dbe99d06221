"""The point forecast of a rest: like-for-like growth, young SKUs, launches, discontinuations, subsidy laps."""

from __future__ import annotations

import numpy as np
import pytest

from cpfr.exceptions import InputError
from cpfr.targets.growth import HISTORY_DAYS, daily_forecast
from tests.targets.panels import YEAR, panel, seasonal


def _yearly(pattern: np.ndarray, growth: float, years: int) -> np.ndarray:
    return np.concatenate([pattern * growth**year for year in range(years)])


def test_steady_growth_is_carried_over_from_the_same_days_a_year_earlier() -> None:
    days = np.arange(YEAR)
    pattern = 100 + 40 * np.sin(2 * np.pi * days / YEAR) + 30 * (days % 7 == 5)
    values = _yearly(pattern, 1.2, 3)[:, None]
    origin = 2 * YEAR - 1
    forecast = daily_forecast(panel(values[: origin + 1]), origin, 60)
    assert forecast == pytest.approx(values[origin + 1 : origin + 61, 0])
    # Beyond a year the first year grows again.
    long = daily_forecast(panel(values[: origin + 1]), origin, YEAR + 30)
    assert long[YEAR:] == pytest.approx(values[origin + 1 : origin + 31, 0] * 1.2)


def test_a_young_sku_sells_at_its_recent_rate_in_the_shape_of_the_range() -> None:
    days = 2 * YEAR
    mature = seasonal(days)
    young = np.where(np.arange(days) >= days - 100, 0.5 * seasonal(days), 0.0)
    values = np.column_stack([mature, young])
    forecast = daily_forecast(panel(values), days - 1, 90)
    alone = daily_forecast(panel(values[:, :1]), days - 1, 90)
    # The young SKU sells half as much as the mature one in its last four weeks, and keeps that share.
    assert (forecast - alone).sum() == pytest.approx(0.5 * alone.sum(), rel=0.02)


def test_launches_follow_the_analogue_and_discontinued_skus_stop() -> None:
    days = 2 * YEAR
    mature = seasonal(days)
    launched = np.zeros(days)
    launched[days - 200 :] = np.linspace(10, 30, 200)  # launched inside the history: the analogue
    values = np.column_stack([mature, launched, np.zeros(days)])
    origin = days - 1
    planned = panel(values, launch=[0, days - 200, origin + 11])
    without = panel(values[:, :2])
    added = daily_forecast(planned, origin, 60) - daily_forecast(without, origin, 60)
    assert added[:10] == pytest.approx(0.0)  # nothing before its launch day
    assert added[10:] == pytest.approx(launched[days - 200 : days - 150])  # then the analogue by age
    ending = panel(values[:, :1], last_on_sale=[origin + 20])
    stopped = daily_forecast(ending, origin, 60)
    assert stopped[:20].min() > 0 and stopped[20:] == pytest.approx(0.0)


def test_a_subsidy_that_began_in_the_base_year_is_lapped() -> None:
    days, uplift = 2 * YEAR, 0.2
    cover = np.zeros((days + YEAR, 1), dtype=bool)
    cover[YEAR + 200 :] = True  # covered from day 200 of the base year on
    truth = seasonal(days + YEAR, growth=1.05, weekly=False)[:, None] * np.exp(uplift * cover)
    origin = days - 1
    history = panel(truth[:days], subsidised=cover)
    lapped = daily_forecast(history, origin, YEAR, uplift=uplift)
    assert lapped == pytest.approx(truth[days:, 0], rel=1e-6)
    # Read as growth, the subsidy would be carried into the days that already had it a year earlier.
    naive = daily_forecast(history, origin, YEAR)
    assert naive[:200] == pytest.approx(lapped[:200], rel=1e-6)
    assert naive[200:] == pytest.approx(lapped[200:] * np.exp(uplift), rel=1e-6)


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(InputError, match=f"at least {HISTORY_DAYS}"):
        daily_forecast(panel(np.ones((200, 1))), 199, 30)
