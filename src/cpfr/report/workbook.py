"""Excel workbooks out: one table per sheet, safe to open, readable at a glance.

This is cpfr's one adapter for *writing* openpyxl (reading is :mod:`cpfr.data.xlsx_source`).
:func:`write_workbook` writes each table to a sheet of its name with

- the header row bold and frozen, and each column as wide as its header and first rows;
- dates as Excel dates (``yyyy-mm-dd``; a time of day where a column has one), numbers as
  numbers, booleans as booleans, missing values as empty cells; an infinity, which Excel
  cannot hold, as the text ``inf``;
- text as text: a cell that a spreadsheet would run as a formula (starting with
  ``= + - @``, tab or carriage return, OWASP "CSV Injection") or read as an error value
  (``#N/A``) is written as a text cell with Excel's *quote prefix* — what typing a leading
  apostrophe does — so Excel shows it, never runs it, and reading the workbook back gives the
  text unchanged (the CSV export adds a visible apostrophe instead: a CSV cell has no type);
- characters XML cannot carry (control characters other than tab, CR and LF) replaced by
  U+FFFD, as a workbook with them would not open.

Excel's sheet holds at most 1,048,576 rows, the header included: a larger table is refused
with a :class:`~cpfr.exceptions.LimitError` before anything is written (never split over
sheets, which a reader would have to stitch back together; Parquet and CSV have no limit).
The workbook is written beside its path and renamed over it, so a failed write leaves no file.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils.cell import get_column_letter

from cpfr.data.sources import FORMULA_START
from cpfr.exceptions import InputError, LimitError

__all__ = ["EXCEL_MAX_ROWS", "write_workbook"]

# Excel specifications and limits: 1,048,576 rows and 31 characters in a sheet's name.
EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_LENGTH = 31
WIDTH_SAMPLE_ROWS = 1_000  # rows a column's width is measured on
MIN_WIDTH, MAX_WIDTH = 8, 60  # column widths, in characters
# Text Excel reads as an error value when typed (openpyxl's ERROR_CODES).
ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_FORMULA = re.compile(FORMULA_START)
_SHEET_NAME = re.compile(r"^[^\[\]:*?/\\]+$")


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write each table to a sheet named by its key, atomically, and return ``path``.

    Parameters
    ----------
    path : Path
        The ``.xlsx`` file to write (its folder is created).
    sheets : mapping of str to pandas.DataFrame
        Sheet name to table, in sheet order. An empty table gives a sheet with its header only.

    Raises
    ------
    InputError
        A sheet name Excel refuses (empty, longer than 31 characters, with ``[ ] : * ? /`` or a
        backslash, or repeated).
    LimitError
        A table has more rows than a sheet holds (module docstring); nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_workbook(folder / "kpis.xlsx", {"kpis": pd.DataFrame({"kpi": ["=1+1"], "value": [0.5]})}).name
    'kpis.xlsx'
    """
    _check_sheets(path, sheets)
    book = Workbook(write_only=True)
    for name, frame in sheets.items():
        _write_sheet(book, name, frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        book.save(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _check_sheets(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    seen: set[str] = set()
    for name, frame in sheets.items():
        if not name or len(name) > SHEET_NAME_LENGTH or not _SHEET_NAME.match(name):
            raise InputError(
                f"{path}: sheet name {name!r} — expected 1 to {SHEET_NAME_LENGTH} characters "
                "without [ ] : * ? / \\"
            )
        if name.casefold() in seen:
            raise InputError(f"{path}: sheet name {name!r} twice — expected each sheet once")
        seen.add(name.casefold())
        if len(frame) > EXCEL_MAX_ROWS - 1:
            raise LimitError(
                f"{path}: {name} has {len(frame):,} rows, more than an Excel sheet holds "
                f"({EXCEL_MAX_ROWS - 1:,} below the header) — export it as .parquet or .csv, "
                "or cut it (e.g. --partner)"
            )


def _write_sheet(book: Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title=name)
    headers = [str(column) for column in frame.columns]
    columns = [_cells(frame[column]) for column in frame.columns]
    for position, (header, values) in enumerate(zip(headers, columns, strict=True), start=1):
        sample = [len(str(value)) for value in values[:WIDTH_SAMPLE_ROWS] if value is not None]
        width = max([len(header), *sample]) + 2
        sheet.column_dimensions[get_column_letter(position)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"  # before the first row: a streaming sheet writes its view first
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _cell(sheet, header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in zip(*columns, strict=True):
        sheet.append([_cell(sheet, value) if isinstance(value, str) else value for value in row])


def _cell(sheet: object, text: str) -> WriteOnlyCell:
    """Return a text cell that Excel shows as written: never a formula, never an error value."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    cell = WriteOnlyCell(sheet, value=text)
    if _FORMULA.match(text) or text in ERROR_TEXTS:
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _cells(values: pd.Series) -> list[object]:
    """Return a column's values as Python objects openpyxl writes with their type (module docstring)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.Series(values)
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)  # Excel has no time zones
        known = stamps.dropna()
        if (known == known.dt.normalize()).all():
            return [None if pd.isna(stamp) else stamp.date() for stamp in stamps]
        return [None if pd.isna(stamp) else stamp.to_pydatetime() for stamp in stamps]
    return [_value(value) for value in values]


def _value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        return number if math.isfinite(number) else ("inf" if number > 0 else "-inf")
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: the UTC time
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, (dt.date, dt.time, str)):
        return value
    return str(value)
