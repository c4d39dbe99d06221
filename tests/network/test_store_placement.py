"""Placement from the store: demand, costs and capacities read from a demo alliance, cost now vs planned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.data.store import Store
from cpfr.data.store.scoped import scoped
from cpfr.network.store_placement import plan_placement


@pytest.fixture(scope="module")
def plan(small_demo_store: Store) -> object:
    return plan_placement(small_demo_store, weeks=4)


def test_the_plan_places_parcel_skus_in_every_fdc_within_capacity(
    plan: object, small_demo_store: Store
) -> None:
    cells, by_region = plan.cells, plan.by_region  # type: ignore[attr-defined]
    fdcs = small_demo_store.read_table("warehouses").query("tier == 'FDC'")
    assert set(by_region["fdc_id"]) == set(fdcs["warehouse_id"])
    assert (by_region["capacity_used"] <= 1 + 1e-9).all()
    assert len(cells) == cells["sku_id"].nunique() * len(fdcs)
    assert cells["mean_daily"].sum() > 0 and (cells["sd_daily"] >= 0).all()


def test_the_planned_placement_costs_no_more_than_today_or_the_planners_rule(plan: object) -> None:
    planned = plan.cost_planned.total  # type: ignore[attr-defined]
    assert planned <= plan.cost_now.total + 1e-6  # type: ignore[attr-defined]
    assert planned <= plan.greedy_cost + 1e-6  # type: ignore[attr-defined]
    by_region = plan.by_region  # type: ignore[attr-defined]
    assert np.isclose(
        by_region["saving_yuan"].sum(), (by_region["cost_now_yuan"] - by_region["cost_planned_yuan"]).sum()
    )
    assert plan.gap <= 0.01  # type: ignore[attr-defined]


def test_demand_per_fdc_is_the_online_sales_of_its_zones(plan: object, small_demo_store: Store) -> None:
    cells = plan.cells  # type: ignore[attr-defined]
    zones = small_demo_store.read_table("locations").query("kind == 'online_zone'")
    end = pd.Timestamp(plan.as_of)  # type: ignore[attr-defined]
    sales = small_demo_store.read_table(
        "sales",
        where={"location_id": list(zones["location_id"])},
        start=(end - pd.Timedelta(days=27)).date(),
        end=end.date(),
    )
    sales = sales[sales["sku_id"].isin(cells["sku_id"])]
    per_fdc = sales.assign(fdc=sales["location_id"].map(zones.set_index("location_id")["warehouse_id"]))
    expected = per_fdc.groupby("fdc")["units"].sum() / 28
    got = cells.groupby("fdc_id")["mean_daily"].sum()
    pd.testing.assert_series_equal(got.reindex(expected.index), expected, check_names=False, rtol=1e-9)


def test_a_partners_plan_holds_only_its_skus(small_demo_store: Store) -> None:
    with scoped(small_demo_store, "XIAOMI") as view:
        own = plan_placement(view, weeks=4, partner_id="XIAOMI")
    assert set(own.cells["partner_id"]) == {"XIAOMI"}


def test_network_plan_command_writes_tables_and_a_summary(
    small_demo_store: Store, cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli(
        "network", "plan", "--db", small_demo_store.location, "--output", tmp_path / "np", "--weeks", "4"
    )
    assert result.exit_code == 0, result.output
    assert "daily fulfilment + holding cost" in result.output
    by_region = pd.read_parquet(tmp_path / "np" / "by_region.parquet")
    assert {"region", "fdc", "cost_now_yuan", "cost_planned_yuan", "saving_yuan"} <= set(by_region.columns)
    assert (tmp_path / "np" / "placement.parquet").stat().st_size > 0
    bad = cli("network", "plan", "--db", small_demo_store.location, "--partner", "NOPE")
    assert bad.exit_code == 2 and "unknown partner" in bad.output
