"""`cpfr ingest` on malformed files: every problem named by file, row and column; nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import Result

from cpfr.data.store import open_store
from tests.conftest import SALES_HEADER

H = SALES_HEADER
PROMO_HEADER = "promotion_id,sku_id,start_date,end_date,discount\n"
LOCATION_HEADER = "location_id,name,kind,channel_id,region,city_tier\n"

# (file name, table, content, expected "ROW:COLUMN" fragments of the report)
MALFORMED_CSV: list[tuple[str, str, str | bytes, list[str]]] = [
    ("missing_column.csv", "sales", "date,sku_id,location_id\n2024-01-03,P1,Z-N-1\n", ["1:units"]),
    (
        "wrong_type.csv",
        "sales",
        H + "2024-01-03,P1,Z-N-1,3,3999,3799\n2024-01-04,P1,Z-N-1,three,3999,3799\n",
        ["3:units"],
    ),
    ("negative_units.csv", "sales", H + "2024-01-03,P1,Z-N-1,-2,3999,3799\n", ["2:units"]),
    ("fractional_units.csv", "sales", H + "2024-01-03,P1,Z-N-1,3.5,3999,3799\n", ["2:units"]),
    (
        "bad_date.csv",
        "sales",
        H + "2024-01-03,P1,Z-N-1,1,3999,3799\n2024-13-01,P1,Z-N-1,1,3999,3799\n",
        ["3:date"],
    ),
    ("unknown_sku.csv", "sales", H + "2024-01-03,NOPE,Z-N-1,1,3999,3799\n", ["2:sku_id"]),
    ("unknown_location.csv", "sales", H + "2024-01-03,P1,MARS-1,1,3999,3799\n", ["2:location_id"]),
    (
        "duplicate_key.csv",
        "sales",
        H
        + "2024-01-03,P1,Z-N-1,1,3999,3799\n2024-01-04,P1,Z-N-1,1,3999,3799\n2024-01-03,P1,Z-N-1,5,3999,3799\n",
        ["4:date"],
    ),
    ("empty.csv", "sales", "", ["1:"]),
    ("header_only.csv", "sales", H, ["2:"]),
    (
        "latin1.csv",
        "sales",
        (H + "2024-01-03,P1,Z-N-1,1,3999,3799\n2024-01-04,P1,Z-N-1,1,3999,caf\xe9\n").encode("latin-1"),
        ["3:paid_price"],
    ),
    ("huge_value.csv", "sales", H + "2024-01-03,P1,Z-N-1,99999999999999,3999,3799\n", ["2:units"]),
    ("nan_price.csv", "sales", H + "2024-01-03,P1,Z-N-1,1,3999,nan\n", ["2:paid_price"]),
    ("inf_price.csv", "sales", H + "2024-01-03,P1,Z-N-1,1,inf,3799\n", ["2:list_price"]),
    (
        "unknown_column.csv",
        "sales",
        "date,sku_id,location_id,units,colour\n2024-01-03,P1,Z-N-1,1,red\n",
        ["1:colour"],
    ),
    ("paid_above_list.csv", "sales", H + "2024-01-03,P1,Z-N-1,1,3999,4999\n", ["2:paid_price"]),
    (
        "partner_mismatch.csv",
        "sales",
        "date,sku_id,location_id,units,partner_id\n2024-01-03,P1,Z-N-1,1,MIDEA\n",
        ["2:partner_id"],
    ),
    ("missing_value.csv", "sales", H + "2024-01-03,,Z-N-1,1,3999,3799\n", ["2:sku_id"]),
    ("ragged_line.csv", "sales", H + "2024-01-03,P1,Z-N-1,1,3999,3799,extra\n", ["2:"]),
    (
        "end_before_start.csv",
        "promotions",
        PROMO_HEADER + "PR1,P1,2024-06-18,2024-06-01,0.1\n",
        ["2:end_date"],
    ),
    (
        "discount_above_one.csv",
        "promotions",
        PROMO_HEADER + "PR1,P1,2024-06-01,2024-06-18,1.5\n",
        ["2:discount"],
    ),
    ("bad_choice.csv", "locations", LOCATION_HEADER + "S-9,Shop,shop,MALL,North,2\n", ["2:kind"]),
    ("bad_tier.csv", "locations", LOCATION_HEADER + "S-9,Shop,store,MALL,North,7\n", ["2:city_tier"]),
    ("bad_region.csv", "locations", LOCATION_HEADER + "S-9,Shop,store,MALL,Atlantis,2\n", ["2:region"]),
    ("blank_header.csv", "sales", "date,,location_id,units\n2024-01-03,P1,Z-N-1,1\n", ["1:#2"]),
    (
        "bad_bool.csv",
        "inventory",
        "date,sku_id,site_id,on_hand,stockout\n2024-01-03,P1,S-001,4,maybe\n",
        ["2:stockout"],
    ),
    (
        "unknown_site.csv",
        "inventory",
        "date,sku_id,site_id,on_hand\n2024-01-03,P1,NOWHERE,4\n",
        ["2:site_id"],
    ),
]


@pytest.mark.parametrize(
    ("name", "table", "content", "where"), MALFORMED_CSV, ids=[case[0] for case in MALFORMED_CSV]
)
def test_malformed_csv_is_rejected_with_its_location_and_nothing_written(
    name: str,
    table: str,
    content: str | bytes,
    where: list[str],
    db_path: Path,
    write_file: Callable[[str, str | bytes], Path],
    cli: Callable[..., Result],
) -> None:
    path = write_file(name, content)
    before = _digest(db_path)
    result = cli("ingest", path, "--table", table, "--db", db_path)
    assert result.exit_code != 0
    for fragment in where:
        assert f"{path}:{fragment}" in result.output, result.output
    assert "Traceback" not in result.output
    assert _digest(db_path) == before


def test_every_problem_is_reported_not_only_the_first(
    db_path: Path, write_file: Callable[[str, str | bytes], Path], cli: Callable[..., Result]
) -> None:
    path = write_file(
        "many.csv",
        H
        + "2024-01-03,NOPE,Z-N-1,1,3999,3799\nnot-a-date,P1,Z-N-1,1,3999,3799\n2024-01-05,P1,Z-N-1,-1,3999,3799\n",
    )
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1
    assert f"{path}:2:sku_id: value 'NOPE'" in result.output
    assert f"{path}:3:date: value 'not-a-date'" in result.output
    assert f"{path}:4:units: value '-1'" in result.output
    assert "3 problem(s)" in result.output


def test_report_is_capped_but_counts_every_problem(
    db_path: Path, write_file: Callable[[str, str | bytes], Path], cli: Callable[..., Result]
) -> None:
    rows = "".join(f"2024-01-03,BAD{number},Z-N-1,1,3999,3799\n" for number in range(120))
    path = write_file("capped.csv", H + rows)
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1
    assert result.output.count(f"{path}:") == 50
    assert "120 problem(s)" in result.output


MALFORMED_PARQUET: list[tuple[str, pa.Table, str]] = [
    (
        "negative.parquet",
        pa.table(
            {"date": pa.array(["2024-01-03"]), "sku_id": ["P1"], "location_id": ["Z-N-1"], "units": [-4]}
        ),
        "1:units",
    ),
    (
        "text_units.parquet",
        pa.table(
            {
                "date": ["2024-01-03", "2024-01-04"],
                "sku_id": ["P1", "P1"],
                "location_id": ["Z-N-1"] * 2,
                "units": ["1", "x"],
            }
        ),
        "2:units",
    ),
    (
        "bad_date.parquet",
        pa.table({"date": ["2024-02-30"], "sku_id": ["P1"], "location_id": ["Z-N-1"], "units": [1]}),
        "1:date",
    ),
    (
        "no_units.parquet",
        pa.table({"date": ["2024-01-03"], "sku_id": ["P1"], "location_id": ["Z-N-1"]}),
        "0:units",
    ),
    (
        "nan_units.parquet",
        pa.table(
            {"date": ["2024-01-03"], "sku_id": ["P1"], "location_id": ["Z-N-1"], "units": [float("nan")]}
        ),
        "1:units",
    ),
    (
        "empty.parquet",
        pa.table(
            {
                "date": pa.array([], pa.string()),
                "sku_id": pa.array([], pa.string()),
                "location_id": pa.array([], pa.string()),
                "units": pa.array([], pa.int64()),
            }
        ),
        "0:",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "where"), MALFORMED_PARQUET, ids=[case[0] for case in MALFORMED_PARQUET]
)
def test_malformed_parquet_is_rejected_with_its_row_and_nothing_written(
    name: str, data: pa.Table, where: str, db_path: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    path = tmp_path / name
    pq.write_table(data, path)
    before = _digest(db_path)
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code != 0
    assert f"{path}:{where}" in result.output, result.output
    assert _digest(db_path) == before


def test_corrupt_parquet_names_the_file(
    db_path: Path, write_file: Callable[[str, str | bytes], Path], cli: Callable[..., Result]
) -> None:
    path = write_file("corrupt.parquet", b"PAR1 this is not parquet")
    before = _digest(db_path)
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code != 0
    assert f"{path}:0:" in result.output
    assert _digest(db_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--table", "sales"], "missing.csv: no such file"),
        (["{sales}", "--table", "salez"], "unknown table 'salez'"),
        (["{ods}", "--table", "sales"], "unknown file type '.ods'"),
    ],
)
def test_usage_errors_exit_2_and_name_what_is_wrong(
    args: list[str],
    message: str,
    db_path: Path,
    write_file: Callable[[str, str | bytes], Path],
    cli: Callable[..., Result],
) -> None:
    files = {"{sales}": str(write_file("ok.csv", H)), "{ods}": str(write_file("sheet.ods", b"PK"))}
    before = _digest(db_path)
    result = cli("ingest", *[files.get(arg, arg) for arg in args], "--db", db_path)
    assert result.exit_code == 2
    assert message in result.output
    assert _digest(db_path) == before


def test_dry_run_validates_and_writes_nothing(
    db_path: Path, write_file: Callable[[str, str | bytes], Path], cli: Callable[..., Result]
) -> None:
    path = write_file("new.csv", H + "2024-02-01,P1,Z-N-1,7,3999,3599\n")
    before = _digest(db_path)
    result = cli("ingest", path, "--table", "sales", "--db", db_path, "--dry-run")
    assert result.exit_code == 0
    assert "would ingest 1 rows into sales (1 new, 0 replaced)" in result.output
    assert _digest(db_path) == before


def test_good_file_is_ingested(
    db_path: Path, write_file: Callable[[str, str | bytes], Path], cli: Callable[..., Result]
) -> None:
    path = write_file("new.csv", H + "2024-02-01,P1,Z-N-1,7,3999,3599\n2024-01-01,P1,Z-N-1,4,3999,3799\n")
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert "ingested 2 rows into sales (1 new, 1 replaced)" in result.output
    with open_store(db_path) as store:
        sales = store.read_table("sales")
    assert len(sales) == 4
    assert sales.loc[sales["date"].astype(str) == "2024-01-01"].set_index("sku_id").loc["P1", "units"] == 4


def _digest(db_path: Path) -> dict[str, str]:
    with open_store(db_path) as store:
        return store.content_digest()
