from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cpfr.data.demo as demo
from cpfr.data import schema
from cpfr.data.demo import DemoConfig, DemoScenario, generate_scenario, write_scenario

FACT_TABLES = ("sales", "inventory", "orders", "promotions")


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return generate_scenario(DemoConfig.small())


def _assert_same(frame: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    # Compare categoricals by categories and codes: assert_frame_equal is slow on them.
    assert list(frame.columns) == list(other.columns), name
    plain, plain_other = frame.copy(), other.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            assert list(frame[column].cat.categories) == list(other[column].cat.categories), column
            plain[column] = frame[column].cat.codes
            plain_other[column] = other[column].cat.codes
    pd.testing.assert_frame_equal(plain, plain_other, obj=name)


def _present(series: pd.Series) -> pd.Series:
    return series[series.notna()].astype(str)


def _reference_values(tables: dict[str, pd.DataFrame], reference: schema.Reference) -> set[str]:
    if reference == schema.SITES:
        return set(tables["locations"]["location_id"]) | set(tables["warehouses"]["warehouse_id"])
    return set(_present(tables[reference.table][reference.column]))


def test_public_api_is_sorted_and_complete() -> None:
    assert demo.__all__ == sorted(demo.__all__)
    assert demo.__all__ == ["DemoConfig", "DemoScenario", "generate_scenario", "write_scenario"]


def test_tables_come_in_dependency_order(scenario: DemoScenario) -> None:
    expected = list(schema.USER_TABLES)
    assert list(scenario.tables) == expected
    assert all(len(frame) > 0 for frame in scenario.tables.values())


def test_same_seed_gives_identical_tables_and_another_seed_other_sales(scenario: DemoScenario) -> None:
    again = generate_scenario(DemoConfig.small())
    for name, frame in scenario.tables.items():
        _assert_same(frame, again.tables[name], name)
    _assert_same(scenario.true_demand, again.true_demand, "true_demand")
    assert json.dumps(scenario.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)

    other = generate_scenario(DemoConfig.small(), seed=7)
    assert other.config.seed == 7
    assert not scenario.tables["sales"].equals(other.tables["sales"])
    assert scenario.tables["sales"]["units"].sum() != other.tables["sales"]["units"].sum()


@pytest.mark.parametrize("name", list(schema.USER_TABLES))
def test_table_follows_the_schema(scenario: DemoScenario, name: str) -> None:
    spec = schema.table(name)
    frame = scenario.tables[name]
    names = {column.name for column in spec.columns}
    assert set(frame.columns) <= names
    for column in spec.columns:
        if column.required:
            assert column.name in frame.columns, column.name
            assert frame[column.name].notna().all(), column.name
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        present = values[values.notna()]
        if column.choices:
            assert set(present.astype(str)) <= set(column.choices), column.name
        if column.minimum is not None:
            assert (present >= column.minimum).all(), column.name
        if column.maximum is not None:
            assert (present <= column.maximum).all(), column.name
        if column.references is not None:
            missing = set(present.astype(str)) - _reference_values(scenario.tables, column.references)
            assert not missing, f"{name}.{column.name}: {sorted(missing)[:5]}"
    assert not frame.duplicated(list(spec.key)).any()
    for rule, (first, second) in spec.checks:
        both = frame[first].notna() & frame[second].notna()
        if rule == "ordered_dates":
            assert (frame.loc[both, second] >= frame.loc[both, first]).all()
        else:
            assert (frame.loc[both, first] <= frame.loc[both, second]).all()


def test_categories_form_a_two_level_tree(scenario: DemoScenario) -> None:
    categories = scenario.tables["categories"].set_index("category_id")
    top = categories[categories["level"] == 1]
    assert set(top.index) == {"3C", "HA", "WEAR", "CAR", "BATH"}
    assert top["parent_id"].isna().all()
    leaves = categories[categories["level"] == 2]
    assert set(leaves["parent_id"]) <= set(top.index)
    assert set(scenario.tables["products"]["category_id"]) <= set(leaves.index)


def test_fact_rows_carry_the_owner_of_their_sku(scenario: DemoScenario) -> None:
    owner = scenario.tables["products"].set_index("sku_id")["partner_id"]
    for name in FACT_TABLES:
        frame = scenario.tables[name]
        expected = owner.reindex(frame["sku_id"].astype(str)).to_numpy()
        assert (frame["partner_id"].astype(str).to_numpy() == expected).all(), name
    locations = scenario.tables["locations"]
    brand_stores = locations["channel_id"].isin(["XIAOMI_HOME", "MIDEA_STORE", "LENOVO_STORE"])
    assert locations.loc[brand_stores, "partner_id"].notna().all()
    assert locations.loc[~brand_stores, "partner_id"].isna().all()


def test_catalogue_matches_the_alliance(scenario: DemoScenario) -> None:
    products = scenario.tables["products"]
    assert set(products["partner_id"]) == {"XIAOMI", "LENOVO", "MIDEA", "JOMOO", "BYD"}
    cars = products[products["category_id"] == "CAR_EV"]
    assert set(cars["partner_id"]) == {"BYD"}
    assert (cars["list_price"] >= 99_000).all()
    bands = products[products["category_id"] == "BAND"]
    assert (bands["list_price"] < 500).all()
    assert all(isinstance(json.loads(text), dict) for text in products["attributes"])
    c2m = set(products.loc[products["is_c2m"], "sku_id"])
    assert len(c2m) == round(0.05 * len(products))
    # C2M models are online exclusives.
    sales = scenario.tables["sales"]
    c2m_sales = sales[sales["sku_id"].astype(str).isin(c2m)]
    assert len(c2m_sales) > 0 and c2m_sales["location_id"].astype(str).str.startswith("ZONE_").all()
    zones = scenario.tables["locations"].query("kind == 'online_zone'")
    assert len(zones) == 30 and zones["city"].isna().all()
    assert set(zip(zones["region"], zones["city_tier"], strict=True)) == {
        (region, tier) for region in schema.REGIONS for tier in range(1, 6)
    }


def test_sales_only_while_a_sku_is_on_sale(scenario: DemoScenario) -> None:
    sales = scenario.tables["sales"]
    products = scenario.tables["products"].set_index("sku_id")
    launch = products["launch_date"].reindex(sales["sku_id"].astype(str)).to_numpy()
    end = products["end_date"].reindex(sales["sku_id"].astype(str)).to_numpy()
    dates = sales["date"].to_numpy()
    assert (dates >= launch).all()
    assert (np.isnat(end) | (dates <= end)).all()
    assert (sales["units"] > 0).all()
    assert (sales["paid_price"] <= sales["list_price"]).all()
    expected_paid = (sales["list_price"] * (1 - sales["discount"])).round(2)
    np.testing.assert_allclose(sales["paid_price"], expected_paid, atol=0.01)


def _keyed(frame: pd.DataFrame, site: str) -> pd.DataFrame:
    return frame.assign(
        sku_id=frame["sku_id"].astype(str), site_id=frame[site].astype(str), date=frame["date"]
    ).drop(columns=[site] if site != "site_id" else [])


def test_stockouts_censor_recorded_sales(scenario: DemoScenario) -> None:
    truth = _keyed(scenario.true_demand, "location_id")
    sales = _keyed(scenario.tables["sales"], "location_id")[["date", "sku_id", "site_id", "units"]]
    joined = sales.merge(truth, on=["date", "sku_id", "site_id"], how="left", validate="one_to_one")
    assert joined["demand"].notna().all()
    assert (joined["units"] <= joined["demand"]).all()

    inventory = _keyed(scenario.tables["inventory"], "site_id")
    stockouts = inventory[inventory["stockout"]]
    assert len(stockouts) > 0
    assert (stockouts["on_hand"] == 0).all()
    censored = stockouts.merge(truth, on=["date", "sku_id", "site_id"], how="left").merge(
        sales, on=["date", "sku_id", "site_id"], how="left"
    )
    censored["units"] = censored["units"].fillna(0)
    assert censored["demand"].notna().all()
    assert (censored["units"] <= censored["demand"]).all()
    assert (censored["demand"] > censored["units"]).all()
    # Away from stockouts nothing is lost: sales equal demand on most cells.
    assert (joined["units"] == joined["demand"]).mean() > 0.9


def test_festival_peaks_spike_and_pull_demand_forward(scenario: DemoScenario) -> None:
    sales = scenario.tables["sales"]
    daily = sales.groupby("date")["units"].sum()
    median_day = daily.median()
    events = scenario.tables["events"]
    festivals = events[events["event_id"].str.match(r"^(618|D11)-")]
    checked = 0
    for festival in festivals.itertuples(index=False):
        window_start = festival.start_date - pd.Timedelta(days=35)
        if festival.peak_date not in daily.index or window_start < daily.index.min():
            continue
        checked += 1
        assert daily[festival.peak_date] > 2 * median_day, festival.event_id
        before = daily[
            (daily.index >= festival.start_date - pd.Timedelta(days=5)) & (daily.index < festival.start_date)
        ]
        baseline = daily[
            (daily.index >= window_start) & (daily.index < festival.start_date - pd.Timedelta(days=7))
        ]
        assert before.mean() < baseline.mean(), festival.event_id
    assert checked >= 3  # 618-2024, D11-2024, 618-2025


def test_hot_launches_sell_out_in_their_first_month(scenario: DemoScenario) -> None:
    hot = scenario.truth["hot_launch_skus"]
    assert len(hot) >= 2
    inventory = scenario.tables["inventory"]
    launches = scenario.tables["products"].set_index("sku_id")["launch_date"]
    history_start = pd.Timestamp(scenario.config.history_start)
    for sku in hot:
        launch = launches[sku]
        assert launch > history_start
        first_month = (inventory["date"] >= launch) & (inventory["date"] < launch + pd.Timedelta(days=30))
        assert (first_month & inventory["stockout"] & (inventory["sku_id"] == sku)).any(), sku
    events = scenario.tables["events"]
    assert {f"LAUNCH-{sku}" for sku in hot} <= set(events.loc[events["kind"] == "launch", "event_id"])


def test_targets_add_up_and_match_expected_gmv(scenario: DemoScenario) -> None:
    targets = scenario.tables["targets"].set_index("target_id")
    for partner in scenario.tables["partners"]["partner_id"]:
        whole = targets.loc[f"T-{partner}-GMV-2024-2026", "value"]
        years = targets.loc[[f"T-{partner}-GMV-{year}" for year in (2024, 2025, 2026)], "value"]
        assert years.sum() == pytest.approx(whole, rel=1e-6)
    expected = scenario.truth["target_expected"]
    ambition = scenario.truth["ambition_factors"]
    assert set(expected) == set(targets.index) == set(ambition)
    for target_id, row in targets.iterrows():
        ratio = row["value"] / expected[target_id]
        assert 0.9 <= ratio <= 1.15
        assert ratio == pytest.approx(ambition[target_id], rel=1e-5)
    wear = targets.loc["T-XIAOMI-WEAR-UNITS-2024-2026"]
    assert (wear["metric"], wear["category_id"]) == ("units", "WEAR")
    online = targets[targets["channel_kind"] == "platform_online"]
    assert set(online["partner_id"]) == {"MIDEA"} and len(online) == 3


def test_subsidies_lift_demand_and_are_paid_only_in_subsidy_periods(scenario: DemoScenario) -> None:
    truth = scenario.true_demand
    category = scenario.tables["products"].set_index("sku_id")["category_id"]
    leaf = category.reindex(truth["sku_id"].astype(str)).to_numpy()
    dates = truth["date"]
    subsidised = (dates >= "2025-01-01") & (dates <= "2025-06-30")
    year_before = (dates >= "2024-01-01") & (dates <= "2024-06-30")
    for appliance in ("AC", "FRIDGE", "WASHER"):
        in_category = leaf == appliance
        during = truth.loc[subsidised & in_category, "demand_mean"].mean()
        before = truth.loc[year_before & in_category, "demand_mean"].mean()
        assert during > before, appliance

    sales = scenario.tables["sales"]
    sales_leaf = category.reindex(sales["sku_id"].astype(str)).to_numpy()
    # JOMOO's bathroom range is never subsidised; appliances are from September 2024.
    assert (sales.loc[np.isin(sales_leaf, ["TOILET", "SHOWER"]), "subsidy_yuan"] == 0).all()
    appliances = np.isin(sales_leaf, ["AC", "FRIDGE", "WASHER", "TV"])
    assert (sales.loc[appliances & (sales["date"] < "2024-09-01"), "subsidy_yuan"] == 0).all()
    # Inside its region's window an eligible appliance's every sale is subsidised, outside none is.
    region = scenario.tables["locations"].set_index("location_id")["region"]
    sales_region = region.reindex(sales["location_id"].astype(str)).to_numpy()
    inside = np.zeros(len(sales), dtype=bool)
    for event_id, windows in scenario.truth["subsidy_windows"].items():
        if "-HA" not in event_id:
            continue
        for name, (first, last) in windows.items():
            inside |= (sales_region == name) & (sales["date"] >= first) & (sales["date"] <= last).to_numpy()
    paid = sales["subsidy_yuan"] > 0
    assert not (paid & appliances & ~inside).any()
    attributes = scenario.tables["products"].set_index("sku_id")["attributes"]
    rating = attributes.map(lambda text: json.loads(text).get("energy_rating", 1))
    eligible = (rating.reindex(sales["sku_id"].astype(str)) <= 2).to_numpy()
    assert paid[appliances & inside & eligible].all()
    assert not paid[appliances & ~eligible].any()  # energy rating 3 is not subsidised
    late = sales.loc[paid & appliances]
    assert (late["subsidy_yuan"] <= np.minimum(0.15 * late["paid_price"], 2000) + 0.01).all()
    # Provinces open on their own days: the regions' first days differ.
    assert len({first for first, _ in scenario.truth["subsidy_windows"]["SUBSIDY-2024-HA"].values()}) > 1


def test_truth_is_json_and_names_the_drivers(scenario: DemoScenario) -> None:
    truth = json.loads(json.dumps(scenario.truth))
    for key in (
        "elasticity",
        "event_uplift",
        "pull_forward",
        "subsidy_uplift",
        "tier_growth_per_year",
        "weekly_seasonality",
        "yearly_seasonality",
        "hot_launch_skus",
        "launch_curve",
        "ambition_factors",
        "subsidy_cannibalisation",
        "subsidy_pull_forward",
        "subsidy_windows",
        "subsidy_effects",
    ):
        assert key in truth
    assert all(-3.0 <= value <= -1.5 for value in truth["elasticity"].values())
    assert all(0.15 <= value <= 0.30 for value in truth["subsidy_uplift"].values())
    growth = truth["tier_growth_per_year"]
    assert growth["5"] > growth["3"] > growth["1"]


def test_write_scenario_writes_typed_parquet_that_reads_back(scenario: DemoScenario, tmp_path: Path) -> None:
    written = write_scenario(scenario, tmp_path)
    assert [path.name for path in written] == [
        *(f"{name}.parquet" for name in scenario.tables),
        "true_demand.parquet",
        "parameters.json",
    ]
    assert all(path.is_file() for path in written)
    assert not list(tmp_path.rglob("*.tmp"))
    for name, frame in scenario.tables.items():
        table = pq.read_table(tmp_path / f"{name}.parquet")
        assert table.num_rows == len(frame)
        assert table.column_names == list(frame.columns)
    sales = pq.read_schema(tmp_path / "sales.parquet")
    assert sales.field("date").type == pa.date32()
    assert sales.field("units").type == pa.int64()
    assert sales.field("sku_id").type == pa.string()
    assert pq.read_schema(tmp_path / "inventory.parquet").field("stockout").type == pa.bool_()
    assert pq.read_table(tmp_path / "truth" / "true_demand.parquet").num_rows == len(scenario.true_demand)
    parameters = json.loads((tmp_path / "truth" / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["hot_launch_skus"] == scenario.truth["hot_launch_skus"]


def test_written_scenario_ingests_into_the_store(scenario: DemoScenario, tmp_path: Path) -> None:
    store_module = pytest.importorskip("cpfr.data.store")
    from cpfr.data.ingest import ingest_file

    write_scenario(scenario, tmp_path)
    store = store_module.open_store(tmp_path / "demo.duckdb", mode="create")
    try:
        for name, frame in scenario.tables.items():
            result = ingest_file(store, tmp_path / f"{name}.parquet", name)
            assert result.inserted == len(frame), name
    finally:
        store.close()


def test_partner_forecasts_cover_past_and_future_weeks_with_known_injections(scenario: DemoScenario) -> None:
    forecasts = scenario.tables["partner_forecasts"]
    end = pd.Timestamp(scenario.config.history_end)
    assert (forecasts["ds"].dt.dayofweek == 0).all()  # weeks start on Monday
    future = forecasts[forecasts["ds"] > end]
    assert future["ds"].nunique() == 8 and forecasts[forecasts["ds"] <= end]["ds"].nunique() == 26
    owners = scenario.tables["products"].set_index("sku_id")["partner_id"]
    assert (forecasts["sku_id"].map(owners) == forecasts["partner_id"]).all()
    injections = pd.DataFrame(scenario.truth["partner_forecast_injections"])
    assert len(injections) > 0 and set(injections["kind"]) <= {"discrepancy", "promotion_miss"}
    keyed = forecasts.assign(ds=forecasts["ds"].dt.strftime("%Y-%m-%d")).set_index(
        ["sku_id", "channel_id", "ds"]
    )
    injected = keyed.loc[list(injections[["sku_id", "channel_id", "ds"]].itertuples(index=False, name=None))]
    assert (pd.to_datetime(injected.index.get_level_values("ds")) > end).all()
