"""Workbooks out: text never runs as a formula, typed cells, bold frozen header, Excel's row limit, atomic."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cpfr.data.sources import open_source
from cpfr.exceptions import InputError, LimitError
from cpfr.report import workbook
from cpfr.report.workbook import write_workbook

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "#N/A", "plain", "a=b"]


def test_formula_like_text_is_written_as_text_and_reads_back_unchanged(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "names.xlsx", {"products": pd.DataFrame({"name": HOSTILE})})
    sheet = load_workbook(path)["products"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML reads a carriage return in text as a line feed: the cell still starts with no formula.
    read_back = [text.replace("\r", "\n") for text in HOSTILE]
    assert [cell.value for cell in cells] == read_back
    assert {cell.data_type for cell in cells} == {"s"}  # no formula ('f'), no error value ('e')
    assert [cell.quotePrefix for cell in cells] == [True] * 7 + [False, False]
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml
    # Read as cpfr reads a workbook: the same text, with no apostrophe added.
    source = open_source(path, table="products")
    assert source.arrow is not None and source.arrow["name"].to_pylist() == read_back


def test_cells_keep_their_types_and_the_header_is_bold_and_frozen(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
            "stamp": [pd.Timestamp("2024-01-01 10:30"), pd.Timestamp("2024-01-02"), pd.NaT],
            "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 8), None],
            "units": np.array([1, 2, 3], dtype="int64"),
            "price": [3999.5, np.nan, np.inf],
            "flag": [True, False, True],
            "sku_id": ["P1", "A1", None],
        }
    )
    path = write_workbook(tmp_path / "typed.xlsx", {"sales": frame})
    sheet = load_workbook(path)["sales"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1]) and not sheet["A2"].font.bold
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == [
        dt.datetime(2024, 1, 1),
        dt.datetime(2024, 1, 1, 10, 30),
        dt.datetime(2024, 1, 1),
        1,
        3999.5,
        True,
        "P1",
    ]
    assert rows[1] == [None, dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 8), 2, None, False, "A1"]
    assert rows[2][4] == "inf" and rows[2][6] is None
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].number_format.startswith("yyyy-mm-dd h")
    assert isinstance(sheet["D2"].value, int) and sheet["D2"].data_type == "n"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABG"}
    assert widths["A"] >= len("2024-01-01") and widths["G"] == workbook.MIN_WIDTH


def test_a_table_larger_than_a_sheet_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", 4)
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"the previous export")
    write_workbook(tmp_path / "fits.xlsx", {"t": pd.DataFrame({"n": range(3)})})  # 3 rows + header fit
    with pytest.raises(
        LimitError, match=r"big\.xlsx: t has 4 rows, more than an Excel sheet holds \(3 below"
    ):
        write_workbook(path, {"small": pd.DataFrame({"n": [1]}), "t": pd.DataFrame({"n": range(4)})})
    assert path.read_bytes() == b"the previous export"


def test_a_failed_write_leaves_the_previous_file_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"the previous plan")

    def fail(source: Path, target: Path) -> None:
        assert Path(source).exists()  # the workbook was written beside the target ...
        raise OSError(28, "No space left on device")  # ... and the rename failed

    monkeypatch.setattr(workbook.os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        write_workbook(path, {"t": pd.DataFrame({"n": [1]})})
    assert path.read_bytes() == b"the previous plan"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["plan.xlsx"]


@pytest.mark.parametrize("name", ["", "a" * 32, "a/b", "sheet[1]", "why?"])
def test_a_sheet_name_excel_refuses_is_an_input_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="sheet name"):
        write_workbook(tmp_path / "x.xlsx", {name: pd.DataFrame({"n": [1]})})
    with pytest.raises(InputError, match="twice"):
        write_workbook(tmp_path / "x.xlsx", {"kpis": pd.DataFrame(), "KPIs": pd.DataFrame()})
    assert not (tmp_path / "x.xlsx").exists()


def test_control_characters_xml_cannot_carry_are_replaced(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "c.xlsx", {"t": pd.DataFrame({"note": ["a\x01b", "tab\tkept"]})})
    assert [row[0].value for row in load_workbook(path)["t"].iter_rows(min_row=2)] == [
        "a\ufffdb",
        "tab\tkept",
    ]
