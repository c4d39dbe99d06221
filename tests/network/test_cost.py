"""The logistics cost model on a hand-made store whose fulfilment cost is worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpfr.cli.common import console
from cpfr.data.ingest import ingest_file
from cpfr.data.store import Store, open_store
from cpfr.exceptions import InputError, ValidationError
from cpfr.network.cost import fulfilment_cost, logistics_costs, size_class

WriteFile = Callable[[str, str | bytes], Path]

# Xiaomi sells a phone (S), a band (S) and a car (not parcel-shipped) online in the North, Midea an
# air conditioner (XL); one store sale is not a parcel. The North FDC runs out of the phone on 2 Jan.
FILES: dict[str, str] = {
    "partners": "partner_id,name\nXIAOMI,Xiaomi\nMIDEA,Midea\n",
    "categories": (
        "category_id,name,parent_id,level\n3C,3C,,1\nPHONE,Phones,3C,2\nBAND,Bands,3C,2\n"
        "HA,Appliances,,1\nAC,Air conditioners,HA,2\nCAR,Cars,,1\nCAR_EV,EVs,CAR,2\n"
    ),
    "products": (
        "sku_id,partner_id,name,category_id,list_price,weight_kg,volume_l\n"
        "P1,XIAOMI,Phone,PHONE,3999,0.5,1.5\nW1,XIAOMI,Band,BAND,199,0.1,0.4\n"
        "C1,XIAOMI,SU7,CAR_EV,215900,1900,12000\nA1,MIDEA,AC,AC,2999,48,220\n"
    ),
    "channels": "channel_id,name,kind\nJD,JD online,platform_online\nMALL,JD MALL,platform_offline\n",
    "warehouses": (
        "warehouse_id,name,tier,parent_warehouse_id,region,capacity_volume_l\n"
        "RDC_N,Langfang RDC,RDC,,North,5000000\nFDC_N,Tianjin FDC,FDC,RDC_N,North,800000\n"
    ),
    "locations": (
        "location_id,name,kind,channel_id,region,city_tier,warehouse_id\n"
        "Z-N-1,North tier 1 online,online_zone,JD,North,1,FDC_N\nS-001,JD MALL Beijing,store,MALL,North,1,FDC_N\n"
    ),
    "sales": (
        "date,sku_id,location_id,units\n2024-01-01,P1,Z-N-1,3\n2024-01-01,A1,Z-N-1,1\n"
        "2024-01-02,P1,Z-N-1,2\n2024-01-01,C1,Z-N-1,1\n2024-01-01,P1,S-001,5\n"
    ),
    "inventory": "date,sku_id,site_id,on_hand,stockout\n2024-01-02,P1,FDC_N,0,true\n",
    "parcel_rates": (
        "origin_warehouse_id,destination_region,size_class,leg_kind,yuan_per_parcel,transit_days\n"
        "FDC_N,North,S,local,6,1\nFDC_N,North,XL,local,80,2\nRDC_N,North,S,long_haul,12,2\n"
    ),
    "logistics_settings": (
        "setting_id,partner_id,valid_from,split_surcharge_yuan,handling_rdc_yuan_per_unit,"
        "handling_fdc_yuan_per_unit\nOLD,,2023-01-01,99,99,99\nPLATFORM,,2024-01-01,8,1.5,2.5\n"
        "MIDEA-1,MIDEA,2024-01-01,8,1.0,1.8\n"
    ),
    # X1 ships from the FDC in one parcel; X2 is split (the phone from the RDC, the band from the FDC).
    "baskets": (
        "basket_id,sku_id,date,location_id,units\nX1,P1,2024-01-01,Z-N-1,1\nX1,W1,2024-01-01,Z-N-1,1\n"
        "X2,P1,2024-01-02,Z-N-1,1\nX2,W1,2024-01-02,Z-N-1,1\nX3,A1,2024-01-01,Z-N-1,1\n"
    ),
}


@pytest.fixture
def db(tmp_path: Path, write_file: WriteFile) -> Path:
    path = tmp_path / "logistics.duckdb"
    with open_store(path, mode="create") as store:
        for table, content in FILES.items():
            ingest_file(store, write_file(f"{table}.csv", content), table)
    return path


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with open_store(db, mode="read") as opened:
        yield opened


def test_size_class_follows_the_chargeable_weight() -> None:
    weight = np.array([0.5, 0.1, 2.6, 3.0, 22.0, 48.0, 1900.0, np.nan])
    volume = np.array([1.5, 30.0, 9.0, np.nan, 260.0, 220.0, 12000.0, np.nan])
    # A light but bulky box (30 L = 5 kg) is M; no dimensions at all is taken as M.
    assert size_class(weight, volume).tolist() == ["S", "M", "M", "M", "XL", "XL", "", "M"]


def test_fulfilment_cost_matches_the_hand_computation(store: Store) -> None:
    result = fulfilment_cost(store, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2))
    rows = result.rows.set_index(["partner_id", "warehouse_id"])
    # Xiaomi's small units: 4 basket units in 3 parcels (X1 shares one), so 0.75 parcels a unit;
    # X2's 8 yuan split surcharge over Xiaomi's 4 basket units is 2 yuan a unit.
    local = rows.loc[("XIAOMI", "FDC_N")]
    assert local["units"] == 3 and local["parcels"] == pytest.approx(2.25)
    assert local["parcel_cost_yuan"] == pytest.approx(2.25 * 6)
    assert local["handling_cost_yuan"] == pytest.approx(3 * 2.5)
    assert local["split_cost_yuan"] == pytest.approx(3 * 2)
    assert local["cost_yuan"] == pytest.approx(27.0)
    assert local["local_share"] == 1.0
    # On 2 Jan the FDC was out of the phone: its 2 units went long-haul from the RDC.
    rdc = rows.loc[("XIAOMI", "RDC_N")]
    assert rdc["cost_yuan"] == pytest.approx(1.5 * 12 + 2 * 1.5 + 2 * 2)
    assert rdc["local_share"] == 0.0
    assert rdc["split_order_share"] == 0.5 and rdc["baskets"] == 2
    # Midea's air conditioner: one XL parcel, and Midea's own handling rate.
    assert rows.loc[("MIDEA", "FDC_N"), "cost_yuan"] == pytest.approx(80 + 1.8)
    assert result.cost_yuan == pytest.approx(27 + 25 + 81.8)
    assert result.units == 6 and result.not_parcel_units == 1 and result.assumed_size_units == 0
    assert (result.baskets, result.split_orders) == (3, 1)
    assert result.cost_per_unit_yuan == pytest.approx(133.8 / 6)


def test_a_partner_sees_its_own_sales_and_basket_lines(store: Store) -> None:
    midea = fulfilment_cost(store, end=dt.date(2024, 1, 2), partner_id="MIDEA")
    assert set(midea.rows["partner_id"]) == {"MIDEA"}
    assert midea.cost_yuan == pytest.approx(81.8)
    assert (midea.baskets, midea.split_orders) == (1, 0)
    assert midea.start == dt.date(2023, 12, 6)  # four weeks up to --end by default


def test_lookups_are_vectorised_and_a_missing_lane_is_an_error(store: Store) -> None:
    costs = logistics_costs(store)
    origin, region = np.array(["FDC_N", "RDC_N"]), np.array(["North", "North"])
    size = np.array(["S", "S"])
    assert costs.parcel_cost(origin, region, size).tolist() == [6.0, 12.0]
    assert costs.leg_kind(origin, region, size).tolist() == ["local", "long_haul"]
    assert costs.handling_per_unit(origin, np.array(["MIDEA", "XIAOMI"]), dt.date(2024, 1, 1)).tolist() == [
        1.8,
        1.5,
    ]
    # Before the 2024 settings the old platform row applies, to Midea too.
    assert costs.split_surcharge(np.array(["MIDEA"]), dt.date(2023, 6, 1)).tolist() == [99.0]
    with pytest.raises(InputError, match=r"no rate for 1 lane.*FDC_N → South → M"):
        costs.parcel_cost(np.array(["FDC_N"]), np.array(["South"]), np.array(["M"]))


def test_a_leg_kind_that_contradicts_its_lane_is_refused(db: Path, write_file: WriteFile) -> None:
    wrong = FILES["parcel_rates"].split("\n")[0] + "\nRDC_N,North,XL,local,100,2\n"
    with open_store(db) as store:
        ingest_file(store, write_file("wrong.csv", wrong), "parcel_rates")
        with pytest.raises(InputError, match="RDC_N → North \\(XL\\) says local"):
            logistics_costs(store)


@pytest.mark.parametrize(
    ("table", "content", "expected"),
    [
        (
            "parcel_rates",
            "origin_warehouse_id,destination_region,size_class,leg_kind,yuan_per_parcel,transit_days\n"
            "FDC_X,North,S,local,6,1\nFDC_N,Mars,XXL,local,-1,99\n",
            {
                (2, "origin_warehouse_id"),
                (3, "destination_region"),
                (3, "size_class"),
                (3, "yuan_per_parcel"),
                (3, "transit_days"),
            },
        ),
        (
            "logistics_settings",
            "setting_id,partner_id,valid_from,split_surcharge_yuan,handling_rdc_yuan_per_unit,"
            "handling_fdc_yuan_per_unit\nS1,ACME,2024-01-01,-8,1,1\nS2,,,8,1,\n",
            {
                (2, "partner_id"),
                (2, "split_surcharge_yuan"),
                (3, "valid_from"),
                (3, "handling_fdc_yuan_per_unit"),
            },
        ),
        (
            "baskets",
            "basket_id,sku_id,date,location_id,units\nB1,NOPE,2024-01-01,Z-N-1,1\nB2,P1,2024-01-01,Z-N-1,0\n",
            {(2, "sku_id"), (3, "units")},
        ),
    ],
)
def test_bad_rows_are_reported_by_row_and_column(
    db: Path, write_file: WriteFile, table: str, content: str, expected: set[tuple[int, str]]
) -> None:
    with open_store(db) as store, pytest.raises(ValidationError) as caught:
        ingest_file(store, write_file(f"bad_{table}.csv", content), table)
    assert expected <= {(problem.row, problem.column) for problem in caught.value.problems}


def test_network_cost_command_prints_names_and_writes_rows(
    db: Path, tmp_path: Path, cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wide terminal, so names are not wrapped mid-word (the test runner's is 80 columns).
    monkeypatch.setattr(console, "_width", 160)
    output = tmp_path / "cost.csv"
    result = cli(
        "network", "cost", "--db", db, "--start", "2024-01-01", "--end", "2024-01-02", "--output", output
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = result.stdout  # type: ignore[attr-defined]
    for expected in (
        "Xiaomi",
        "Midea",
        "Tianjin FDC",
        "Langfang RDC",
        "¥134",
        "¥22.3",
        "1 of 3 baskets split",
    ):
        assert expected in text
    assert "1 units too big for parcels" in text
    assert "wrote 3 rows" in result.stderr  # type: ignore[attr-defined]
    rows = pd.read_csv(output)
    assert rows["cost_yuan"].sum() == pytest.approx(133.8)
    assert set(rows["warehouse_name"]) == {"Tianjin FDC", "Langfang RDC"}


def test_network_cost_command_refuses_an_unknown_partner(db: Path, cli: Callable[..., object]) -> None:
    result = cli("network", "cost", "--db", db, "--partner", "ACME")
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert "unknown partner" in result.output  # type: ignore[attr-defined]
