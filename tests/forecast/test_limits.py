"""Forecast bounds (issue 10): the horizon, the backtest and the history, refused up front under domain names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpfr.exceptions import InputError, LimitError
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.base import parse_quantiles
from cpfr.forecast.inputs import load_forecast_input
from cpfr.forecast.limits import MAX_HORIZON, horizon_bound


def test_the_horizon_bound_follows_the_history_and_the_calendar() -> None:
    assert horizon_bound(84).maximum == 840
    assert horizon_bound(50_000).maximum == MAX_HORIZON
    assert horizon_bound(0).maximum == 10  # an empty history still allows a short horizon
    daily = horizon_bound(5_000, last=pd.Timestamp("2262-01-01"), freq="D")
    assert daily.maximum == (pd.Timestamp.max.normalize() - pd.Timestamp("2262-01-01")).days
    assert pd.Timestamp("2262-01-01") + pd.Timedelta(days=daily.maximum) <= pd.Timestamp.max


def test_load_forecast_input_names_the_horizon_not_a_flag(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("unique_id,ds,y\n" + "".join(f"a,2024-01-{day:02d},{day}\n" for day in range(1, 11)))
    with pytest.raises(LimitError, match=r"^horizon 101: expected a whole number >= 1 and <= 100 \(periods"):
        load_forecast_input(path, horizon=101)
    with pytest.raises(InputError, match=r"^horizon 0: expected"):
        load_forecast_input(path, horizon=0)
    assert len(load_forecast_input(path, horizon=100).history) == 10


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"horizon": 0}, "^horizon 0"),
        ({"horizon": 20_000}, "^horizon 20000"),
        ({"horizon": 2, "n_windows": 0}, "^n_windows 0"),
        ({"horizon": 2, "n_windows": 101}, "^n_windows 101"),
        ({"horizon": 2, "step": 0}, "^step 0"),
    ],
)
def test_the_forecaster_refuses_its_parameters_out_of_bounds(settings: dict[str, int], message: str) -> None:
    history = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=30), "y": 1.0})
    with pytest.raises(InputError, match=message):
        AutoForecaster(models=["naive"], **settings).fit(history, freq="D")  # type: ignore[arg-type]


def test_quantile_levels_are_bounded_and_name_no_flag() -> None:
    with pytest.raises(LimitError, match="at most 100"):
        parse_quantiles(",".join(str(level / 1000) for level in range(1, 500)))
    with pytest.raises(InputError, match=r"^quantiles 'a,b'"):
        parse_quantiles("a,b")
