"""Excel workbooks are ingested like CSV: cells as text, problems by file, sheet, row and column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from typer.testing import Result

from cpfr.data import xlsx_source
from cpfr.data.ingest import ingest_file
from cpfr.data.sources import ROW_COLUMN, open_source
from cpfr.data.store import Store, open_store
from cpfr.exceptions import ValidationError
from tests.conftest import GOOD_SALES, REFERENCE_FILES

SALES_COLUMNS = ["date", "sku_id", "location_id", "units", "list_price", "paid_price"]
# GOOD_SALES as a planner's sheet holds it: Excel dates, whole numbers typed as floats.
GOOD_ROWS: list[list[object]] = [
    [dt.datetime(2024, 1, 1), "P1", "Z-N-1", 3.0, 3999, 3799.0],
    [dt.datetime(2024, 1, 1), "A1", "S-001", 1, 2999.0, 2999],
    [dt.datetime(2024, 1, 2), "P1", "Z-N-1", 2.0, 3999, 3999],
]


def _workbook(
    path: Path, rows: list[list[object]], *, title: str = "Sheet1", before: str | None = None
) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if before is not None:  # a first sheet the rows are not on
        sheet.title = before
        sheet.append(["read me first"])
        sheet.append(["then the next sheet"])
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _alliance(folder: Path, sales: Path) -> Store:
    """A new store with the tiny alliance's reference data and ``sales``."""
    folder.mkdir()
    store = open_store(folder / "alliance.duckdb", mode="create")
    for table, content in REFERENCE_FILES.items():
        path = folder / f"{table}.csv"
        path.write_text(content, encoding="utf-8")
        ingest_file(store, path, table)
    ingest_file(store, sales, "sales")
    return store


def test_a_good_sheet_ingests_the_same_rows_as_the_csv(tmp_path: Path) -> None:
    csv = tmp_path / "sales.csv"
    csv.write_text(GOOD_SALES, encoding="utf-8")
    sheet = _workbook(tmp_path / "sales.xlsx", [SALES_COLUMNS, *GOOD_ROWS, [None] * 6, [None] * 6])
    from_csv, from_sheet = _alliance(tmp_path / "csv", csv), _alliance(tmp_path / "xlsx", sheet)
    try:
        assert from_sheet.content_digest()["sales"] == from_csv.content_digest()["sales"]
        pd.testing.assert_frame_equal(from_sheet.read_table("sales"), from_csv.read_table("sales"))
        assert len(from_sheet.read_table("sales")) == 3
        # ... and the digest does tell sheets apart: one unit more is another table.
        changed = [row.copy() for row in GOOD_ROWS]
        changed[0][3] = 4
        ingest_file(from_sheet, _workbook(tmp_path / "more.xlsx", [SALES_COLUMNS, *changed]), "sales")
        assert from_sheet.content_digest()["sales"] != from_csv.content_digest()["sales"]
    finally:
        from_csv.close()
        from_sheet.close()


def test_a_bad_cell_is_named_by_file_sheet_row_and_column(store: Store, tmp_path: Path) -> None:
    rows = [SALES_COLUMNS, *GOOD_ROWS, [None] * 6, [None] * 6]  # rows 2-4, then rows 5-6 empty
    rows.append([dt.datetime(2024, 1, 3), "P1", "Z-N-1", "three", 3999, 3999])  # row 7
    path = _workbook(tmp_path / "sales.xlsx", rows, title="Sheet1")
    before = store.content_digest()["sales"]
    with pytest.raises(ValidationError) as caught:
        ingest_file(store, path, "sales")
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        f"{path}[Sheet1]",
        7,
        "units",
        "three",
    )
    assert str(problem).startswith(f"{path}[Sheet1] row 7, column units: value 'three' — expected")
    assert store.content_digest()["sales"] == before


