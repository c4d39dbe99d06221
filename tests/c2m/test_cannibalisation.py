"""Cannibalisation of a brand's cell: the cell, the diff-in-diff effect of a launch, the shrunk share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpfr.c2m.cannibalisation import (
    SHRINKAGE_LAUNCHES,
    cell_mates,
    estimate_cannibalisation,
    launch_effects,
)


def _products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku_id": ["MATE", "FAR", "OTHER", "NEW"],
            "partner_id": ["ACME", "ACME", "RIVAL", "ACME"],
            "category_id": ["TV"] * 4,
            "list_price": [1000.0, 5000.0, 1100.0, 1200.0],
            "launch_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-06-01"]),
            "end_date": pd.NaT,
        }
    )


def test_the_cell_is_the_brands_category_skus_within_the_price_ratio() -> None:
    assert cell_mates(_products(), "ACME", "TV", 1200.0) == ["MATE", "NEW"]
    assert cell_mates(_products(), "ACME", "PHONE", 1200.0) == []


def test_a_launch_that_halves_its_cell_mate_is_measured_net_of_the_category() -> None:
    products = _products()
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    launch = pd.Timestamp("2024-06-01")
    season = np.where(days >= launch, 2.0, 1.0)  # the whole category doubles after the launch
    mate = 10.0 * season * np.where(days >= launch, 0.5, 1.0)  # ... and the mate loses half of that
    daily = pd.concat(
        [
            pd.DataFrame({"sku_id": "MATE", "ds": days, "units": mate}),
            pd.DataFrame({"sku_id": "FAR", "ds": days, "units": 4.0 * season}),
            pd.DataFrame({"sku_id": "OTHER", "ds": days, "units": 6.0 * season}),
        ]
    )
    effects = launch_effects(products, daily, products[products["sku_id"] == "NEW"], horizon_days=60)
    assert effects == pytest.approx([np.log(0.5)])


def test_the_share_is_shrunk_by_the_launches_seen_and_capped_by_the_launch() -> None:
    effects = np.full(5, np.log(0.6))  # five launches, each took 40 % of its cell
    result = estimate_cannibalisation(
        effects, mates_rate=10.0, cell_skus=2, horizon_days=90, launch_units=1e6
    )
    assert result.share == pytest.approx(0.4 * 5 / (5 + SHRINKAGE_LAUNCHES))
    assert result.units == pytest.approx(result.share * 10.0 * 90)
    capped = estimate_cannibalisation(
        effects, mates_rate=10.0, cell_skus=2, horizon_days=90, launch_units=50.0
    )
    assert capped.units == 50.0
    alone = estimate_cannibalisation(effects, mates_rate=0.0, cell_skus=0, horizon_days=90, launch_units=50.0)
    assert alone.share == 0.0 and alone.units == 0.0
    assert estimate_cannibalisation(np.array([]), 10.0, 2, 90, 50.0).share == 0.0
