"""``cpfr export TABLE --output F.xlsx``: a sheet that ingests back to the same table, formulas neutralised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import Result

from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store
from tests.conftest import REFERENCE_FILES

Cli = Callable[..., Result]
WriteFile = Callable[[str, str | bytes], Path]


@pytest.mark.parametrize("table", ["sales", "products", "targets", "locations", "categories"])
def test_an_exported_workbook_ingests_back_to_the_same_table(
    table: str, db_path: Path, tmp_path: Path, cli: Cli
) -> None:
    output = tmp_path / "out" / f"{table}.xlsx"
    result = cli("export", table, "--output", output, "--db", db_path)
    assert result.exit_code == 0, result.output
    with open_store(db_path, mode="read") as store:
        original = store.read_table(table)
    assert f"wrote {len(original):,} rows of {table}" in result.output
    assert load_workbook(output, read_only=True).sheetnames == [table]
    # A new store holding what the sheet depends on, then the sheet itself.
    with open_store(tmp_path / "copy.duckdb", mode="create") as copy:
        for name, content in REFERENCE_FILES.items():
            if name == table:
                break
            source = tmp_path / f"{name}.csv"
            source.write_text(content, encoding="utf-8")
            ingest_file(copy, source, name)
        ingest_file(copy, output, table)
        pd.testing.assert_frame_equal(copy.read_table(table), original)


def test_an_exported_workbook_holds_one_partners_rows_and_neutralised_text(
    db_path: Path, tmp_path: Path, write_file: WriteFile, cli: Cli
) -> None:
    hostile = 'sku_id,partner_id,name,category_id,list_price\nP2,XIAOMI,"=HYPERLINK(""http://evil"",""x"")",PHONE,10\n'
    assert (
        cli("ingest", write_file("evil.csv", hostile), "--table", "products", "--db", db_path).exit_code == 0
    )
    output = tmp_path / "xiaomi.xlsx"
    result = cli("export", "products", "--output", output, "--partner", "XIAOMI", "--db", db_path)
    assert result.exit_code == 0, result.output
    sheet = load_workbook(output)["products"]
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert {row["sku_id"] for row in rows} == {"P1", "P2"} and {row["partner_id"] for row in rows} == {
        "XIAOMI"
    }
    evil = sheet.cell(
        row=1 + [row["sku_id"] for row in rows].index("P2") + 1, column=header.index("name") + 1
    )
    assert evil.value == '=HYPERLINK("http://evil","x")' and evil.data_type == "s" and evil.quotePrefix


def test_an_unknown_output_type_is_a_usage_error(db_path: Path, tmp_path: Path, cli: Cli) -> None:
    result = cli("export", "sales", "--output", tmp_path / "sales.ods", "--db", db_path)
    assert result.exit_code == 2 and "expected .parquet, .csv or .xlsx" in result.output
    assert not (tmp_path / "sales.ods").exists()
