"""The errors cpfr raises.

Every error cpfr raises on purpose derives from :class:`CpfrError`, so a
caller (the CLI, the REST API) can turn it into a clear message and a
non-zero exit code instead of a traceback::

    CpfrError
    ├── InputError              bad input from a user: a file, a flag, a value
    │   ├── SchemaError         a file does not fit its table (columns, types)
    │   ├── ValidationError     rows break rules; carries every Problem found
    │   ├── LimitError          the work asked for is beyond cpfr's bounds (refused up front)
    │   └── AccessError         the table or row may not be written this way (protected, append-only)
    ├── InfeasibleError         a model has no solution (constraints contradict each other)
    ├── SolverLimitError        a solver reached its time or iteration limit without an answer
    ├── NotFittedError          an estimator was used before ``fit``
    ├── ForecastError           a model failed on a series (named) or an execution engine failed
    └── StoreError              the store cannot do what was asked
        ├── StoreNotFoundError  no store at the location given (and the command does not create one)
        ├── NotAStoreError      the file is not a cpfr store (another database, or not a database)
        ├── StoreBusyError      another process holds the store's lock past the wait
        ├── ReadOnlyStoreError  a write was asked of a store opened read-only
        └── MigrationError      the store's schema version is unknown or newer

The command line maps each branch to an exit code (see ``cpfr.cli.errors``);
domain code raises these and never names a flag or an exit code itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A problem's file names a workbook's sheet as ``sales.xlsx[Sheet1]`` (Excel forbids [ ] in sheet names).
_SHEET_LABEL = re.compile(r"^(?P<file>.+\.xls[xm])\[(?P<sheet>[^\[\]]+)\]$", re.IGNORECASE)


def sheet_label(file: str, sheet: str) -> str:
    """Return the name problems in ``sheet`` of the workbook ``file`` are reported under.

    Examples
    --------
    >>> sheet_label("sales.xlsx", "Sheet1")
    'sales.xlsx[Sheet1]'
    """
    return f"{file}[{sheet}]"


class CpfrError(Exception):
    """Base class of every error cpfr raises on purpose."""


class InputError(CpfrError):
    """Bad input from a user: a file, a command-line flag or a value."""


class ParameterError(InputError):
    """A parameter's value is refused: ``parameter`` is its domain name, ``detail`` what is wrong.

    The CLI says it again under the flag that gave the value (:func:`cpfr.cli.flags.flag_names`).
    """

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter} {detail}")
        self.parameter = parameter
        self.detail = detail


class SchemaError(InputError):
    """A file does not fit the table it is loaded into."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located for a person to fix.

    Attributes
    ----------
    file : str
        The file's path as the user gave it; for a workbook with the sheet,
        ``sales.xlsx[Sheet1]`` (:func:`sheet_label`).
    row : int
        The line number a person sees in the file: for CSV the header is
        line 1 and the first data row line 2; for Parquet the first row is 1;
        for a workbook the row number Excel shows.
        0 means the problem concerns the whole file (e.g. it is empty).
    column : str
        The column the problem is in ('' when it concerns a whole row).
    value : str | None
        The offending value as text, or None where there is no value.
    expected : str
        What was expected instead, in words.
    """

    file: str
    row: int
    column: str
    value: str | None
    expected: str

    def __str__(self) -> str:
        shown = "missing" if self.value is None else f"value {self.value!r}"
        if _SHEET_LABEL.match(self.file):
            # A sheet is read by rows and columns, not opened at a line as a text file is
            # (``FILE:LINE:`` is the form editors jump to): say it as Excel shows it.
            where = [f"row {self.row}"] if self.row else []
            where += [f"column {self.column}"] if self.column else []
            place = f"{self.file} {', '.join(where)}" if where else self.file
            return f"{place}: {shown} — expected {self.expected}"
        return f"{self.file}:{self.row}:{self.column}: {shown} — expected {self.expected}"


class ValidationError(InputError):
    """Rows of a file break the rules of their table.

    Parameters
    ----------
    problems : list of Problem
        The problems found, at most ``cap`` of them, in file order.
    total : int
        How many problems were found in all (may exceed ``len(problems)``).
    """

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__(self.report())

    def report(self) -> str:
        """Return the problems as lines ``FILE:ROW:COLUMN: value 'x' — expected ...``.

        A workbook's problems read ``FILE[SHEET] row ROW, column COLUMN: ...`` instead.
        """
        lines = [str(problem) for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more problems ({self.total} in all)")
        return "\n".join(lines)


class ForecastError(CpfrError):
    """A model failed while forecasting a series (its id in the message), or the engine running it failed."""


class LimitError(InputError):
    """The work asked for is beyond cpfr's documented bounds (a horizon, a size), refused before it starts."""


class AccessError(InputError):
    """The caller may not do this: a table or row not writable this way, a role without the right."""


class NotFoundError(InputError):
    """The object asked for does not exist, or is not the caller's to see (the two are not told apart)."""


class InfeasibleError(CpfrError):
    """A model has no feasible solution: its constraints contradict each other."""


class SolverLimitError(CpfrError):
    """A solver stopped at its time or iteration limit before it had an answer."""


class NotFittedError(CpfrError):
    """An estimator's ``predict`` (or another fitted-state method) was called before ``fit``."""


class StoreError(CpfrError):
    """The store cannot do what was asked (unreachable, corrupt, full disk)."""


class StoreNotFoundError(StoreError):
    """No store exists at the location given, and the command does not create stores."""


class NotAStoreError(StoreError):
    """The file at the store's location is not a cpfr store (another database, or not a database)."""


class StoreBusyError(StoreError):
    """Another process held the store's lock for longer than the command was allowed to wait."""


class ReadOnlyStoreError(StoreError):
    """A write was asked of a store that is open read-only (a read-only file or a read command)."""


class MigrationError(StoreError):
    """The store's schema version is unknown to, or newer than, this cpfr."""