def test_the_sheet_named_like_the_table_is_read_before_the_first(store: Store, tmp_path: Path) -> None:
    bad = [SALES_COLUMNS, [dt.datetime(2024, 1, 3), "NOPE", "Z-N-1", 1, 3999, 3999]]
    path = _workbook(tmp_path / "book.xlsx", bad, title="Sales", before="notes")
    with pytest.raises(ValidationError) as caught:
        ingest_file(store, path, "sales")
    assert {(problem.file, problem.row, problem.column) for problem in caught.value.problems} == {
        (f"{path}[Sales]", 2, "sku_id")
    }
    # Without a sheet of the table's name the first visible sheet is read.
    assert open_source(path).label == f"{path}[notes]"


def test_cells_read_as_the_text_a_person_typed(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["when", "moment", "count", "barcode", "ratio", "flag", "note"],
        [dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 30), 7, 6901234567890, 0.1, True, " x "],
    ]
    source = open_source(_workbook(tmp_path / "cells.xlsx", rows))
    assert source.format == "xlsx" and source.header_row == 1
    assert source.arrow is not None
    assert source.arrow.to_pylist() == [
        {
            "when": "2024-03-05",
            "moment": "2024-03-05 10:30:00",
            "count": "7",
            "barcode": "6901234567890",
            "ratio": "0.1",
            "flag": "true",
            "note": " x ",
            ROW_COLUMN: 2,
        }
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(7.0, "7"), (6901234567890.0, "6901234567890"), (-3.0, "-3"), (2.5, "2.5"), (dt.time(9, 5), "09:05:00")],
)
def test_a_float_that_is_whole_loses_its_point(value: object, text: str) -> None:
    assert xlsx_source._cell_text(value) == text


def test_formulas_errors_merges_and_headless_values_are_refused(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(["sku_id", "units"])
    sheet.append(["P1", "=B3*2"])  # row 2: a formula (openpyxl saves no result for it)
    sheet.append(["P1", "#N/A"])  # row 3: an error value
    sheet.append(["P1", 4, "stray"])  # row 4: a value in a column without a header
    sheet.append(["P1", 5])
    sheet.append([None, 5])
    sheet.merge_cells("A5:A6")  # rows 5-6: merged
    path = tmp_path / "hostile.xlsx"
    book.save(path)
    with pytest.raises(ValidationError) as caught:
        open_source(path)
    found = {(problem.row, problem.column, problem.value) for problem in caught.value.problems}
    assert found == {
        (2, "units", "=B3*2"),
        (3, "units", "#N/A"),
        (4, "#3 (C)", "stray"),
        (5, "sku_id", "merged A5:A6"),
    }
    assert "not a formula" in caught.value.report()
    assert all(problem.file == f"{path}[Sheet1]" for problem in caught.value.problems)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"date,sku_id\n2024-01-01,P1\n", "renamed.xlsx"),  # a CSV saved under the wrong name
        (b"PK\x03\x04 truncated", "cut.xlsx"),  # a download cut short
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "encrypted.xlsx"),  # an OLE file
        (b"", "empty.xlsx"),
    ],
)
def test_bytes_that_are_not_a_workbook_are_a_problem_naming_the_file(
    content: bytes, name: str, tmp_path: Path, db_path: Path, cli: Callable[..., Result]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        open_source(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.row == 0 and "Excel .xlsx workbook" in problem.expected
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}:0::" in result.output


def test_an_empty_sheet_and_a_header_without_rows_are_problems(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"row 1: missing — expected a header row"):
        open_source(_workbook(tmp_path / "blank.xlsx", []))
    with pytest.raises(ValidationError, match=r"row 3: missing — expected at least one data row"):
        open_source(_workbook(tmp_path / "header.xlsx", [[None], ["a", "b"], [None, None]]))


def test_a_large_sheet_is_read_in_blocks_with_its_row_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_source, "BLOCK_ROWS", 3)
    rows: list[list[object]] = [["n", "text"]]
    for number in range(2, 12):
        rows.append([number, f"r{number}"] if number != 6 else [None, None])
    source = open_source(_workbook(tmp_path / "big.xlsx", rows))
    assert source.arrow is not None and source.arrow[ROW_COLUMN].num_chunks >= 3
    frame, numbers = source.read_frame()
    assert list(numbers) == [2, 3, 4, 5, 7, 8, 9, 10, 11]
    assert list(frame["n"]) == [str(number) for number in numbers]
