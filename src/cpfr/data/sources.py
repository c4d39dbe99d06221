"""Input files as the store's ingester sees them: format, columns, row numbers.

A :class:`SourceFile` hides whether a file is CSV, an Excel workbook or
Parquet. Parquet is left on disk so the store can stream it (memory stays well
under the file's in-memory size); CSV is read by pyarrow as text, and a
workbook's sheet by :mod:`cpfr.data.xlsx_source` as text too, so a value that
does not parse is reported as the user wrote it, with the line (or Excel row)
number a person sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cpfr.exceptions import InputError, Problem, ValidationError

ROW_COLUMN = "__row"  # the person-visible row number carried beside the data
# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets (OWASP, "CSV Injection"): = + - @, and tab or carriage return before them.
FORMULA_START = r"^[=+\-@\t\r]"
# Names the engine uses beside a file's own columns: a file may not bring its own.
RESERVED_COLUMNS = frozenset({ROW_COLUMN, "file_row_number", "filename", "file_index"})


@dataclass(frozen=True)
class SourceFile:
    """A CSV, Excel or Parquet file opened for ingestion.

    Attributes
    ----------
    path : Path or None
        The file (None for rows cpfr hands over from memory).
    label : str
        The path as the user gave it, used in every message (for a workbook
        with the sheet read: ``sales.xlsx[Sheet1]``).
    format : {'csv', 'xlsx', 'parquet', 'frame'}
        File format, from the extension ('frame': rows from memory).
    columns : tuple of str
        Column names in file order.
    header_row : int
        The row number problems about columns are reported at (1 for a CSV
        header line, the header's Excel row for a workbook, 0 for Parquet,
        whose schema is not a row).
    arrow : pyarrow.Table or None
        For CSV and workbooks, the text of every cell plus ``__row``; None for Parquet.
    num_rows : int
        Data rows in the file.
    """

    path: Path | None
    label: str
    format: str
    columns: tuple[str, ...]
    header_row: int
    arrow: pa.Table | None
    num_rows: int

    def read_frame(self) -> tuple[pd.DataFrame, np.ndarray]:
        """Return the rows as a DataFrame (CSV and workbook cells as text) and the row numbers a person sees.

        Raises
        ------
        ValidationError
            The Parquet file cannot be read (a corrupt page).
        """
        if self.arrow is not None:
            frame = self.arrow.to_pandas()
            return frame, frame.pop(ROW_COLUMN).to_numpy()
        assert self.path is not None
        try:
            frame = pd.read_parquet(self.path)
        except (OSError, ValueError, pa.ArrowException) as error:
            raise _fail(self.label, 0, "", None, f"a readable Parquet file ({error})") from None
        return frame, np.arange(1, len(frame) + 1)

    def sha256(self) -> str:
        """Return the hex SHA-256 of the file's bytes (recorded in the ingest log)."""
        digest = hashlib.sha256()
        if self.path is None:
            assert self.arrow is not None
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, self.arrow.schema) as writer:
                writer.write_table(self.arrow)
            digest.update(sink.getvalue().to_pybytes())
            return digest.hexdigest()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def open_source(path: str | os.PathLike[str], *, table: str | None = None) -> SourceFile:
    """Open ``path`` for ingestion, or raise an error naming the file.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (or ``.txt``), ``.xlsx`` (or ``.xlsm``) or ``.parquet`` (or ``.pq``) file, or a
        folder holding a Hive-partitioned Parquet dataset (:mod:`cpfr.data.lake`).
    table : str, optional
        The table the rows are for: a workbook's sheet of that name is read rather than its
        first (:mod:`cpfr.data.xlsx_source`). Other formats ignore it.

    Raises
    ------
    InputError
        The file does not exist or its extension is none of the above.
    ValidationError
        The file is empty, not UTF-8, has duplicate or blank column names,
        or cannot be parsed (a workbook: refused cells, see :mod:`cpfr.data.xlsx_source`).
    """
    label = str(path)
    file_path = Path(path)
    try:
        is_file = file_path.is_file()
    except OSError as error:  # e.g. a name longer than the file system allows
        raise InputError(f"{_shorten(label)}: cannot open ({error.strerror})") from None
    if not is_file and file_path.is_dir():
        from cpfr.data.lake import open_dataset  # a partitioned Parquet folder (cpfr export --partition-by)

        return open_dataset(file_path, table)
    if not is_file:
        raise InputError(f"{_shorten(label)}: no such file")
    suffix = file_path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _open_parquet(file_path, label)
    if suffix in (".csv", ".txt"):
        return _open_csv(file_path, label)
    if suffix in (".xlsx", ".xlsm"):
        from cpfr.data.xlsx_source import open_workbook  # openpyxl is imported only for workbooks

        return open_workbook(file_path, label, table)
    if suffix == ".xls":
        raise InputError(f"{label}: an Excel 97-2003 workbook — save it as .xlsx (or .csv) first")
    raise InputError(f"{label}: unknown file type {suffix!r} — expected .csv, .xlsx or .parquet")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    Numbers are left alone (``-3`` stays a number); only text cells change.

    References
    ----------
    OWASP Foundation, "CSV Injection" (the leading-apostrophe defence).
    """
    pattern = re.compile(FORMULA_START)
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            safe[column] = [
                "'" + value if isinstance(value, str) and pattern.match(value) else value for value in values
            ]
    return safe


def frame_source(frame: pd.DataFrame, label: str) -> SourceFile:
    """Wrap rows that cpfr computed (a DataFrame) so they go through the same validation as a file."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _check_names(tuple(table.column_names), label, 0)
    rows = pa.array(range(1, table.num_rows + 1), type=pa.int64())
    table = table.append_column(ROW_COLUMN, rows)
    return SourceFile(None, label, "frame", tuple(frame.columns), 0, table, table.num_rows)


