"""Forecasting the store's sales: series by level, stockouts unconstrained, coherent hierarchies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.forecast.store_forecast import forecast_store, store_history


def test_history_levels_sum_to_the_same_units(small_demo_store: Store) -> None:
    by_store, censored = store_history(small_demo_store, "sku/store")
    by_sku, _ = store_history(small_demo_store, "sku")
    assert censored > 0
    assert by_store["y"].sum() == pytest.approx(by_sku["y"].sum())
    # Every series runs to the last sales day, one row per day.
    last = by_store["ds"].max()
    assert (by_store.groupby("unique_id")["ds"].max() == last).all()
    assert not by_store.duplicated(["unique_id", "ds"]).any()
    recorded = small_demo_store.sales_cube([])["units"].item()
    assert by_store["y"].sum() > recorded  # stockout days raised to estimated demand


def test_reconciled_store_forecasts_are_coherent(small_demo_store: Store) -> None:
    result = forecast_store(
        small_demo_store,
        level="sku",
        horizon=7,
        models=["seasonal_naive", "window_average"],
        reconcile_method="mint_shrink",
    )
    assert result.reconciliation in ("mint_shrink", "wls_struct")
    assert result.aggregates is not None
    products = small_demo_store.read_table("products").set_index("sku_id")
    bottom = result.forecast.assign(partner=result.forecast["sku_id"].map(products["partner_id"]))
    totals = bottom.groupby("ds")["mean"].sum().to_numpy()
    total_node = result.aggregates[result.aggregates["unique_id"] == "total"]["mean"].to_numpy()
    np.testing.assert_allclose(totals, total_node, rtol=1e-6)
    xiaomi = bottom[bottom["partner"] == "XIAOMI"].groupby("ds")["mean"].sum().to_numpy()
    xiaomi_node = result.aggregates[result.aggregates["unique_id"] == "partner_id=XIAOMI"]["mean"].to_numpy()
    np.testing.assert_allclose(xiaomi, xiaomi_node, rtol=1e-6)
    assert (result.forecast["mean"] >= 0).all()
    runs = small_demo_store.read_table("forecast_runs").set_index("run_id")
    assert runs.loc[result.run_id, "series"] == result.forecast["unique_id"].nunique()


def test_unknown_level_is_refused(small_demo_store: Store) -> None:
    with pytest.raises(
        InputError, match=r"^level 'city'"
    ):  # the domain names its parameter; the CLI its flag
        store_history(small_demo_store, "city")


def test_reconcile_needs_the_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cpfr.cli.main import app

    history = tmp_path / "h.csv"
    history.write_text("unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,2\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["forecast", str(history), "-h", "1", "-o", str(tmp_path / "o.csv"), "--reconcile", "ols"]
    )
    assert result.exit_code == 2
    assert "--reconcile needs the store" in result.output
