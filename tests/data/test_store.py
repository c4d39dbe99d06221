"""The DuckDB store: upsert semantics, crash safety, migrations, reads and exports."""

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
from cpfr.exceptions import MigrationError, StoreError, ValidationError
from tests.conftest import GOOD_SALES, REFERENCE_FILES, SALES_HEADER

WriteFile = Callable[[str, str | bytes], Path]


def test_ingesting_the_same_file_twice_leaves_the_same_store(store: Store, write_file: WriteFile) -> None:
    path = write_file("again.csv", GOOD_SALES)
    before = store.content_digest()
    result = ingest_file(store, path, "sales")
    assert (result.rows, result.inserted, result.replaced) == (3, 0, 3)
    after = store.content_digest()
    assert {name: after[name] for name in schema.USER_TABLES} == {
        name: before[name] for name in schema.USER_TABLES
    }
    assert len(store.read_table("sales")) == 3


def test_a_corrected_file_replaces_the_rows_of_its_keys(store: Store, write_file: WriteFile) -> None:
    corrected = SALES_HEADER + "2024-01-01,P1,Z-N-1,30,3999,3599\n"
    result = ingest_file(store, write_file("fix.csv", corrected), "sales")
    assert (result.inserted, result.replaced) == (0, 1)
    sales = store.read_table("sales").set_index(["date", "sku_id", "location_id"])["units"]
    assert sales.loc[(pd.Timestamp("2024-01-01"), "P1", "Z-N-1")] == 30
    assert sales.loc[(pd.Timestamp("2024-01-02"), "P1", "Z-N-1")] == 2  # untouched key kept
    assert len(sales) == 3


def test_partner_is_filled_from_the_sku_and_defaults_applied(store: Store) -> None:
    sales = store.read_table("sales").set_index("sku_id")
    assert set(sales.loc["P1", "partner_id"]) == {"XIAOMI"}
    assert sales.loc["A1", "partner_id"] == "MIDEA"
    assert (sales["subsidy_yuan"] == 0).all()


def test_read_table_for_a_partner_hides_other_partners_rows(store: Store) -> None:
    assert set(store.read_table("sales", partner_id="MIDEA")["sku_id"]) == {"A1"}
    channels = store.read_table("channels", partner_id="MIDEA")
    assert set(channels["channel_id"]) == {"JD", "MALL"}  # platform-shared rows stay visible