@contextlib.contextmanager
def literal_path(path: Path) -> Iterator[str]:
    """Yield a name for ``path`` that no engine reads as a pattern: a link in a private folder.

    DuckDB (like most engines) expands ``*``, ``?`` and ``[...]`` in the paths
    it reads, so a file named ``sales*.parquet`` would pull in its neighbours.
    """
    with tempfile.TemporaryDirectory(prefix="cpfr-src-") as folder:
        link = Path(folder) / "source.parquet"
        try:
            link.symlink_to(path.resolve())
        except OSError as error:
            raise InputError(f"{_shorten(str(path))}: cannot open ({error.strerror})") from None
        yield str(link)


def _shorten(label: str, most: int = 200) -> str:
    """Cut a path short enough for a one-line message (a 300-byte name is not)."""
    return label if len(label) <= most else label[: most - 3] + "..."


def _fail(label: str, row: int, column: str, value: str | None, expected: str) -> ValidationError:
    return ValidationError([Problem(label, row, column, value, expected)])


def _open_parquet(path: Path, label: str) -> SourceFile:
    try:
        metadata = pq.read_metadata(path)
        names = tuple(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as error:
        raise _fail(label, 0, "", None, f"a readable Parquet file ({error})") from None
    _check_names(names, label, 0)
    if metadata.num_rows == 0:
        raise _fail(label, 0, "", None, "at least one data row (the file has none)")
    return SourceFile(path, label, "parquet", names, 0, None, metadata.num_rows)


def _open_csv(path: Path, label: str) -> SourceFile:
    raw = path.read_bytes()
    if not raw.strip():
        raise _fail(label, 1, "", None, "a header line and at least one data row (the file is empty)")
    _check_utf8(raw, label)
    if raw.startswith(b"\xef\xbb\xbf"):  # Excel writes a byte-order mark; it is not part of the header
        raw = raw[3:]
    header = raw.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    names = tuple(name.strip().strip('"').strip() for name in header.split(","))
    _check_names(names, label, 1)
    ragged: list[tuple[int, str]] = []

    def keep_ragged(row: pa_csv.InvalidRow) -> str:
        ragged.append((row.actual_columns, row.text))
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(raw),
            read_options=pa_csv.ReadOptions(column_names=list(names), skip_rows=1, use_threads=False),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=keep_ragged),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise _fail(label, 0, "", None, f"a CSV file pyarrow can parse ({error})") from None
    if ragged:
        raise ValidationError(_ragged_problems(raw, ragged, len(names), label))
    if table.num_rows == 0:
        raise _fail(label, 2, "", None, "at least one data row after the header (the file has none)")
    # Line numbers as a person sees them: header on line 1, first row on line 2.
    # (A quoted value spanning several lines shifts later numbers; cpfr's own
    # files never do that, and pyarrow does not report physical lines.)
    rows = pa.array(range(2, table.num_rows + 2), type=pa.int64())
    table = table.append_column(ROW_COLUMN, rows)
    return SourceFile(path, label, "csv", names, 1, table, table.num_rows)


def _check_utf8(raw: bytes, label: str) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        field_index = raw.count(b",", line_start, error.start)
        header = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").split(",")
        column = header[field_index].strip() if field_index < len(header) else ""
        bad = raw[error.start : error.start + 4]
        raise _fail(
            label, line, column, bad.hex(" "), "UTF-8 text (save the file as UTF-8, not GBK or Latin-1)"
        ) from None


def _check_names(names: tuple[str, ...], label: str, header_row: int) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(Problem(label, header_row, f"#{position}", "", "a column name"))
        elif name in RESERVED_COLUMNS or any(ord(char) < 32 for char in name):
            problems.append(
                Problem(
                    label, header_row, f"#{position}", name, "a column of the table (that name is reserved)"
                )
            )
        elif name in seen:
            problems.append(Problem(label, header_row, name, name, "each column name once"))
        seen.add(name)
    if problems:
        raise ValidationError(problems)


def _ragged_problems(raw: bytes, ragged: list[tuple[int, str]], expected: int, label: str) -> list[Problem]:
    """Name the line of each row with too many or too few fields.

    pyarrow hands its invalid-row handler the row's text but no line number
    (``InvalidRow.number`` is None when rows are skipped), so the lines are
    found again, in order, in the file's text.
    """
    lines = raw.decode("utf-8").split("\n")
    problems, position = [], 1
    for fields, text in ragged:
        while position < len(lines) and lines[position].rstrip("\r") != text.rstrip("\r"):
            position += 1
        line = position + 1 if position < len(lines) else 0
        problems.append(Problem(label, line, "", f"{fields} fields", f"{expected} fields, as in the header"))
        position += 1
    return problems
