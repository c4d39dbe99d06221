"""The store on both backends: upsert semantics, crash safety, migrations, reads and exports."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cpfr.data import schema
from cpfr.data.ingest import ingest_file
from cpfr.data.migrations import LATEST_VERSION
from cpfr.data.sources import frame_source
from cpfr.data.store import Store, open_store
from cpfr.data.store.postgres_store import PostgresStore
from cpfr.exceptions import MigrationError, StoreError, ValidationError
from tests.conftest import GOOD_SALES, REFERENCE_FILES, SALES_HEADER, load_alliance

WriteFile = Callable[[str, str | bytes], Path]


def test_ingesting_the_same_file_twice_leaves_the_same_store(any_store: Store, write_file: WriteFile) -> None:
    path = write_file("again.csv", GOOD_SALES)
    before = any_store.content_digest()
    result = ingest_file(any_store, path, "sales")
    assert (result.rows, result.inserted, result.replaced) == (3, 0, 3)
    after = any_store.content_digest()
    assert {name: after[name] for name in schema.USER_TABLES} == {
        name: before[name] for name in schema.USER_TABLES
    }
    assert len(any_store.read_table("sales")) == 3


def test_a_corrected_file_replaces_the_rows_of_its_keys(any_store: Store, write_file: WriteFile) -> None:
    corrected = SALES_HEADER + "2024-01-01,P1,Z-N-1,30,3999,3599\n"
    result = ingest_file(any_store, write_file("fix.csv", corrected), "sales")
    assert (result.inserted, result.replaced) == (0, 1)
    sales = any_store.read_table("sales").set_index(["date", "sku_id", "location_id"])["units"]
    assert sales.loc[(pd.Timestamp("2024-01-01"), "P1", "Z-N-1")] == 30
    assert sales.loc[(pd.Timestamp("2024-01-02"), "P1", "Z-N-1")] == 2  # untouched key kept
    assert len(sales) == 3


def test_partner_is_filled_from_the_sku_and_defaults_applied(any_store: Store) -> None:
    sales = any_store.read_table("sales").set_index("sku_id")
    assert set(sales.loc["P1", "partner_id"]) == {"XIAOMI"}
    assert sales.loc["A1", "partner_id"] == "MIDEA"
    assert (sales["subsidy_yuan"] == 0).all()


def test_read_table_for_a_partner_hides_other_partners_rows(any_store: Store) -> None:
    assert set(any_store.read_table("sales", partner_id="MIDEA")["sku_id"]) == {"A1"}
    channels = any_store.read_table("channels", partner_id="MIDEA")
    assert set(channels["channel_id"]) == {"JD", "MALL"}  # platform-shared rows stay visible


def test_ingest_log_records_each_successful_ingest(any_store: Store) -> None:
    log = any_store.read_table("ingest_log")
    assert set(log["table_name"]) == set(REFERENCE_FILES) | {"sales"}
    assert log.loc[log["table_name"] == "sales", "rows"].item() == 3
    assert log["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_sales_cube_sums_units_and_gmv_by_dimension(any_store: Store) -> None:
    cube = any_store.sales_cube(["partner_id", "category_l1", "channel_kind", "city_tier"]).set_index(
        "partner_id"
    )
    assert cube.loc["XIAOMI", "units"] == 5
    assert cube.loc["XIAOMI", "gmv_yuan"] == pytest.approx(3 * 3799 + 2 * 3999)
    assert cube.loc["XIAOMI", "category_l1"] == "3C"
    assert cube.loc["MIDEA", "channel_kind"] == "platform_offline"
    total = any_store.sales_cube([], start=dt.date(2024, 1, 2))
    assert total["units"].item() == 2


def test_table_info_counts_rows_and_date_ranges_per_partner(any_store: Store) -> None:
    info = {entry.table: entry for entry in any_store.table_info()}
    assert info["sales"].rows == 3
    by_partner = {partner: (rows, first, last) for partner, rows, first, last in info["sales"].by_partner}
    assert by_partner["XIAOMI"] == (2, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert by_partner["MIDEA"] == (1, dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert info["orders"].rows == 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trips_through_ingest(any_store: Store, tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"sales_export{suffix}"
    assert any_store.export("sales", output) == 3
    before = any_store.content_digest()["sales"]
    ingest_file(any_store, output, "sales")
    assert any_store.content_digest()["sales"] == before
    assert not list(tmp_path.glob("*.partial*"))


def test_export_for_one_partner(any_store: Store, tmp_path: Path) -> None:
    output = tmp_path / "midea.parquet"
    assert any_store.export("sales", output, partner_id="MIDEA") == 1
    assert pq.read_table(output).column("sku_id").to_pylist() == ["A1"]


def test_db_path_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CPFR_DB", str(tmp_path / "env.duckdb"))
    with open_store(mode="create") as store:
        assert store.location == str(tmp_path / "env.duckdb")
    assert (tmp_path / "env.duckdb").exists()


def test_a_postgres_url_opens_the_postgres_backend(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    monkeypatch.setenv("CPFR_DB", pg_url)
    with open_store(mode="create") as store:
        assert isinstance(store, PostgresStore)
        assert store.schema_version() == LATEST_VERSION
        password = pg_url.split("@")[0].rsplit(":", 1)[1]
        assert password not in store.location and ":***@" in store.location


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://cpfr:secret@127.0.0.1:9/cpfr")


def test_migrating_an_empty_store_creates_every_table(new_store_location: str) -> None:
    with open_store(new_store_location, mode="create", migrate=False) as store:
        assert store.schema_version() == 0
        assert store.migrate() == list(range(1, LATEST_VERSION + 1))
        assert store.schema_version() == LATEST_VERSION
        assert store.migrate() == []
        assert {entry.table for entry in store.table_info()} == {spec.name for spec in schema.TABLES}


@pytest.mark.parametrize("old_version", [1, 2, 7])
def test_migrating_an_older_store_keeps_its_data(
    new_store_location: str, write_file: WriteFile, old_version: int
) -> None:
    with open_store(new_store_location, mode="create", migrate=False) as store:
        assert store.migrate(target=old_version) == list(range(1, old_version + 1))
        for table, content in REFERENCE_FILES.items():
            ingest_source = write_file(f"{table}.csv", content)
            store_table = schema.table(table)
            assert store_table.added_in <= old_version
            _ingest_without_log(store, ingest_source, table)
        if old_version >= 2:
            _ingest_without_log(store, write_file("sales.csv", GOOD_SALES), "sales")
    with open_store(new_store_location) as store:
        assert store.schema_version() == LATEST_VERSION
        products = store.read_table("products").set_index("sku_id")
        assert products.loc["P1", "list_price"] == 3999
        assert not products["is_c2m"].any()  # the column added in version 3 takes its default
        assert len(store.read_table("sales")) == (3 if old_version >= 2 else 0)
        # Version 8's columns arrive empty on old rows, its tables empty.
        assert products["weight_kg"].isna().all() and products["volume_l"].isna().all()
        assert store.read_table("warehouses")["capacity_volume_l"].isna().all()
        assert store.read_table("baskets").empty and store.read_table("parcel_rates").empty
        ingest_file(store, write_file("sales.csv", GOOD_SALES), "sales")
        assert len(store.read_table("ingest_log")) == 1


def _ingest_without_log(store: Store, path: Path, table: str) -> None:
    # An old store has no ingest_log (version 3) nor products.is_c2m: load it
    # the way that version's cpfr did, with plain SQL.
    con = store._con  # type: ignore[attr-defined]
    frame = pd.read_csv(path, keep_default_na=False, dtype=str).replace("", None)
    columns = ", ".join(frame.columns)
    if isinstance(store, PostgresStore):
        # COPY cannot write into a table under row-level security: through a scratch table.
        with con.transaction():
            con.execute(f"CREATE TEMP TABLE old_rows AS SELECT {columns} FROM {table} WITH NO DATA")
            with con.cursor().copy(f"COPY old_rows ({columns}) FROM STDIN (FORMAT csv, HEADER)") as copy:
                copy.write(path.read_bytes())
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM old_rows")
            con.execute("DROP TABLE old_rows")
        return
    con.register("__old", frame)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM __old")
    con.unregister("__old")


def test_a_store_newer_than_cpfr_is_refused(new_store_location: str) -> None:
    with open_store(new_store_location, mode="create") as store:
        store._con.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', now()::TIMESTAMP)")  # type: ignore[attr-defined]
    with pytest.raises(MigrationError, match="newer than this cpfr"):
        open_store(new_store_location)


_KILLED_INGEST = """
import sys
from cpfr.data.store.duckdb_store import DuckDBStore
from cpfr.data.ingest import ingest_file
from cpfr.data.sources import frame_source
from cpfr.data.store import open_store

