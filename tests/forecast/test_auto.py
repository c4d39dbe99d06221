"""AutoForecaster: the output contract, golden agreement with statsforecast, selection, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import SeasonalNaive

from cpfr.exceptions import InputError, NotFittedError
from cpfr.forecast.auto import AutoForecaster, NegativeValuesWarning
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
    assert model.chosen_.name == board["candidate"].iloc[0]
    # The three singles and the greedy ensemble of them, if it beats the best single.
    assert {"historic_average", "seasonal_naive", "window_average"} <= set(board["candidate"])
    assert len(board) <= 4
    assert sum(model.chosen_.weights) == pytest.approx(1.0)
    # Weekly seasonality is strong: the seasonal naive carries the most weight.
    assert model.chosen_.models[0] == "seasonal_naive"


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
    with pytest.raises(NotFittedError, match="not fitted"):
        AutoForecaster(horizon=3).predict()
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        parse_quantiles("0.5,1.5")
    assert parse_quantiles("0.9, 0.1,0.5") == (0.1, 0.5, 0.9)


@pytest.mark.parametrize(("freq", "season"), [("D", 7), ("W-SUN", 52), ("MS", 12), ("QS", 4)])
def test_season_length(freq: str, season: int) -> None:
    assert season_length(freq) == season


def test_tweedie_variant_forecasts_counts_without_scaling(daily_sales: pd.DataFrame) -> None:
    model = AutoForecaster(horizon=7, models=["lightgbm_tweedie"], n_windows=1).fit(daily_sales, freq="D")
    forecast = model.predict().merge(
        daily_sales.groupby("unique_id")["y"].mean().rename("level").reset_index(), on="unique_id"
    )
    assert (forecast["mean"] >= 0).all()
    # Levels range from 5 to 50 a day: the global model keeps each series near its own level.
    ratio = forecast.groupby("unique_id")["mean"].mean() / forecast.groupby("unique_id")["level"].first()
    assert ratio.between(0.6, 1.6).all()


def test_large_data_uses_the_recent_window_and_fast_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import cpfr.forecast.auto as auto

    monkeypatch.setattr(auto, "_LARGE", 1_000)
    history = make_series(n_series=10, days=700, seed=2)
    model = AutoForecaster(horizon=7).fit(history, freq="D")
    assert model.large_
    assert model.windows_ == 2
    assert model.history_.groupby("unique_id").size().max() == auto._RECENT_SEASONS * 7
    assert set(model.leaderboard_["candidate"]) >= {"seasonal_naive", "tsb", "lightgbm_direct_tweedie"}
    assert not any("ets" in name or "theta" in name for name in model.leaderboard_["candidate"])


def test_series_switch_to_a_clearly_better_candidate() -> None:
    rng = np.random.default_rng(4)
    dates = pd.date_range("2024-01-01", periods=140, freq="D")
    pattern = np.tile([0.0, 0.0, 0.0, 0.0, 0.0, 40.0, 40.0], 20)
    frames = [
        pd.DataFrame(
            {"unique_id": f"weekly{n}", "ds": dates, "y": pattern + rng.normal(0, 1, 140).round().clip(0)}
        )
        for n in range(10)
    ] + [
        pd.DataFrame({"unique_id": f"flat{n}", "ds": dates, "y": rng.poisson(20, 140).astype(float)})
        for n in range(10)
    ]
    history = pd.concat(frames, ignore_index=True)
    model = AutoForecaster(horizon=7, models=["seasonal_naive", "historic_average"]).fit(history, freq="D")
    names = {uid: model.alternatives_[k].name for uid, k in model.series_choice_.items()}
    weekly = {names[f"weekly{n}"] for n in range(10)}
    flat = {names[f"flat{n}"] for n in range(10)}
    assert weekly == {"seasonal_naive"}
    assert "seasonal_naive" not in flat  # a noisy flat series never copies last week
    assert "historic_average" in flat
    forecast = model.predict()
    weekend = forecast[forecast["ds"].dt.dayofweek >= 5]
    assert weekend[weekend["unique_id"].str.startswith("weekly")]["mean"].min() > 35
    fixed = AutoForecaster(horizon=7, models=["seasonal_naive", "historic_average"], per_series=False).fit(
        history, freq="D"
    )
    assert set(fixed.series_choice_.index) == set(model.series_choice_.index)
    assert (fixed.series_choice_ == 0).all()


def test_the_global_model_is_left_out_where_history_is_shorter_than_its_lags() -> None:
    short = make_series(n_series=4, days=30)[["unique_id", "ds", "y"]]
    # 30 days, three 7-day backtest windows: the earliest window keeps 9 days, fewer than lag 7 + 8.
    model = AutoForecaster(horizon=7, models=["lightgbm", "window_average"], n_windows=3).fit(short, freq="D")
    assert model.chosen_.models == ("window_average",)
    assert list(model.leaderboard_["candidate"]) == ["window_average"]


def _random_walks(n_series: int = 60, days: int = 150, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"w{n:02d}", "ds": dates, "y": 500 + np.cumsum(rng.normal(0, 5, days))}
            )
            for n in range(n_series)
        ],
        ignore_index=True,
    )


def test_intervals_widen_with_the_horizon_where_the_errors_do() -> None:
    walks = _random_walks()
    forecast = AutoForecaster(horizon=14, models=["naive"]).fit(walks, freq="D").predict()
    width = (forecast["q0.95"] - forecast["q0.05"]).groupby(forecast.groupby("unique_id").cumcount()).mean()
    assert (np.diff(width.to_numpy()) >= -1e-9).all()
    # A random walk's h-step error grows like sqrt(h): sqrt(14) = 3.7 x the first step's.
    assert width.iloc[-1] / width.iloc[0] > 2.5
    # Independent noise around a level: errors do not grow, neither do the intervals.
    flat = make_series(n_series=60, days=150, seed=8)[["unique_id", "ds", "y"]]
    steady = AutoForecaster(horizon=14, models=["seasonal_naive"]).fit(flat, freq="D").predict()
    width = (steady["q0.95"] - steady["q0.05"]).groupby(steady.groupby("unique_id").cumcount()).mean()
    assert width.iloc[-1] / width.iloc[0] < 1.5


def test_negative_values_are_accepted_with_a_warning_and_not_floored() -> None:
    walks = _random_walks(n_series=20, days=120).assign(y=lambda frame: frame["y"] - 500.0)
    negative = int((walks["y"] < 0).sum())
    assert negative > 100
    with pytest.warns(NegativeValuesWarning, match=f"{negative:,} periods have a negative y"):
        model = AutoForecaster(horizon=7, models=["naive", "tsb"]).fit(walks, freq="D")
    assert model.negative_values_ == negative
    forecast = model.predict()
    assert (forecast["mean"] < 0).any() and (forecast["q0.05"] < 0).any()
    # TSB needs counts: it saw the history clipped at zero, so it never forecasts below zero.
    assert (model.backtest_["tsb"] >= 0).all()


def test_two_jobs_give_the_same_forecast_as_one() -> None:
    history = make_series(n_series=12, days=120, seed=9)[["unique_id", "ds", "y"]]
    settings = {"horizon": 7, "models": ["seasonal_naive", "lightgbm_direct_tweedie", "tsb"], "n_windows": 2}
    one = AutoForecaster(**settings, n_jobs=1).fit(history, freq="D")
    two = AutoForecaster(**settings, n_jobs=2).fit(history, freq="D")
    pd.testing.assert_frame_equal(one.leaderboard_, two.leaderboard_)
    pd.testing.assert_frame_equal(one.predict(), two.predict())


def test_every_fitted_attribute_is_set_on_every_path() -> None:
    attributes = [
        "chosen_",
        "alternatives_",
        "series_choice_",
        "leaderboard_",
        "conformal_",
        "fallback_series_",
        "negative_values_",
        "backtest_",
        "error_paths_",
        "path_bins_",
        "residuals_",
    ]
    backtested = AutoForecaster(horizon=5, models=["window_average"]).fit(make_series(3, 60), freq="D")
    too_short = AutoForecaster(horizon=5, models=["window_average"]).fit(make_series(3, 12), freq="D")
    for model in (backtested, too_short):
        assert all(hasattr(model, name) for name in attributes)
        assert len(model.predict()) == 15
    with pytest.raises(NotFittedError, match="not fitted"):
        AutoForecaster(horizon=3).sample_paths(pd.DataFrame())
