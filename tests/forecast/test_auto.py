"""AutoForecaster: the output contract, golden agreement with statsforecast, selection, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import SeasonalNaive

from cpfr.exceptions import InputError
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import DEFAULT_QUANTILES, parse_quantiles, quantile_column, season_length
from tests.forecast.conftest import make_series


def test_output_has_one_row_per_series_and_period_with_monotone_quantiles(daily_sales: pd.DataFrame) -> None:
    model = AutoForecaster(horizon=14, models=["seasonal_naive", "window_average"]).fit(daily_sales, freq="D")
    forecast = model.predict()
    assert list(forecast.columns) == [
        "unique_id",
        "ds",
        "mean",
        *[quantile_column(q) for q in DEFAULT_QUANTILES],
    ]
    assert len(forecast) == 24 * 14
    assert not forecast.duplicated(["unique_id", "ds"]).any()
    first = forecast.groupby("unique_id")["ds"].min()
    assert (first == pd.Timestamp("2024-01-01") + pd.Timedelta(days=140)).all()
    quantiles = forecast[[quantile_column(q) for q in DEFAULT_QUANTILES]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    assert (quantiles >= 0).all()


def test_single_model_means_equal_statsforecast(daily_sales: pd.DataFrame) -> None:
    ours = AutoForecaster(horizon=7, models=["seasonal_naive"]).fit(daily_sales, freq="D").predict()
    theirs = StatsForecast(models=[SeasonalNaive(season_length=7)], freq="D").forecast(
        h=7, df=daily_sales[["unique_id", "ds", "y"]]
    )
    merged = ours.merge(theirs, on=["unique_id", "ds"])
    assert len(merged) == len(ours)
    np.testing.assert_allclose(merged["mean"], merged["SeasonalNaive"])


def test_leaderboard_ranks_candidates_and_the_winner_is_first(daily_sales: pd.DataFrame) -> None:
    model = AutoForecaster(horizon=7, models=["historic_average", "seasonal_naive", "window_average"]).fit(
        daily_sales, freq="D"
    )
    board = model.leaderboard_
    assert board["wrmsse"].is_monotonic_increasing
    assert board.iloc[0]["candidate"] == model.chosen_.name
    # Weekly seasonality is strong: a flat historic average cannot win.
    assert model.chosen_.name != "historic_average"
    assert len(board) == 3 + 3 + 1  # singles, pairs, the triple


def test_quantiles_are_calibrated_on_held_out_data() -> None:
    history = make_series(n_series=150, days=175, seed=3)
    cutoff = pd.Timestamp("2024-01-01") + pd.Timedelta(days=160)
    train, test = history[history["ds"] < cutoff], history[history["ds"] >= cutoff]
    forecast = (
        AutoForecaster(horizon=15, models=["seasonal_naive", "window_average"]).fit(train, freq="D").predict()
    )
    merged = forecast.merge(test, on=["unique_id", "ds"])
    inside_90 = ((merged["y"] >= merged["q0.05"]) & (merged["y"] <= merged["q0.95"])).mean()
    inside_50 = ((merged["y"] >= merged["q0.25"]) & (merged["y"] <= merged["q0.75"])).mean()
    assert 0.84 <= inside_90 <= 0.96
    assert 0.40 <= inside_50 <= 0.62


def test_lightgbm_uses_known_future_promotions() -> None:
    history = make_series(n_series=30, days=200, seed=5, promo=True)
    last = history["ds"].max()
    future = pd.DataFrame(
        [
            (uid, last + pd.Timedelta(days=step), float(step % 2))
            for uid in history["unique_id"].unique()
            for step in range(1, 15)
        ],
        columns=["unique_id", "ds", "promo"],
    )
    model = AutoForecaster(horizon=14, models=["lightgbm"]).fit(history, freq="D", covariates=["promo"])
    forecast = model.predict(future=future).merge(future, on=["unique_id", "ds"])
    lift = forecast.groupby("promo")["mean"].mean()
    assert lift[1.0] > 2.0 * lift[0.0]  # the true lift is x3


def test_short_series_fall_back_and_still_get_spread() -> None:
    history = make_series(n_series=5, days=12, seed=1)
    model = AutoForecaster(horizon=5).fit(history, freq="D")
    forecast = model.predict()
    assert model.fallback_series_ == 5
    assert model.chosen_.name == "window_average"
    assert (forecast["q0.95"] > forecast["q0.5"]).any()


def test_bad_arguments_are_named() -> None:
    with pytest.raises(InputError, match="unknown model 'prophet'"):
        AutoForecaster(horizon=3, models=["prophet"]).fit(make_series(2, 30), freq="D")
    with pytest.raises(InputError, match="horizon 0"):
        AutoForecaster(horizon=0).fit(make_series(2, 30), freq="D")
    with pytest.raises(RuntimeError, match="not fitted"):
        AutoForecaster(horizon=3).predict()
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        parse_quantiles("0.5,1.5")
    assert parse_quantiles("0.9, 0.1,0.5") == (0.1, 0.5, 0.9)


@pytest.mark.parametrize(("freq", "season"), [("D", 7), ("W-SUN", 52), ("MS", 12), ("QS", 4)])
def test_season_length(freq: str, season: int) -> None:
    assert season_length(freq) == season
