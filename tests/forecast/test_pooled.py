"""Pooled seasonality: the shared seasonal profile is recovered, origins match statsforecast's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import Naive

from cpfr.forecast.auto import AutoForecaster, backtest_metrics
from cpfr.forecast.base import Setup
from cpfr.forecast.pooled import PooledSeasonal, pooled_seasonal_index, season_position

MONTHLY = Setup(horizon=12, freq="MS", season=12)

MONTHLY_PROFILE = np.array([0.7, 0.75, 0.9, 1.0, 1.1, 1.2, 1.3, 1.25, 1.0, 0.9, 0.8, 1.1])


def _monthly(series: int = 30, years: int = 3, seed: int = 0) -> pd.DataFrame:
    """Series sharing MONTHLY_PROFILE, each at its own level, with Poisson noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=12 * years, freq="MS")
    frames = []
    for number in range(series):
        level = rng.uniform(5, 200)
        mean = level * MONTHLY_PROFILE[dates.month - 1]
        frames.append(pd.DataFrame({"unique_id": f"s{number:02d}", "ds": dates, "y": rng.poisson(mean)}))
    return pd.concat(frames, ignore_index=True)


def test_index_recovers_the_shared_profile_from_short_noisy_series() -> None:
    index = pooled_seasonal_index(_monthly(), "MS", 12)
    truth = MONTHLY_PROFILE / MONTHLY_PROFILE.mean()
    assert abs(index.mean() - 1.0) < 1e-12
    np.testing.assert_allclose(index, truth, atol=0.03)


def test_forecast_is_level_times_index() -> None:
    history = _monthly()
    forecast = PooledSeasonal().forecast(history, MONTHLY, None)
    assert len(forecast) == 30 * 12
    assert (forecast["ds"].min(), forecast["ds"].max()) == (
        pd.Timestamp("2023-01-01"),
        pd.Timestamp("2023-12-01"),
    )
    # Within a series the forecast follows the profile: July / January = 1.3 / 0.7.
    one = forecast[forecast["unique_id"] == "s00"].set_index("ds")["pooled_seasonal"]
    ratio = one[pd.Timestamp("2023-07-01")] / one[pd.Timestamp("2023-01-01")]
    assert abs(ratio - 1.3 / 0.7) < 0.15


def test_backtest_uses_statsforecast_origins_and_only_data_before_each() -> None:
    history = _monthly(series=5)
    model = AutoForecaster(horizon=3, n_windows=3, step=2, models=["pooled_seasonal"]).fit(history, freq="MS")
    ours = model.backtest_
    theirs = StatsForecast(models=[Naive()], freq="MS").cross_validation(
        h=3, df=history, n_windows=3, step_size=2
    )
    keys = ["unique_id", "ds", "cutoff"]
    pd.testing.assert_frame_equal(
        ours[keys].sort_values(keys).reset_index(drop=True),
        theirs[keys].astype({"unique_id": str}).sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )
    # Each window's index is learnt before its origin: no future data in it.
    first = ours["cutoff"].min()
    alone = PooledSeasonal().forecast(history[history["ds"] <= first], Setup(3, "MS", 12), None)
    merged = alone.merge(ours[ours["cutoff"] == first], on=["unique_id", "ds"], suffixes=("_alone", ""))
    assert len(merged) == 15
    np.testing.assert_allclose(merged["pooled_seasonal_alone"], merged["pooled_seasonal"])


def test_positions_follow_the_calendar() -> None:
    weeks = pd.Series(pd.to_datetime(["2020-12-28", "2021-01-04", "2021-12-27"]))  # ISO weeks 53, 1, 52
    assert season_position(weeks, "W-MON", 52).tolist() == [51, 0, 51]
    days = pd.Series(pd.date_range("2024-01-01", periods=8, freq="D"))
    assert len(set(season_position(days, "D", 7)[:7])) == 7
    assert season_position(days, "D", 7)[0] == season_position(days, "D", 7)[7]


def test_auto_offers_the_pooled_model_and_it_wins_on_shared_seasonality() -> None:
    history = _monthly(series=40, years=3)
    model = AutoForecaster(horizon=6, n_windows=2).fit(history, freq="MS")
    board = model.leaderboard_.set_index("candidate")["wrmsse"]
    assert "pooled_seasonal" in board.index
    # Two years of a monthly series cannot beat the profile pooled over 40 series.
    assert board["pooled_seasonal"] < board["seasonal_naive"]
    assert board["pooled_seasonal"] < board["historic_average"]


def test_backtest_metrics_give_cross_conformal_pinball_and_coverage() -> None:
    history = _monthly(series=40, years=3)
    model = AutoForecaster(horizon=3, n_windows=3, models=["pooled_seasonal", "historic_average"]).fit(
        history, freq="MS"
    )
    metrics = backtest_metrics(model, history).set_index("model")
    assert set(metrics.columns) >= {"wrmsse", "wspl", "coverage_90", "mase", "bias"}
    assert (metrics["wspl"] > 0).all()
    assert metrics["coverage_90"].between(0.6, 1.0).all()
    assert metrics.loc["pooled_seasonal", "wspl"] < metrics.loc["historic_average", "wspl"]
    single = AutoForecaster(horizon=3, n_windows=1, models=["pooled_seasonal"]).fit(history, freq="MS")
    assert np.isnan(backtest_metrics(single, history)["wspl"]).all()