def test_ingest_log_records_each_successful_ingest(store: Store) -> None:
    log = store.read_table("ingest_log")
    assert set(log["table_name"]) == set(REFERENCE_FILES) | {"sales"}
    assert log.loc[log["table_name"] == "sales", "rows"].item() == 3
    assert log["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_sales_cube_sums_units_and_gmv_by_dimension(store: Store) -> None:
    cube = store.sales_cube(["partner_id", "category_l1", "channel_kind", "city_tier"]).set_index(
        "partner_id"
    )
    assert cube.loc["XIAOMI", "units"] == 5
    assert cube.loc["XIAOMI", "gmv_yuan"] == pytest.approx(3 * 3799 + 2 * 3999)
    assert cube.loc["XIAOMI", "category_l1"] == "3C"
    assert cube.loc["MIDEA", "channel_kind"] == "platform_offline"
    total = store.sales_cube([], start=dt.date(2024, 1, 2))
    assert total["units"].item() == 2


def test_table_info_counts_rows_and_date_ranges_per_partner(store: Store) -> None:
    info = {entry.table: entry for entry in store.table_info()}
    assert info["sales"].rows == 3
    by_partner = {partner: (rows, first, last) for partner, rows, first, last in info["sales"].by_partner}
    assert by_partner["XIAOMI"] == (2, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert by_partner["MIDEA"] == (1, dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert info["orders"].rows == 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trips_through_ingest(store: Store, tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"sales_export{suffix}"
    assert store.export("sales", output) == 3
    before = store.content_digest()["sales"]
    ingest_file(store, output, "sales")
    assert store.content_digest()["sales"] == before
    assert not list(tmp_path.glob("*.partial*"))


def test_export_for_one_partner(store: Store, tmp_path: Path) -> None:
    output = tmp_path / "midea.parquet"
    assert store.export("sales", output, partner_id="MIDEA") == 1
    assert pq.read_table(output).column("sku_id").to_pylist() == ["A1"]


def test_db_path_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CPFR_DB", str(tmp_path / "env.duckdb"))
    with open_store(mode="create") as store:
        assert store.location == str(tmp_path / "env.duckdb")
    assert (tmp_path / "env.duckdb").exists()


def test_postgres_url_is_refused_clearly() -> None:
    with pytest.raises(StoreError, match="PostgreSQL"):
        open_store("postgresql://planner@db/cpfr")


def test_migrating_an_empty_store_creates_every_table(tmp_path: Path) -> None:
    with open_store(tmp_path / "new.duckdb", mode="create", migrate=False) as store:
        assert store.schema_version() == 0
        assert store.migrate() == list(range(1, LATEST_VERSION + 1))
        assert store.schema_version() == LATEST_VERSION
        assert store.migrate() == []
        assert {entry.table for entry in store.table_info()} == {spec.name for spec in schema.TABLES}


@pytest.mark.parametrize("old_version", [1, 2])
def test_migrating_an_older_store_keeps_its_data(
    tmp_path: Path, write_file: WriteFile, old_version: int
) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path, mode="create", migrate=False) as store:
        assert store.migrate(target=old_version) == list(range(1, old_version + 1))
        for table, content in REFERENCE_FILES.items():
            ingest_source = write_file(f"{table}.csv", content)
            store_table = schema.table(table)
            assert store_table.added_in <= old_version
            _ingest_without_log(store, ingest_source, table)
        if old_version >= 2:
            _ingest_without_log(store, write_file("sales.csv", GOOD_SALES), "sales")
    with open_store(path) as store:
        assert store.schema_version() == LATEST_VERSION
        products = store.read_table("products").set_index("sku_id")
        assert products.loc["P1", "list_price"] == 3999
        assert not products["is_c2m"].any()  # the column added in version 3 takes its default
        assert len(store.read_table("sales")) == (3 if old_version >= 2 else 0)
        ingest_file(store, write_file("sales.csv", GOOD_SALES), "sales")
        assert len(store.read_table("ingest_log")) == 1


def _ingest_without_log(store: Store, path: Path, table: str) -> None:
    # An old store has no ingest_log (version 3) nor products.is_c2m: load it
    # the way that version's cpfr did, with plain SQL.
    con = store._con  # type: ignore[attr-defined]
    frame = pd.read_csv(path, keep_default_na=False, dtype=str).replace("", None)
    con.register("__old", frame)
    columns = ", ".join(frame.columns)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM __old")
    con.unregister("__old")


def test_a_store_newer_than_cpfr_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    with open_store(path, mode="create") as store:
        store._con.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', now()::TIMESTAMP)")  # type: ignore[attr-defined]
    with pytest.raises(MigrationError, match="newer than this cpfr"):
        open_store(path)


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
    store: Store, write_file: WriteFile
) -> None:
    before = store.read_table("targets")
    bad = write_file(
        "targets.csv",
        "target_id,agreement_id,partner_id,period_start,period_end,metric,value\n"
        "T-OK,AG-XM,XIAOMI,2025-01-01,2025-12-31,gmv_yuan,10\n"
        "T-EARLY,AG-XM,XIAOMI,2023-06-01,2024-05-31,gmv_yuan,10\n"
        "T-LATE,AG-XM,XIAOMI,2026-01-01,2027-12-31,gmv_yuan,10\n"
        "T-WHO,AG-XM,MIDEA,2025-01-01,2025-12-31,gmv_yuan,10\n",
    )
    with pytest.raises(ValidationError) as caught:
        ingest_file(store, bad, "targets")
    found = {(problem.row, problem.column) for problem in caught.value.problems}
    assert found == {(3, "period_start"), (4, "period_end"), (5, "partner_id")}
    assert "within agreements AG-XM (2024-01-01 .. 2026-12-31)" in str(caught.value)
    pd.testing.assert_frame_equal(store.read_table("targets"), before)  # nothing stored, not even T-OK
