"""The partner-scoped store handle: reads keep the partner's and shared rows, writes only its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cpfr.data.sources import open_source
from cpfr.data.store import Store
from cpfr.data.store.scoped import PartnerStore, scoped
from cpfr.exceptions import AccessError, ValidationError
from tests.conftest import SALES_HEADER


def test_reads_keep_the_partners_rows_and_shared_ones_only(store: Store) -> None:
    with scoped(store, "XIAOMI") as xiaomi:
        assert set(xiaomi.read_table("products")["partner_id"]) == {"XIAOMI"}
        assert set(xiaomi.read_table("sales")["sku_id"]) == {"P1"}
        channels = xiaomi.read_table("channels")
        assert len(channels) == 2 and channels["partner_id"].isna().all()  # platform-shared
        cube = xiaomi.sales_cube(["partner_id"])
        assert list(cube["partner_id"]) == ["XIAOMI"]


def test_asking_for_another_partner_reads_as_nothing(store: Store) -> None:
    with scoped(store, "XIAOMI") as xiaomi:
        assert xiaomi.read_table("products", partner_id="MIDEA").empty
        assert xiaomi.sales_cube(["sku_id"], partner_id="MIDEA").empty
        assert xiaomi.count_rows("sales", partner_id="MIDEA") == 0
        assert xiaomi.count_rows("sales") == 2
        assert xiaomi.read_table("products", where={"sku_id": "A1"}).empty  # Midea's SKU


def test_table_info_and_date_range_cover_the_partners_rows(store: Store) -> None:
    with scoped(store, "MIDEA") as midea:
        sales = next(info for info in midea.table_info() if info.table == "sales")
        assert sales.rows == 1 and [entry[0] for entry in sales.by_partner] == ["MIDEA"]
        first, last = midea.date_range("sales")
        assert str(first)[:10] == str(last)[:10] == "2024-01-01"


def test_a_partner_cannot_load_another_partners_rows(
    store: Store, write_file: Callable[[str, str | bytes], Path]
) -> None:
    before = store.content_digest()
    bad = write_file(
        "sales.csv",
        "date,sku_id,location_id,partner_id,units\n"
        "2024-01-03,P1,Z-N-1,XIAOMI,1\n2024-01-03,A1,S-001,,2\n2024-01-04,P1,S-001,MIDEA,1\n",
    )
    with scoped(store, "XIAOMI") as xiaomi, pytest.raises(ValidationError) as caught:
        xiaomi.ingest(open_source(bad), "sales")
    where = {(problem.row, problem.column) for problem in caught.value.problems}
    assert where == {(3, "sku_id"), (4, "partner_id")}  # Midea's SKU with no partner; Midea's id
    assert store.content_digest() == before


def test_a_partner_loads_its_own_facts_but_not_reference_tables(
    store: Store, write_file: Callable[[str, str | bytes], Path]
) -> None:
    good = write_file("sales.csv", SALES_HEADER + "2024-01-05,P1,Z-N-1,4,3999,3999\n")
    with scoped(store, "XIAOMI") as xiaomi:
        assert xiaomi.ingest(open_source(good), "sales").inserted == 1
        products = write_file("products.csv", "sku_id,partner_id,name,category_id\nP9,XIAOMI,X,PHONE\n")
        with pytest.raises(AccessError):
            xiaomi.ingest(open_source(products), "products")
    assert store.count_rows("sales", where={"sku_id": "P1"}) == 3


def test_cpfr_rows_written_for_a_partner_must_all_be_its_own(store: Store) -> None:
    row = {
        "audit_id": "A1",
        "at": "2024-01-01T00:00:00+00:00",
        "user_id": "u1",
        "action": "test",
        "target": "t",
        "detail": "{}",
    }
    with scoped(store, "XIAOMI") as xiaomi:
        with pytest.raises(ValidationError):
            xiaomi.write_rows(pd.DataFrame([{**row, "partner_id": "MIDEA"}]), "audit_log")
        with pytest.raises(ValidationError):  # a platform-shared row is not the partner's to write
            xiaomi.write_rows(pd.DataFrame([{**row, "partner_id": None}]), "audit_log")
        xiaomi.write_rows(pd.DataFrame([{**row, "partner_id": "XIAOMI"}]), "audit_log")
    assert list(store.read_table("audit_log")["partner_id"]) == ["XIAOMI"]


def test_schema_changes_and_whole_store_digests_are_refused(store: Store) -> None:
    with scoped(store, "XIAOMI") as xiaomi:
        assert isinstance(xiaomi, PartnerStore)
        with pytest.raises(AccessError):
            xiaomi.migrate()
        with pytest.raises(AccessError):
            xiaomi.content_digest()
        with pytest.raises(AccessError):
            xiaomi.session("MIDEA")
        with xiaomi.session() as again:
            assert set(again.read_table("products")["partner_id"]) == {"XIAOMI"}
    assert store.read_table("products").shape[0] == 2  # closing the handles left the store open


def test_shoppers_searches_are_the_platforms_own(
    store: Store, tmp_path: Path, write_file: Callable[[str, str | bytes], Path]
) -> None:
    searches = write_file(
        "searches.csv",
        "week,category_id,attribute,value,price_band,city_tier,searches,views\n"
        "2024-01-01,PHONE,storage_gb,512,2000-2999,3,1200,300\n2024-01-01,AC,horsepower,1.5,2000-2999,4,80,9\n",
    )
    store.ingest(open_source(searches), "searches")
    assert store.count_rows("searches") == 2
    with scoped(store, "XIAOMI") as xiaomi:
        assert xiaomi.read_table("searches").empty
        assert xiaomi.count_rows("searches") == 0
        info = next(info for info in xiaomi.table_info() if info.table == "searches")
        assert info.rows == 0 and info.by_partner == ()
        assert xiaomi.date_range("searches") == (None, None)
        assert not xiaomi.read_table("channels").empty  # shared reference rows stay readable
        with pytest.raises(AccessError, match="platform's own rows"):
            xiaomi.export("searches", tmp_path / "searches.csv")
        with pytest.raises(AccessError):
            xiaomi.ingest(open_source(searches), "searches")
