"""Today's network orders: echelon levels on a hand-checkable network, rationing, and the demo store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.inventory.store_plan import ORDER_COLUMNS, NetworkCosts, latest_stock, network_orders, plan_network

AS_OF = dt.date(2025, 6, 30)
# One RDC (lead 5 days) feeding two FDCs (lead 2 and 3); three stores, one day from their FDC.
WAREHOUSES = pd.DataFrame(
    {
        "warehouse_id": ["R", "F1", "F2"],
        "parent_warehouse_id": [None, "R", "R"],
        "lead_time_days": [5, 2, 3],
        "holding_cost_rate": [0.18, 0.24, 0.24],
    }
).set_index("warehouse_id")
ITEMS = pd.DataFrame(
    {
        "sku_id": ["A", "A", "A"],
        "location_id": ["s1", "s2", "s3"],
        "warehouse_id": ["F1", "F1", "F2"],
        "price": [100.0, 100.0, 100.0],
    }
)
EMPTY = pd.DataFrame(columns=["sku_id", "site_id", "on_hand", "in_transit"])


def _quantities(orders: pd.DataFrame) -> dict[str, int]:
    return dict(zip(orders["to_site_id"], orders["quantity"].astype(int), strict=True))


def test_known_demand_gives_the_echelon_quantities_by_hand() -> None:
    # Two units a day at every store, no uncertainty: each stage orders its echelon's demand over
    # its lead time, the lead times below it and the review day; stores lose the sales they cannot serve.
    paths = np.full((3, 5, 20), 2.0)
    orders = network_orders(ITEMS, paths, WAREHOUSES, EMPTY, as_of=AS_OF, costs=NetworkCosts())
    assert list(orders.columns) == ORDER_COLUMNS
    # Stores: empty, so the lead day's demand is lost; the order covers the review day.
    # F1: (2 + 1 + 1) days x 4 a day; F2: (3 + 1 + 1) x 2; R: (5 + 3 + 1 + 1) days x 6 a day.
    assert _quantities(orders) == {"s1": 2, "s2": 2, "s3": 2, "F1": 16, "F2": 10, "R": 60}
    rows = orders.set_index("to_site_id")
    assert rows.loc["R", "kind"] == "purchase" and rows.loc["R", "from_site_id"] is None
    assert rows.loc["F2", "from_site_id"] == "R" and rows.loc["s3", "from_site_id"] == "F2"
    assert rows.loc["R", "due_date"] == AS_OF + dt.timedelta(days=6)
    assert rows.loc["F2", "due_date"] == AS_OF + dt.timedelta(days=4)
    assert (orders["order_date"] == AS_OF + dt.timedelta(days=1)).all()


def test_stock_anywhere_below_counts_in_the_echelon_and_short_warehouses_ration() -> None:
    paths = np.full((3, 5, 20), 2.0)
    stock = pd.DataFrame(
        {"sku_id": ["A", "A"], "site_id": ["F1", "s1"], "on_hand": [3, 1], "in_transit": [0, 0]}
    )
    asked = network_orders(ITEMS, paths, WAREHOUSES, stock, as_of=AS_OF, costs=NetworkCosts())
    assert _quantities(asked) == {"s1": 2, "s2": 2, "s3": 2, "F1": 12, "F2": 10, "R": 56}
    rationed = network_orders(ITEMS, paths, WAREHOUSES, stock, as_of=AS_OF, costs=NetworkCosts(), ration=True)
    # F1 holds 3 units for 4 asked: fair shares 1.5 + 1.5, the remainder to one; R and F2 hold nothing.
    granted = _quantities(rationed)
    assert granted["s1"] + granted["s2"] == 3 and {granted["s1"], granted["s2"]} == {1, 2}
    assert "s3" not in granted and "F1" not in granted and granted["R"] == 56
    assert rationed.attrs["units_cut"] == 1 + 2 + 12 + 10


def test_uncertain_demand_orders_more_at_a_higher_shortage_cost() -> None:
    rng = np.random.default_rng(3)
    paths = rng.poisson(2.0, size=(3, 400, 20)).astype(float)
    cheap = network_orders(
        ITEMS, paths, WAREHOUSES, EMPTY, as_of=AS_OF, costs=NetworkCosts(shortage_rate=0.0002)
    )
    dear = network_orders(ITEMS, paths, WAREHOUSES, EMPTY, as_of=AS_OF, costs=NetworkCosts(shortage_rate=0.5))
    low, high = _quantities(cheap), _quantities(dear)
    assert all(high[site] >= low.get(site, 0) for site in high)
    assert high["R"] > 60 > low["R"]  # above and below the mean echelon demand


def test_a_cycle_of_suppliers_and_bad_costs_are_refused() -> None:
    looped = WAREHOUSES.assign(parent_warehouse_id=["F1", "R", "R"])
    with pytest.raises(InputError, match="cycle"):
        network_orders(ITEMS, np.ones((3, 5, 20)), looped, EMPTY, as_of=AS_OF, costs=NetworkCosts())
    with pytest.raises(InputError, match=r"^shortage_rate 0"):  # the domain names its parameter, not a flag
        NetworkCosts(shortage_rate=0).check()


def test_latest_stock_takes_the_last_snapshot_less_later_sales(small_demo_store: Store) -> None:
    last = pd.Timestamp(small_demo_store.sales_cube(["date"])["date"].max())
    stock = latest_stock(small_demo_store, last)
    assert not stock.duplicated(["sku_id", "site_id"]).any()
    assert (stock["on_hand"] >= 0).all() and (stock["in_transit"] >= 0).all()
    inventory = small_demo_store.read_table("inventory")
    inventory["date"] = pd.to_datetime(inventory["date"])
    snapshot_day = last - pd.Timedelta(days=1)
    full = inventory[(inventory["date"] == snapshot_day) & (inventory["on_hand"] > 0)]
    sales = small_demo_store.sales_cube(["sku_id", "location_id", "date"])
    sales = sales[pd.to_datetime(sales["date"]) == last].set_index(["sku_id", "location_id"])["units"]
    found = stock.set_index(["sku_id", "site_id"])["on_hand"]
    today = inventory[inventory["date"] == last][["sku_id", "site_id"]].assign(today=True)
    full = full.merge(today, how="left", on=["sku_id", "site_id"])
    full = full[full["today"].isna()]  # no snapshot on the last day: yesterday's less today's sales
    sold = sales.reindex(pd.MultiIndex.from_frame(full[["sku_id", "site_id"]])).fillna(0).to_numpy()
    expected = np.maximum(full["on_hand"].to_numpy(float) - sold, 0)
    keys = pd.MultiIndex.from_frame(full[["sku_id", "site_id"]])
    assert found.reindex(keys).to_numpy() == pytest.approx(expected)
    assert len(full) > 100 and (sold > 0).sum() > 10


@pytest.fixture(scope="module")
def demo_plan(small_demo_store: Store):
    return plan_network(small_demo_store, models=["seasonal_naive", "window_average"], n_paths=100)


def test_demo_store_plan_follows_the_network(small_demo_store: Store, demo_plan) -> None:
    orders = demo_plan.orders
    warehouses = small_demo_store.read_table("warehouses").set_index("warehouse_id")
    locations = small_demo_store.read_table("locations").set_index("location_id")
    supplier = pd.concat([warehouses["parent_warehouse_id"], locations["warehouse_id"]])
    assert list(orders.columns) == ORDER_COLUMNS and len(orders) > 100
    assert (orders["quantity"] > 0).all() and orders["quantity"].dtype.kind == "i"
    assert not demo_plan.warehouse_stock_known and demo_plan.units_cut == 0
    purchases = orders[orders["kind"] == "purchase"]
    assert set(purchases["to_site_id"]) == set(warehouses.index[warehouses["tier"] == "RDC"])
    transfers = orders[orders["kind"] == "transfer"]
    assert (transfers["from_site_id"].to_numpy() == supplier.loc[transfers["to_site_id"]].to_numpy()).all()
    assert not orders.duplicated(["sku_id", "to_site_id"]).any()
    assert (orders["order_date"] == demo_plan.as_of + dt.timedelta(days=1)).all()
    # Warehouses hold nothing: an RDC's echelon position is the stock at and on the way to its locations.
    stock = latest_stock(small_demo_store, pd.Timestamp(demo_plan.as_of))
    stock["rdc"] = stock["site_id"].map(locations["warehouse_id"]).map(warehouses["parent_warehouse_id"])
    echelon = (stock["on_hand"] + stock["in_transit"]).groupby([stock["sku_id"], stock["rdc"]]).sum()
    reported = purchases.set_index(["sku_id", "to_site_id"])["position"]
    assert reported.to_numpy() == pytest.approx(echelon.reindex(reported.index).fillna(0).to_numpy())
    assert reported.sum() > 0


def test_replenish_db_writes_the_network_orders(
    small_demo_store: Store, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    output = tmp_path / "orders.csv"
    result = cli(
        "replenish", "--db", small_demo_store.location, "--output", str(output),
        "--model", "seasonal_naive,window_average", "--paths", "60",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output)
    assert list(written.columns) == ORDER_COLUMNS and (written["quantity"] > 0).all()
    assert "warehouses start empty" in result.output
    both = cli("replenish", "sales.csv", "--db", small_demo_store.location, "--output", str(output))
    assert both.exit_code == 2 and "either SALES" in both.output
    no_state = cli("replenish", "sales.csv", "--output", str(output), "--lead-time", "2")
    assert no_state.exit_code == 2 and "--state" in no_state.output
