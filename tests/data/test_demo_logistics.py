"""The demo's logistics tables: plausible rates, sizes, capacities and baskets, the same for the same seed."""

from __future__ import annotations

import pandas as pd
import pytest

from cpfr.data.demo import DemoConfig, DemoScenario, generate_scenario
from cpfr.data.demo.logistics import distance_band
from cpfr.network.cost import size_class


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return generate_scenario(DemoConfig.small())


def test_parcel_rates_grow_with_distance(scenario: DemoScenario) -> None:
    rates = scenario.tables["parcel_rates"]
    warehouses = scenario.tables["warehouses"].set_index("warehouse_id")
    assert len(rates) == len(warehouses) * 6 * 4 and rates["partner_id"].isna().all()
    bands = [
        distance_band(warehouses.loc[origin, "region"], region, warehouses.loc[origin, "tier"])
        for origin, region in zip(rates["origin_warehouse_id"], rates["destination_region"], strict=True)
    ]
    mean = rates.assign(band=bands).groupby(["size_class", "band"])["yuan_per_parcel"].mean().unstack()
    assert (mean["local"] < mean["regional"]).all() and (mean["regional"] < mean["neighbour"]).all()
    assert (mean["neighbour"] < mean["far"]).all()
    ratio = mean["regional"] / mean["local"]  # an RDC against the FDC, both in the region
    assert ((ratio > 1.8) & (ratio < 3.2)).all()
    assert ((rates["leg_kind"] == "local") == (pd.Series(bands) == "local")).all()
    assert set(rates.loc[rates["leg_kind"] == "local", "transit_days"]) <= {1, 2}


def test_sizes_by_category_and_cars_are_not_parcels(scenario: DemoScenario) -> None:
    products = scenario.tables["products"]
    classes = pd.Series(
        size_class(products["weight_kg"].to_numpy(), products["volume_l"].to_numpy()),
        index=products["category_id"],
    )
    assert set(classes.loc[["PHONE", "BAND", "WATCH"]]) == {"S"}
    assert set(classes.loc[["LAPTOP"]]) == {"M"}
    assert set(classes.loc[["WASHER", "FRIDGE", "TV", "AC"]]) == {"XL"}
    assert set(classes.loc[["CAR_EV"]]) == {""}
    warehouses = scenario.tables["warehouses"]
    assert (warehouses["capacity_volume_l"] > 0).all()
    assert (warehouses["capacity_volume_l"] / warehouses["capacity_units"]).nunique() == 1


def test_baskets_pair_co_purchases_mostly_of_one_brand(scenario: DemoScenario) -> None:
    baskets = scenario.tables["baskets"]
    assert baskets["location_id"].str.startswith("ZONE_").all()
    assert not baskets.duplicated(["basket_id", "sku_id"]).any()
    category = baskets["sku_id"].map(scenario.tables["products"].set_index("sku_id")["category_id"])
    lines = baskets.assign(category=category)
    pairs = lines[lines.groupby("basket_id")["sku_id"].transform("size") == 2]
    assert 0.1 < pairs["basket_id"].nunique() / baskets["basket_id"].nunique() < 0.5
    first = pairs.groupby("basket_id").first()
    second = pairs.groupby("basket_id").last()
    assert (first["category"] == "PHONE").sum() > 0
    assert set(second.loc[first["category"] == "PHONE", "category"]) <= {"BAND", "WATCH"}
    assert (first["partner_id"] == second["partner_id"]).mean() > 0.6
    assert "CAR_EV" not in set(second["category"])  # nobody adds a car to a phone order


def test_same_seed_same_logistics_and_the_truth_records_it(scenario: DemoScenario) -> None:
    again = generate_scenario(DemoConfig.small())
    for name in ("parcel_rates", "logistics_settings", "baskets", "products"):
        pd.testing.assert_frame_equal(scenario.tables[name], again.tables[name], obj=name)
    truth = scenario.truth["logistics"]
    assert truth["split_surcharge_yuan"] == 8.0 and truth["not_parcel_shipped_categories"] == ["CAR_EV"]
    other = generate_scenario(DemoConfig.small(), seed=7)
    assert not other.tables["baskets"].equals(scenario.tables["baskets"])
