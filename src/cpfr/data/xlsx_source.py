"""Excel workbooks (``.xlsx``) as the ingester sees them: every cell as the text a person typed.

This is cpfr's one adapter for *reading* openpyxl (writing is :mod:`cpfr.report.workbook`).
A workbook is read the way :mod:`cpfr.data.sources` reads a CSV file, so the store validates
both alike and reports a value that does not parse as the user wrote it:

- **Which sheet.** The worksheet named like the table being loaded (``sales``, any case) when
  the workbook has one, else the first visible worksheet. Chart sheets are never read.
- **Where.** Problems name the file *and the sheet* — their file is ``sales.xlsx[Sheet1]`` (see
  :func:`cpfr.exceptions.sheet_label`) — and the row number Excel shows. The header is the
  first row that is not empty (row 1 in a plain sheet); wholly empty rows are skipped (trailing
  ones are common: formatting left behind) but keep their numbers, so row 7 is row 7 in Excel.
- **Text of a cell.** Text as typed; numbers in their shortest exact form, a whole float
  without its ``.0`` (``7.0`` is ``"7"``, a 13-digit barcode keeps every digit); Excel dates as
  ISO ``yyyy-mm-dd`` (with ``hh:mm:ss`` when the cell holds a time of day); booleans as
  ``true``/``false``; an empty cell as ``""``.
- **Refused cells**, each a :class:`~cpfr.exceptions.Problem`: a formula (its saved result may
  be stale, and a workbook written by a program has none — paste the values instead); an
  error value such as ``#N/A``; merged cells at or below the header (only the first cell of a
  merge holds the value, so the others would read as empty); a value in a column without a
  header.
- **Large sheets** are streamed (openpyxl's ``read_only`` mode) and turned into Arrow columns
  a block of rows at a time, so Python objects are never held for the whole sheet.
- A file that is not a workbook (a CSV or an old ``.xls`` renamed, an encrypted workbook, a
  truncated download) is a problem naming the file, not a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from cpfr.data.sources import ROW_COLUMN, SourceFile, _check_names, _fail
from cpfr.exceptions import Problem, ValidationError, sheet_label

MAX_PROBLEMS = 50  # as many as the store shows for a file (the rest are counted)
BLOCK_ROWS = 65_536  # rows turned into Arrow arrays at a time (bounds the Python objects held)
# What openpyxl or the formats below it raise on bytes that are not a readable workbook.
_NOT_A_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
    KeyError,
    ValueError,
    TypeError,
    EOFError,
    SyntaxError,  # xml.etree's ParseError: a damaged sheet or shared-strings part
    OSError,
)
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def open_workbook(path: Path, label: str, table: str | None = None) -> SourceFile:
    """Open the sheet of the workbook at ``path`` that ``table``'s rows are read from (module docstring).

    Parameters
    ----------
    path : Path
        An ``.xlsx`` (or macro-enabled ``.xlsm``; macros are never run) file.
    label : str
        The path as the user gave it.
    table : str, optional
        The table being loaded: a sheet of that name is read in preference to the first.

    Raises
    ------
    ValidationError
        The file is not a readable workbook, or its sheet is empty, has bad column names or
        holds refused cells (formulas, error values, merged cells, values without a header).
    """
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it does not read (data validation, slicers, a default
            # style): none of them holds a cell value, and dates out of range become error cells,
            # which are reported below.
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
            try:
                sheet = _choose_sheet(book, table, label)
                where = sheet_label(label, str(sheet.title))
                sheet.reset_dimensions()  # a workbook's stated size may be wrong: read every row
                return _read_sheet(path, sheet, where)
            finally:
                book.close()
    except _NOT_A_WORKBOOK as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise _fail(
            label, 0, "", None, f"an Excel .xlsx workbook (the file cannot be read as one: {reason[:200]})"
        ) from None


def _choose_sheet(book: Any, table: str | None, label: str) -> Any:
    sheets = list(book.worksheets)
    if table is not None:
        for sheet in sheets:
            if str(sheet.title).casefold() == table.casefold():
                return sheet
    for sheet in sheets:
        if sheet.sheet_state == "visible":
            return sheet
    raise _fail(label, 0, "", None, "a workbook with a visible worksheet (it has none)")


def _read_sheet(path: Path, sheet: Any, label: str) -> SourceFile:
    problems: list[Problem] = []
    total = 0
    rows = sheet.iter_rows()
    names: tuple[str, ...] = ()
    header_row = 0
    for number, cells in enumerate(rows, start=1):
        if any(_present(cell.value) for cell in cells):
            header_row = number
            texts = [_header_text(cell.value) for cell in cells]
            while texts and not texts[-1]:
                texts.pop()
            names = tuple(texts)
            break
    if not header_row:
        raise _fail(label, 1, "", None, "a header row and at least one data row (the sheet is empty)")
    _check_names(names, label, header_row)

    columns: list[list[str]] = [[] for _ in names]
    row_numbers: list[int] = []
    blocks: list[list[pa.Array]] = [[] for _ in names]
    number_blocks: list[pa.Array] = []

    def flush() -> None:
        for position, values in enumerate(columns):
            blocks[position].append(pa.array(values, type=pa.string()))
            values.clear()
        number_blocks.append(pa.array(row_numbers, type=pa.int64()))
        row_numbers.clear()

    for number, cells in enumerate(rows, start=header_row + 1):
        if not any(_present(cell.value) for cell in cells):
            continue
        texts = [""] * len(names)
        for position, cell in enumerate(cells):
            if not _present(cell.value):
                continue
            if position >= len(names):
                total += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(
                        Problem(
                            label,
                            number,
                            f"#{position + 1} ({get_column_letter(position + 1)})",
                            _cell_text(cell.value),
                            "no value: the column has no header",
                        )
                    )
                continue
            refused = _refusal(cell)
            if refused is not None:
                total += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(Problem(label, number, names[position], str(cell.value), refused))
                continue
            texts[position] = _cell_text(cell.value)
        for position, text in enumerate(texts):
            columns[position].append(text)
        row_numbers.append(number)
        if len(row_numbers) >= BLOCK_ROWS:
            flush()
    flush()
    for first, cells, column in _merges(sheet, header_row):
        total += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(
                Problem(
                    label,
                    first,
                    names[column] if column < len(names) else "",
                    f"merged {cells}",
                    "cells that are not merged (unmerge them and fill every cell)",
                )
            )
    if problems:
        problems.sort(key=lambda problem: (problem.row, problem.column))
        raise ValidationError(problems, total)
    table = pa.table(
        {name: pa.chunked_array(chunks, type=pa.string()) for name, chunks in zip(names, blocks, strict=True)}
        | {ROW_COLUMN: pa.chunked_array(number_blocks, type=pa.int64())}
    )
    if table.num_rows == 0:
        raise _fail(
            label, header_row + 1, "", None, "at least one data row after the header (the sheet has none)"
        )
    return SourceFile(path, label, "xlsx", names, header_row, table, table.num_rows)


def _present(value: object) -> bool:
    return value is not None and value != ""


def _header_text(value: object) -> str:
    return "" if value is None else _cell_text(value).strip()


def _refusal(cell: Any) -> str | None:
    """Say why a cell's value is not taken, or None when it is."""
    if cell.data_type == "f":
        return "a value, not a formula (copy the column and paste it as values)"
    if cell.data_type == "e":
        return "a value, not an Excel error"
    return None


def _cell_text(value: object) -> str:
    """Return a cell's value as the text the CSV path would see (module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)  # a duration (timedelta) or a type openpyxl adds later: as Python prints it


def _merges(sheet: Any, header_row: int) -> Iterator[tuple[int, str, int]]:
    """Yield ``(first row, range, first column index)`` of every merge that reaches the header or below.

    openpyxl's streaming reader does not expose merged cells, so the ``<mergeCell>`` elements
    that close the sheet's XML are found by scanning its bytes a block at a time (a sheet can be
    large); ``_get_source`` is the streaming reader's own way to that XML.
    """
    tail = b""
    with sheet._get_source() as source:
        while True:
            block = source.read(1 << 20)
            text = tail + block
            # An element cut by the block's end is scanned again with the next block.
            end = len(text) if not block else max(text.rfind(b"<"), 0)
            for match in _MERGE.finditer(text, 0, end):
                cells = match.group(1).decode()
                first_column, first_row, _, last_row = range_boundaries(cells)
                if last_row is not None and last_row >= header_row:
                    yield int(first_row or 1), cells, int(first_column or 1) - 1
            tail = text[end:]
            if not block:
                return