original = DuckDBStore._write
def announced(self, plan, **options):
    print("WRITING", flush=True)
    original(self, plan, **options)
    print("WRITTEN", flush=True)
DuckDBStore._write = announced
with open_store(sys.argv[1]) as store:
    ingest_file(store, sys.argv[2], "sales")
print("DONE", flush=True)
"""


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_the_store_as_it_was(db_path: Path, tmp_path: Path) -> None:
    # 3 M rows within the date window: 37,500 days x 2 SKUs x 40 stores.
    stores = [f"S-K{number:02d}" for number in range(40)]
    with open_store(db_path) as store:
        store.ingest(
            frame_source(
                pd.DataFrame(
                    {
                        "location_id": stores,
                        "name": stores,
                        "kind": "store",
                        "channel_id": "MALL",
                        "region": "North",
                    }
                ),
                "stores",
            ),
            "locations",
        )
    days, pairs = 37_500, 2 * len(stores)
    rows = days * pairs
    big = tmp_path / "big.parquet"
    pq.write_table(
        pa.table(
            {
                "date": pa.array(
                    np.datetime64("1995-01-01") + np.repeat(np.arange(days), pairs), pa.date32()
                ),
                "sku_id": np.tile(np.repeat(["P1", "A1"], len(stores)), days),
                "location_id": np.tile(stores * 2, days),
                "units": np.ones(rows, dtype=np.int64),
            }
        ),
        big,
    )
    with open_store(db_path) as store:
        before = store.content_digest()
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_INGEST, str(db_path), str(big)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "WRITING"
        time.sleep(0.3)  # well inside the write transaction, which takes seconds for 3 M rows
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    with open_store(db_path) as store:
        assert store.content_digest() == before
        ingest_file(store, big, "sales")  # the store still works and takes the file afterwards
        assert store.table_info()[[spec.name for spec in schema.TABLES].index("sales")].rows == rows + 3


def test_a_target_must_lie_within_its_agreement_and_belong_to_its_partner(
    any_store: Store, write_file: WriteFile
) -> None:
    before = any_store.read_table("targets")
    bad = write_file(
        "targets.csv",
        "target_id,agreement_id,partner_id,period_start,period_end,metric,value\n"
        "T-OK,AG-XM,XIAOMI,2025-01-01,2025-12-31,gmv_yuan,10\n"
        "T-EARLY,AG-XM,XIAOMI,2023-06-01,2024-05-31,gmv_yuan,10\n"
        "T-LATE,AG-XM,XIAOMI,2026-01-01,2027-12-31,gmv_yuan,10\n"
        "T-WHO,AG-XM,MIDEA,2025-01-01,2025-12-31,gmv_yuan,10\n",
    )
    with pytest.raises(ValidationError) as caught:
        ingest_file(any_store, bad, "targets")
    found = {(problem.row, problem.column) for problem in caught.value.problems}
    assert found == {(3, "period_start"), (4, "period_end"), (5, "partner_id")}
    assert "within agreements AG-XM (2024-01-01 .. 2026-12-31)" in str(caught.value)
    pd.testing.assert_frame_equal(any_store.read_table("targets"), before)  # nothing stored, not even T-OK


def test_a_file_lacking_columns_keeps_their_stored_values(any_store: Store, write_file: WriteFile) -> None:
    renamed = "sku_id,partner_id,name,category_id,list_price\nP1,XIAOMI,Xiaomi 15 Pro,PHONE,4999\n"
    result = ingest_file(any_store, write_file("renamed.csv", renamed), "products")
    assert (result.inserted, result.replaced) == (0, 1)
    products = any_store.read_table("products").set_index("sku_id")
    assert products.loc["P1", "name"] == "Xiaomi 15 Pro"
    assert products.loc["P1", "list_price"] == 4999
    assert products.loc["P1", "launch_date"] == pd.Timestamp("2023-10-26")  # not in the file: kept
    assert products.loc["A1", "name"] == "Midea AC 1.5HP"


BAD_SALES = (
    SALES_HEADER + "2024-01-03,P1,Z-N-1,-1,3999,3799\n"  # negative units
    "2024-01-0x,P1,Z-N-1,1,3999,3799\n"  # not a date
    "2024-01-03,NOPE,Z-N-1,1,3999,3799\n"  # unknown SKU
    "2024-01-03,A1,S-001,2,2999,3999\n"  # paid above list
    "2024-01-03,A1,S-001,2,2999,2999\n"  # duplicate of the row above
)


def test_validation_problems_are_reported_and_nothing_is_written(
    any_store: Store, write_file: WriteFile
) -> None:
    before = any_store.content_digest()
    with pytest.raises(ValidationError) as caught:
        ingest_file(any_store, write_file("bad.csv", BAD_SALES), "sales")
    found = {(problem.row, problem.column, problem.value) for problem in caught.value.problems}
    assert found == {
        (2, "units", "-1"),
        (3, "date", "2024-01-0x"),
        (4, "sku_id", "NOPE"),
        (5, "paid_price", "3999"),
        (6, "date, sku_id, location_id", "2024-01-03, A1, S-001"),
    }
    assert any_store.content_digest() == before


def test_the_same_problems_on_both_backends(pg_url: str, tmp_path: Path, write_file: WriteFile) -> None:
    problems = []
    for location in (str(tmp_path / "same.duckdb"), pg_url):
        with open_store(location, mode="create") as store:
            load_alliance(store, write_file)
            with pytest.raises(ValidationError) as caught:
                ingest_file(store, write_file("bad.csv", BAD_SALES), "sales")
            problems.append(caught.value.problems)
    assert problems[0] == problems[1]


def test_a_dry_run_writes_nothing(any_store: Store, write_file: WriteFile) -> None:
    before = any_store.content_digest()
    corrected = SALES_HEADER + "2024-01-01,P1,Z-N-1,30,3999,3599\n2024-01-05,P1,Z-N-1,1,3999,3599\n"
    result = ingest_file(any_store, write_file("fix.csv", corrected), "sales", dry_run=True)
    assert (result.inserted, result.replaced, result.dry_run) == (1, 1, True)
    assert any_store.content_digest() == before


def test_write_tables_writes_all_tables_or_none(any_store: Store) -> None:
    before = any_store.content_digest()
    partners = pd.DataFrame({"partner_id": ["HAIER"], "name": ["Haier"]})
    bad_products = pd.DataFrame(
        {
            "sku_id": ["H1"],
            "partner_id": ["HAIER"],
            "name": ["Haier fridge"],
            "category_id": ["NO-SUCH-CATEGORY"],
            "list_price": [1999.0],
        }
    )
    with pytest.raises(ValidationError, match="NO-SUCH-CATEGORY"):
        any_store.write_tables({"partners": partners, "products": bad_products})
    assert any_store.content_digest() == before
    good_products = bad_products.assign(category_id="AC")
    results = any_store.write_tables({"partners": partners, "products": good_products})
    assert [(result.table, result.inserted) for result in results] == [("partners", 1), ("products", 1)]
    assert "H1" in set(any_store.read_table("products")["sku_id"])


def test_both_backends_return_the_same_frames(pg_url: str, tmp_path: Path, write_file: WriteFile) -> None:
    stores = [open_store(location, mode="create") for location in (str(tmp_path / "same.duckdb"), pg_url)]
    try:
        for store in stores:
            load_alliance(store, write_file)
        duck, postgres = stores
        for dimensions in ([], ["partner_id", "category_l1", "channel_kind", "city_tier"], ["year", "month"]):
            pd.testing.assert_frame_equal(postgres.sales_cube(dimensions), duck.sales_cube(dimensions))
        pd.testing.assert_frame_equal(
            postgres.sales_cube(["week", "sku_id"], partner_id="XIAOMI", end=dt.date(2024, 1, 1)),
            duck.sales_cube(["week", "sku_id"], partner_id="XIAOMI", end=dt.date(2024, 1, 1)),
        )
        for spec in schema.TABLES:
            if spec.name != "ingest_log":  # a fresh uuid and time per ingest
                pd.testing.assert_frame_equal(postgres.read_table(spec.name), duck.read_table(spec.name))
        assert postgres.table_info() == duck.table_info()
        assert (
            postgres.date_range("sales")
            == duck.date_range("sales")
            == (dt.date(2024, 1, 1), dt.date(2024, 1, 2))
        )
    finally:
        for store in stores:
            store.close()
