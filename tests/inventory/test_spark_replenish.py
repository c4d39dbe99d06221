"""Replenishment orders computed on Spark equal the local ones, item for item."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpfr.forecast.spark_engine import SparkEngine
from cpfr.inventory.replenish import plan_orders


@pytest.mark.parametrize(("lost_sales", "moq", "pack_size"), [(False, 0, 1), (True, 5, 4)])
def test_orders_on_spark_equal_the_local_orders(
    spark_engine: SparkEngine, lost_sales: bool, moq: int, pack_size: int
) -> None:
    rng = np.random.default_rng(7)
    items, n_paths, lead_time, review_period = 250, 200, 2, 3
    ids = [f"P{item % 4}|I{item:04d}" for item in range(items)]
    paths = rng.poisson(
        rng.gamma(2.0, 3.0, items)[:, None, None], (items, n_paths, lead_time + review_period)
    )
    settings = {
        "lead_time": lead_time,
        "review_period": review_period,
        "holding_cost": rng.uniform(0.5, 2.0, items),
        "shortage_cost": 9.0,
        "lost_sales": lost_sales,
        "moq": moq,
        "pack_size": pack_size,
    }
    on_hand = (
        rng.integers(-5, 30, items).astype(float) if not lost_sales else rng.integers(0, 30, items) * 1.0
    )
    in_transit = rng.integers(0, 10, (items, lead_time)).astype(float)
    local = plan_orders(ids, paths.astype(float), on_hand, in_transit, **settings).orders
    spark = plan_orders(
        ids, paths.astype(float), on_hand, in_transit, **settings, engine="spark", spark_master="local[2]"
    ).orders
    assert spark["unique_id"].tolist() == ids
    assert (local["order_qty"] > 0).sum() > 50
    pd.testing.assert_frame_equal(local, spark, check_exact=False, atol=1e-6, rtol=0)
