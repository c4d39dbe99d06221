"""The model registry: every model honours the protocol; the global direct model's features and covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpfr.exceptions import InputError
from cpfr.forecast.base import ForecastModel, Setup
from cpfr.forecast.features import DirectFeatures, Panel
from cpfr.forecast.registry import MODELS, get_model
from tests.forecast.conftest import make_series


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_forecasts_every_series_over_the_horizon(name: str) -> None:
    history = make_series(n_series=6, days=120)[["unique_id", "ds", "y"]]
    model: ForecastModel = get_model(name)
    assert model.name == name
    forecast = model.forecast(history, Setup(horizon=5, freq="D", season=7), None)
    assert list(forecast.columns) == ["unique_id", "ds", name]
    assert len(forecast) == 6 * 5
    assert forecast[name].notna().all()
    first = forecast.groupby("unique_id")["ds"].min()
    assert (first == history["ds"].max() + pd.Timedelta(days=1)).all()
    assert model.min_history(Setup(horizon=5, freq="D", season=7)) >= 1


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown model 'prophet'.*seasonal_naive"):
        get_model("prophet")


def test_panel_aligns_series_on_their_last_period_and_keeps_future_covariates() -> None:
    history = pd.DataFrame(
        {
            "unique_id": ["b", "b", "b", "a", "a"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02", "2024-01-03"]),
            "y": [1.0, 2.0, 3.0, 10.0, 20.0],
            "price": [1.0, 1.0, 1.0, 2.0, 2.0],
        }
    )
    future = pd.DataFrame(
        {"unique_id": ["a", "b"], "ds": pd.to_datetime(["2024-01-04", "2024-01-04"]), "price": [5.0, 6.0]}
    )
    panel = Panel.from_frame(history, freq="D", horizon=1, covariates=["price"], future=future)
    assert panel.ids.tolist() == ["a", "b"]
    np.testing.assert_array_equal(panel.values[1], [1.0, 2.0, 3.0])
    assert np.isnan(panel.values[0, 0]) and panel.values[0, 1:].tolist() == [10.0, 20.0]
    assert panel.covariates[0][:, -1].tolist() == [5.0, 6.0]
    assert str(panel.dates[0, -1])[:10] == "2024-01-04"


def test_direct_features_never_read_the_target_period() -> None:
    history = make_series(n_series=3, days=60)[["unique_id", "ds", "y"]]
    panel = Panel.from_frame(history, freq="D", horizon=7)
    features = DirectFeatures(panel, freq="D", season=7, scale_window=28)
    series, origin, step = np.array([0, 1]), np.array([40, 40]), np.array([1, 7])
    before = features.rows(series, origin, step)
    changed = Panel(panel.ids, panel.values.copy(), panel.dates, panel.covariates, (), 7)
    changed.values[:, 41:] = 1e6  # everything after the origin
    after = DirectFeatures(changed, freq="D", season=7, scale_window=28).rows(series, origin, step)
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.parametrize("name", ["lightgbm_direct", "lightgbm_direct_tweedie"])
def test_direct_models_use_known_future_promotions(name: str) -> None:
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
    setup = Setup(horizon=14, freq="D", season=7, covariates=("promo",))
    forecast = get_model(name).forecast(history, setup, future).merge(future, on=["unique_id", "ds"])
    lift = forecast.groupby("promo")[name].mean()
    assert lift[1.0] > 2.0 * lift[0.0]  # the true lift is x3
