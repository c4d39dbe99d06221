"""Synthetic series with known structure for forecasting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_series(n_series: int = 24, days: int = 140, seed: int = 0, promo: bool = False) -> pd.DataFrame:
    """Daily Poisson sales with a weekly pattern, per-series level and, optionally, promotion lifts x3."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 1.3])
    frames = []
    for number in range(n_series):
        level = rng.uniform(5, 50)
        flags = (rng.random(days) < 0.1).astype(float) if promo else np.zeros(days)
        mean = level * weekly[dates.dayofweek] * (1 + 2 * flags)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"S{number:02d}",
                    "ds": dates,
                    "y": rng.poisson(mean).astype(float),
                    "promo": flags,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def daily_sales() -> pd.DataFrame:
    return make_series()
