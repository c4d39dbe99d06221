"""Partitioned Parquet datasets out of the store and back: one folder per partner and category."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from typer.testing import Result

from cpfr.data.demo import DemoConfig, generate_scenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store

from ..conftest import demo_store


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake")
    demo_store(generate_scenario(DemoConfig.small(seed=3)), folder).close()
    return folder / "demo.duckdb"


def test_sales_go_out_by_partner_and_category_and_come_back_whole(
    small_db: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    out = tmp_path / "sales_lake"
    result = cli(
        "export",
        "sales",
        "--db",
        str(small_db),
        "--output",
        str(out),
        "--partition-by",
        "partner_id,category_id",
    )
    assert result.exit_code == 0, result.output
    with open_store(small_db, mode="read") as store:
        sales = store.read_table("sales")
        category = store.read_table("products").set_index("sku_id")["category_id"]
    folders = {path.relative_to(out).parent.as_posix() for path in out.rglob("*.parquet")}
    expected = {
        f"partner_id={partner}/category_id={leaf}"
        for partner, leaf in zip(
            sales["partner_id"].astype(str), sales["sku_id"].astype(str).map(category), strict=True
        )
    }
    assert folders == expected
    # Every file holds one partner's and one category's rows only.
    for path in out.rglob("*.parquet"):
        partner = path.parent.parent.name.split("=", 1)[1]
        leaf = path.parent.name.split("=", 1)[1]
        skus = pd.read_parquet(path, columns=["sku_id"])["sku_id"].astype(str)
        assert set(sales.loc[sales["sku_id"].astype(str).isin(skus), "partner_id"].astype(str)) == {partner}
        assert set(skus.map(category)) == {leaf}
    assert ds.dataset(out, partitioning="hive").count_rows() == len(sales)

    # Back in: a fresh store of the same reference data takes the folder as the sales table.
    copy = tmp_path / "copy.duckdb"
    with open_store(small_db, mode="read") as source, open_store(copy, mode="create") as target:
        for name in (
            "partners",
            "categories",
            "agreements",
            "products",
            "channels",
            "warehouses",
            "locations",
        ):
            target.write_tables({name: source.read_table(name)})
        result = ingest_file(target, out, "sales")
        assert result.rows == len(sales)
        back = (
            target.read_table("sales").sort_values(["date", "sku_id", "location_id"]).reset_index(drop=True)
        )
    original = sales.sort_values(["date", "sku_id", "location_id"]).reset_index(drop=True)
    assert back["units"].sum() == original["units"].sum()
    pd.testing.assert_series_equal(back["units"], original["units"], check_dtype=False)


def test_a_partner_export_holds_only_its_folder(
    small_db: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    out = tmp_path / "xiaomi"
    result = cli(
        "export",
        "sales",
        "--db",
        str(small_db),
        "--output",
        str(out),
        "--partition-by",
        "partner_id",
        "--partner",
        "XIAOMI",
    )
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == {"partner_id=XIAOMI"}


def test_bad_partition_columns_and_used_folders_are_refused(
    small_db: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    result = cli(
        "export", "sales", "--db", str(small_db), "--output", str(tmp_path / "x"), "--partition-by", "colour"
    )
    assert result.exit_code != 0 and "colour" in result.output
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    result = cli(
        "export", "sales", "--db", str(small_db), "--output", str(used), "--partition-by", "partner_id"
    )
    assert result.exit_code != 0 and "not an empty folder" in result.output
    assert (used / "keep.txt").read_text() == "mine"
