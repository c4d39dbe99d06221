"""Forecast accuracy metrics: hand-computed examples and a cross-check against the shared scorer."""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from cpfr.exceptions import InputError
from cpfr.forecast.metrics import (
    interval_coverage,
    pinball_loss,
    quantile_columns,
    score,
    score_by_level,
    series_scales,
)

WEEK = pd.Timestamp("2024-01-01")


def week(number: int) -> pd.Timestamp:
    return WEEK + pd.Timedelta(weeks=number - 1)


@pytest.fixture
def tiny() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three series, season 2.

    a: weeks 1-4, y 1 3 2 6, price 1 1 2 2
    b: weeks 3-4, y 2 4, price 3 3          (not longer than the season: naive-1 MASE scale)
    c: weeks 2-4, y 5 5 5, price 1 1 1      (constant: zero scale, dropped)
    """
    train = pd.DataFrame(
        {
            "unique_id": ["a"] * 4 + ["b"] * 2 + ["c"] * 3,
            "ds": [week(1), week(2), week(3), week(4), week(3), week(4), week(2), week(3), week(4)],
            "y": [1.0, 3, 2, 6, 2, 4, 5, 5, 5],
            "price": [1.0, 1, 2, 2, 3, 3, 1, 1, 1],
            "store": ["s1"] * 9,
        }
    )
    truth = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b", "c", "c"], "ds": [week(5), week(6)] * 3, "y": [4.0, 8, 3, 5, 5, 5]}
    )
    forecast = truth.drop(columns="y").assign(
        mean=[5.0, 6, 3, 3, 5, 5],
        **{"q0.1": [3.0, 7, 2, 4, 5, 5], "q0.9": [6.0, 7.5, 4, 5, 5, 5]},
    )
    return train, truth, forecast


def test_quantile_columns_are_recognised_and_sorted_by_level() -> None:
    frame = pd.DataFrame(columns=["unique_id", "ds", "mean", "q0.95", "q0.05", "q0.5", "qty", "lo-80"])
    assert quantile_columns(frame) == [("q0.05", 0.05), ("q0.5", 0.5), ("q0.95", 0.95)]


def test_quantile_column_outside_zero_one_is_an_input_error() -> None:
    with pytest.raises(InputError, match="q5"):
        quantile_columns(pd.DataFrame(columns=["mean", "q5"]))


def test_pinball_loss_by_hand() -> None:
    # level 0.9: y - q = 10 - 8 = 2 -> 0.9 * 2 = 1.8; y - q = 2 - 4 = -2 -> (0.9 - 1) * -2 = 0.2; mean 1.0
    assert pinball_loss(np.array([10.0, 2.0]), np.array([8.0, 4.0]), 0.9) == pytest.approx(1.0)
    # the median's pinball loss is half the absolute error: (|1| + |-3|) / 2 / 2 = 1.0
    assert pinball_loss(pd.Series([1.0, 0.0]), pd.Series([0.0, 3.0]), 0.5) == pytest.approx(1.0)


def test_interval_coverage_is_closed_and_counts_missing_as_outside() -> None:
    observed = np.array([1.0, 2.0, 3.0, np.nan])
    # 1 and 2 are in [1, 2] (both ends count), 3 is above, NaN is outside -> 2 / 4
    assert interval_coverage(observed, np.ones(4), np.full(4, 2.0)) == 0.5


def test_series_scales_by_hand(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train = tiny[0].sample(frac=1.0, random_state=3)  # order must not matter
    scales = series_scales(train, season=2, weight_col="price")
    # a: diffs 2, -1, 4 -> sq (4 + 1 + 16) / 3 = 7, abs (2 + 1 + 4) / 3 = 7/3;
    #    lag-2 diffs 2 - 1 = 1, 6 - 3 = 3 -> mase scale 2; weight last 2 weeks 2*2 + 6*2 = 16
    # b: diff 2 -> sq 4, abs 2; length 2 is not > season 2 -> mase scale = naive-1 = 2; weight 2*3 + 4*3 = 18
    # c: diffs 0, 0 -> all scales 0; weight last 2 weeks 5*1 + 5*1 = 10
    expected = pd.DataFrame(
        {
            "sq_scale": [7.0, 4.0, 0.0],
            "abs_scale": [7 / 3, 2.0, 0.0],
            "mase_scale": [2.0, 2.0, 0.0],
            "weight": [16.0, 18.0, 10.0],
        },
        index=pd.Index(["a", "b", "c"], name="unique_id"),
    )
    pd.testing.assert_frame_equal(scales, expected)
    # without a price the weight is units: a 2 + 6 = 8, b 2 + 4 = 6, c 5 + 5 = 10; over 3 periods a 3 + 2 + 6 = 11
    assert series_scales(train, season=2)["weight"].tolist() == [8.0, 6.0, 10.0]
    assert series_scales(train, season=2, weight_periods=3)["weight"].tolist() == [11.0, 6.0, 15.0]


def test_one_point_history_has_no_scale_and_negative_weight_is_clipped() -> None:
    train = pd.DataFrame(
        {"unique_id": ["x", "y", "y"], "ds": [week(1), week(1), week(2)], "y": [3.0, -4.0, -1.0]}
    )
    scales = series_scales(train, season=4)
    assert scales.loc["x", ["sq_scale", "abs_scale", "mase_scale"]].isna().all()
    assert scales.loc["y", "sq_scale"] == 9.0  # (-1 - -4) ** 2
    assert scales.loc["y", "weight"] == 0.0  # -5 clipped at 0


def test_score_by_hand(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train, truth, forecast = tiny
    result = score(train, truth, forecast, season=2, weight_col="price")
    # errors y - mean: a (4-5, 8-6) = (-1, 2): mse 2.5, mae 1.5; b (0, 2): mse 2, mae 1; c (0, 0) dropped
    rmsse_a, rmsse_b = math.sqrt(2.5 / 7), math.sqrt(2 / 4)
    assert result["series"] == 3
    assert result["dropped_zero_scale"] == 1
    # weights by value over the last 2 weeks: a 16, b 18 -> shares 16/34, 18/34
    assert result["wrmsse"] == pytest.approx(16 / 34 * rmsse_a + 18 / 34 * rmsse_b, rel=1e-12)
    assert result["rmsse"] == pytest.approx((rmsse_a + rmsse_b) / 2, rel=1e-12)
    # MASE: a 1.5 / 2 = 0.75, b 1 / 2 = 0.5 -> 0.625
    assert result["mase"] == pytest.approx(0.625, rel=1e-12)
    # bias: sum(mean - y) = 1 - 2 + 0 - 2 + 0 + 0 = -3 over sum(y) = 30
    assert result["bias"] == pytest.approx(-0.1, rel=1e-12)
    # pinball over q0.1, q0.9 per point, then mean per series, scaled by abs_scale:
    # a week 5: y 4 vs 3 -> 0.1 * 1 = 0.1; vs 6 -> 0.1 * 2 = 0.2; mean 0.15
    # a week 6: y 8 vs 7 -> 0.1; vs 7.5 -> 0.9 * 0.5 = 0.45; mean 0.275 -> a 0.2125 / (7/3)
    # b week 5: y 3 vs 2 -> 0.1; vs 4 -> 0.1; mean 0.1; week 6: y 5 vs 4 -> 0.1, vs 5 -> 0; mean 0.05 -> b 0.075 / 2
    assert result["wspl"] == pytest.approx(16 / 34 * 0.2125 * 3 / 7 + 18 / 34 * 0.075 / 2, rel=1e-12)
    # 80% interval [q0.1, q0.9]: a 4 in [3, 6] yes, 8 in [7, 7.5] no; b 3 in [2, 4], 5 in [4, 5]; c both -> 5/6
    assert result["coverage_80"] == pytest.approx(5 / 6, rel=1e-12)
    assert math.isnan(result["coverage_90"])  # no q0.05 / q0.95
    # pooled: |errors| 1, 2, 0, 2, 0, 0 -> mae 5/6; squares 1, 4, 0, 4 -> rmse sqrt(9/6)
    assert result["mae"] == pytest.approx(5 / 6, rel=1e-12)
    assert result["rmse"] == pytest.approx(math.sqrt(1.5), rel=1e-12)


def test_score_weights_by_units_without_a_price(
    tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    train, truth, forecast = tiny
    result = score(train, truth, forecast, season=2)
    # units over the last 2 weeks: a 8, b 6
    assert result["wrmsse"] == pytest.approx(8 / 14 * math.sqrt(2.5 / 7) + 6 / 14 * math.sqrt(0.5), rel=1e-12)


def test_perfect_forecast_scores_zero(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train, truth, _ = tiny
    exact = truth.rename(columns={"y": "mean"}).assign(**{"q0.05": truth["y"], "q0.95": truth["y"]})
    result = score(train, truth, exact, season=2, weight_col="price", levels=(0.9,))
    assert result["wrmsse"] == 0.0
    assert result["mase"] == 0.0
    assert result["bias"] == 0.0
    assert result["wspl"] == 0.0
    assert result["coverage_90"] == 1.0
    assert "coverage_80" not in result


def test_no_quantile_columns_gives_nan_wspl(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train, truth, forecast = tiny
    result = score(train, truth, forecast[["unique_id", "ds", "mean"]], season=2)
    assert math.isnan(result["wspl"])
    assert math.isnan(result["coverage_80"])


def test_missing_forecast_rows_raise_with_count(
    tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    train, truth, forecast = tiny
    with pytest.raises(InputError, match=r"misses 2 .*\('c', 2024-01-29\)"):
        score(train, truth, forecast.iloc[:4], season=2)


def test_duplicate_forecast_rows_raise_with_count(
    tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    train, truth, forecast = tiny
    doubled = pd.concat([forecast, forecast.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match=r"forecast has 1 duplicate .*\('a', 2024-01-29\)"):
        score(train, truth, doubled, season=2)


def test_missing_columns_and_bad_levels_raise(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train, truth, forecast = tiny
    with pytest.raises(InputError, match=r"forecast: missing columns \['mean'\]"):
        score(train, truth, forecast.drop(columns="mean"), season=2)
    with pytest.raises(InputError, match="price"):
        score(train.drop(columns="price"), truth, forecast, season=2, weight_col="price")
    with pytest.raises(InputError, match="coverage levels"):
        score(train, truth, forecast, season=2, levels=(80,))


def test_score_by_level(tiny: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    train, truth, forecast = tiny
    hierarchy = {"total": [], "store": ["store"], "series": ["unique_id"]}
    table = score_by_level(train, truth, forecast, hierarchy, season=2)
    assert table.index.tolist() == ["total", "store", "series"]
    assert table.loc["series"].to_dict() == pytest.approx(
        score(train, truth, forecast, season=2), nan_ok=True
    )
    # total by week: 1, 3 + 5 = 8, 2 + 2 + 5 = 9, 6 + 4 + 5 = 15 -> diffs 7, 1, 6 -> sq scale 86/3
    # truth 12, 18 vs forecast 13, 14 -> errors -1, 4 -> mse 8.5
    assert table.loc["total", "wrmsse"] == pytest.approx(math.sqrt(8.5 / (86 / 3)), rel=1e-12)
    assert table.loc["total", "series"] == 1
    assert math.isnan(table.loc["total", "wspl"])  # sums of quantiles are not quantiles
    assert table.loc["store"].to_dict() == pytest.approx(table.loc["total"].to_dict(), nan_ok=True)


# --- cross-check against the shared scorer -------------------------------------------------------


def shared_tools() -> Path:
    configured = os.environ.get("CPFR_SHARED_TOOLS")
    return Path(configured) if configured else Path(__file__).resolve().parents[2].parent / "shared" / "tools"


@pytest.fixture(scope="module")
def shared_scorer() -> ModuleType:
    path = shared_tools() / "score_forecast.py"
    if not path.is_file():
        pytest.skip(f"shared scorer not found at {path}")
    spec = importlib.util.spec_from_file_location("shared_score_forecast", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_matches_shared(mine: dict[str, float], theirs: dict[str, float | None]) -> None:
    for key, value in theirs.items():
        if value is None:
            assert math.isnan(mine[key]), key
        else:
            assert mine[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_matches_shared_scorer_on_synthetic_data(shared_scorer: ModuleType) -> None:
    rng = np.random.default_rng(7)
    frames = []
    for number in range(50):
        length = [1, 3, 12, 30, 80][number % 5]  # one-point, shorter than the season, longer
        level = rng.uniform(0, 20)
        units = rng.poisson(level, length).astype(float) if number % 7 else np.full(length, 4.0)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{number:02d}",
                    "ds": pd.date_range("2023-01-02", periods=length, freq="W-MON")
                    + pd.Timedelta(weeks=80 - length),
                    "y": units,
                    "price": np.where(rng.random(length) < 0.05, np.nan, rng.uniform(1, 50, length)),
                }
            )
        )
    train = pd.concat(frames, ignore_index=True)
    horizon = pd.date_range(train["ds"].max() + pd.Timedelta(weeks=1), periods=6, freq="W-MON")
    ids = [f"s{number:02d}" for number in range(51)]  # s50 has no training history
    truth = pd.DataFrame({"unique_id": np.repeat(ids, 6), "ds": np.tile(horizon, len(ids))})
    truth["y"] = rng.poisson(8, len(truth)).astype(float)
    forecast = truth[["unique_id", "ds"]].assign(mean=rng.uniform(0, 16, len(truth)))
    spread = rng.uniform(1, 6, len(truth))
    for level, z in ((0.05, -1.645), (0.1, -1.2816), (0.5, 0.0), (0.9, 1.2816), (0.95, 1.645)):
        forecast[f"q{level}"] = forecast["mean"] + z * spread
    extra = forecast.iloc[[0]].assign(ds=horizon[-1] + pd.Timedelta(weeks=1))  # not in the truth: ignored
    forecast = pd.concat([forecast, extra], ignore_index=True).sample(frac=1.0, random_state=1)

    theirs = shared_scorer.score(train.copy(), truth.copy(), forecast.copy(), season=12, weight_col="price")
    mine = score(train, truth, forecast, season=12, weight_col="price")
    assert_matches_shared(mine, theirs)
    assert mine["dropped_zero_scale"] > 0 and theirs["coverage_90"] is not None


def test_matches_shared_scorer_on_vn2(shared_scorer: ModuleType) -> None:
    path = shared_tools().parent / "data" / "vn2" / "sales.parquet"
    if not path.is_file():
        pytest.skip(f"VN2 sales not found at {path}")
    sales = pd.read_parquet(path, columns=["unique_id", "ds", "y"])
    cutoff = sales["ds"].max() - pd.Timedelta(weeks=13)
    train = sales[sales["ds"] <= cutoff].sort_values(["unique_id", "ds"], ignore_index=True)
    truth = sales[sales["ds"] > cutoff].reset_index(drop=True)

    by_series = train.groupby("unique_id")["y"]
    level = train.groupby("unique_id").tail(8).groupby("unique_id")["y"].mean()
    # residuals of a rolling 8-week mean, one step ahead, give each series' quantile offsets
    rolling = by_series.transform(lambda units: units.shift().rolling(8).mean())
    offsets = (
        (train["y"] - rolling).groupby(train["unique_id"]).quantile([0.05, 0.1, 0.5, 0.9, 0.95]).unstack()
    )
    forecast = truth[["unique_id", "ds"]].assign(mean=truth["unique_id"].map(level))
    for quantile in offsets.columns:
        offset = truth["unique_id"].map(offsets[quantile]).fillna(0.0)
        forecast[f"q{quantile}"] = (forecast["mean"] + offset).clip(lower=0.0)

    theirs = shared_scorer.score(train.copy(), truth.copy(), forecast.copy(), season=52)
    mine = score(train, truth, forecast, season=52)
    assert_matches_shared(mine, theirs)
    assert mine["series"] > 500 and 0 < mine["wrmsse"] < 5


def test_ids_compare_as_text_like_the_shared_scorer() -> None:
    train = pd.DataFrame(
        {"unique_id": [7, 7, 7], "ds": ["2024-01-01", "2024-01-08", "2024-01-15"], "y": [1.0, 3, 4]}
    )
    truth = pd.DataFrame({"unique_id": ["7"], "ds": [week(4)], "y": [6.0]})
    forecast = pd.DataFrame({"unique_id": [7], "ds": ["2024-01-22"], "mean": [5.0]})
    # diffs 2, 1 -> sq scale 2.5; error 1 -> rmsse sqrt(1 / 2.5)
    assert score(train, truth, forecast, season=2)["wrmsse"] == pytest.approx(math.sqrt(0.4), rel=1e-12)
