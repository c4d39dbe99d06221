"""Partner scoping: a store handle bound to one brand partner, the one place tenant isolation lives.

Every caller that acts for a partner (an API request of a brand's user, ``cpfr plan --partner``)
receives ``scoped(store, partner_id)`` instead of the store itself. Through it:

- every read keeps only the partner's rows and the platform-shared ones (``partner_id`` empty),
  whatever partner the caller asks for: another partner's rows read as nothing, so they cannot
  be told apart from rows that do not exist; in the service's own tables
  (:data:`PLATFORM_PRIVATE`) an empty ``partner_id`` marks the platform's row, which is not shared;
- every write is checked row by row: a row of another partner, a platform-shared row, or a fact
  about another partner's SKU is a validation problem and nothing is written;
- schema changes and whole-store digests are refused.

On PostgreSQL the handle's connection is also bound to the partner (row-level security), so a
bug above this module still cannot read another partner's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cpfr.data import schema
from cpfr.data.sources import SourceFile
from cpfr.data.store.base import IngestResult, Store, TableInfo
from cpfr.exceptions import AccessError, Problem, ValidationError

# Tables a partner may load rows into: its own facts, each tied to a SKU it owns.
PARTNER_WRITABLE: frozenset[str] = frozenset(
    table.name for table in schema.TABLES if not table.protected and table.partner_from is not None
)

# Tables where an empty partner_id marks a row of the platform's own, not a row shared with every
# partner: a platform job's progress and errors speak of every partner it plans for ("collaboration:
# MIDEA: 6 exceptions"), the platform's users and audit rows are its staff's, and shoppers'
# searches are the platform's consumer data (a brand sees them only as the gap finder's aggregates).
PLATFORM_PRIVATE: frozenset[str] = frozenset({"jobs", "users", "audit_log", "searches"})


class PartnerStore(Store):
    """A handle on a store that only reads and writes ``partner_id``'s rows (and reads shared ones).

    Parameters
    ----------
    inner : Store
        The store (best a session of it, see :meth:`Store.session`); closed with this handle.
    partner_id : str
        The partner every read and write is bound to.
    """

    def __init__(self, inner: Store, partner_id: str) -> None:
        if not partner_id:
            raise AccessError("a partner-scoped store needs a partner id")
        self._inner = inner
        self.partner_id = partner_id
        self.location = inner.location
        self.read_only = inner.read_only

    # -- reads: always the bound partner ----------------------------------------

    def _asks_other(self, partner_id: str | None) -> bool:
        return partner_id is not None and partner_id != self.partner_id

    def read_table(
        self,
        table: str,
        *,
        partner_id: str | None = None,
        where: Mapping[str, object] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return the partner's (and shared) rows of ``table``; another partner's id reads as no rows."""
        rows = self._inner.read_table(
            table,
            partner_id=self.partner_id,
            where=self._own(table, where),
            start=start,
            end=end,
            limit=limit,
            offset=offset,
        )
        return rows.iloc[0:0] if self._asks_other(partner_id) else rows

    def count_rows(
        self,
        table: str,
        *,
        partner_id: str | None = None,
        where: Mapping[str, object] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> int:
        """Return how many of the partner's (and shared) rows match (0 for another partner's id)."""
        if self._asks_other(partner_id):
            return 0
        return self._inner.count_rows(
            table, partner_id=self.partner_id, where=self._own(table, where), start=start, end=end
        )

    def _readable(self, table: str) -> tuple[str, ...]:
        """Return the partner ids whose rows of ``table`` the partner reads ('' for shared rows)."""
        return (self.partner_id,) if table in PLATFORM_PRIVATE else (self.partner_id, "")

    def _own(self, table: str, where: Mapping[str, object] | None) -> Mapping[str, object] | None:
        """Return ``where``, keeping only the partner's own rows of a table with platform-private rows."""
        if table not in PLATFORM_PRIVATE or (where and "partner_id" in where):
            return where  # a partner_id asked for is matched together with the bound one
        return {**(where or {}), "partner_id": self.partner_id}

    def sales_cube(
        self,
        by: Sequence[str],
        *,
        partner_id: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pd.DataFrame:
        """Return the partner's sales grouped by ``by`` (see :meth:`Store.sales_cube`)."""
        cube = self._inner.sales_cube(by, partner_id=self.partner_id, start=start, end=end)
        return cube.iloc[0:0] if self._asks_other(partner_id) else cube

    def date_range(self, table: str) -> tuple[dt.date | None, dt.date | None]:
        """Return the first and last day of the partner's rows of ``table``."""
        for info in self._inner.table_info():
            if info.table == table:
                own = [entry for entry in info.by_partner if entry[0] in self._readable(table)]
                firsts = [entry[2] for entry in own if entry[2] is not None]
                lasts = [entry[3] for entry in own if entry[3] is not None]
                return (min(firsts) if firsts else None, max(lasts) if lasts else None)
        return self._inner.date_range(table)  # an unknown table: the backend's own error

    def table_info(self) -> list[TableInfo]:
        """Return row counts and date ranges of the partner's (and shared) rows of every table."""
        infos = []
        for info in self._inner.table_info():
            own = tuple(entry for entry in info.by_partner if entry[0] in self._readable(info.table))
            infos.append(TableInfo(info.table, sum(entry[1] for entry in own), own))
        return infos

    def export(
        self, table: str, output: Path, *, partner_id: str | None = None, spreadsheet_safe: bool = True
    ) -> int:
        """Write the partner's (and shared) rows of ``table`` to ``output``."""
        if self._asks_other(partner_id):
            raise AccessError(f"{table}: no rows of partner {partner_id!r} are readable here")
        if table in PLATFORM_PRIVATE:
            # The backend's export keeps shared rows too, which are the platform's own here.
            raise AccessError(f"{table}: the platform's own rows; a partner cannot export this table")
        return self._inner.export(
            table, output, partner_id=self.partner_id, spreadsheet_safe=spreadsheet_safe
        )

    def schema_version(self) -> int:
        """Return the store's schema version."""
        return self._inner.schema_version()

    # -- writes: every row checked ----------------------------------------------

    def ingest(self, source: SourceFile, table: str, *, dry_run: bool = False) -> IngestResult:
        """Load ``source`` into ``table`` when every row is the partner's own (else a ValidationError)."""
        if table not in PARTNER_WRITABLE:
            raise AccessError(
                f"{table}: a partner may load only its own facts ({', '.join(sorted(PARTNER_WRITABLE))})"
            )
        frame, rows = source.read_frame()
        self._check_rows(frame, rows, schema.table(table), source.label)
        return self._inner.ingest(source, table, dry_run=dry_run)

    def write_rows(self, frame: pd.DataFrame, table: str) -> IngestResult:
        """Write cpfr's rows for the partner (every row must carry its ``partner_id``)."""
        return self.write_tables({table: frame})[0]

    def write_tables(self, frames: Mapping[str, pd.DataFrame]) -> list[IngestResult]:
        """Write several tables of the partner's rows in one transaction (every row its own)."""
        for name, frame in frames.items():
            label = f"<{name} written for {self.partner_id}>"
            self._check_rows(frame, np.arange(1, len(frame) + 1), schema.table(name), label, filled=True)
        return self._inner.write_tables(frames)

    def _check_rows(
        self, frame: pd.DataFrame, rows: np.ndarray, spec: schema.Table, label: str, *, filled: bool = False
    ) -> None:
        """Raise a ValidationError naming each row that is not the partner's own."""
        problems: list[Problem] = []
        expected = f"{self.partner_id} (your own partner id)"
        if "partner_id" in frame.columns:
            given = frame["partner_id"].astype("string").str.strip().fillna("")
            wrong = given.ne(self.partner_id) & (given.ne("") | filled)
            problems += [
                Problem(label, int(row), "partner_id", value or None, expected)
                for row, value in zip(rows[wrong.to_numpy()], given[wrong], strict=True)
            ]
        elif filled:
            problems.append(Problem(label, 0, "partner_id", None, expected))
        owner = spec.partner_from
        if owner is not None and owner[0] in frame.columns:
            column, parent, key = owner
            own = set(self._inner.read_table(parent, partner_id=self.partner_id)[key].astype(str))
            values = frame[column].astype("string").str.strip().fillna("")
            foreign = ~values.isin(own) & values.ne("")
            problems += [
                Problem(label, int(row), column, value, f"one of {self.partner_id}'s own codes")
                for row, value in zip(rows[foreign.to_numpy()], values[foreign], strict=True)
            ]
        if problems:
            problems.sort(key=lambda problem: (problem.row, problem.column))
            raise ValidationError(problems[:50], total=len(problems))

    # -- refused or passed on ---------------------------------------------------

    def migrate(self, target: int | None = None) -> list[int]:
        """Refuse: only the platform changes the schema."""
        raise AccessError("only the platform migrates the store")

    def content_digest(self) -> dict[str, str]:
        """Refuse: a digest of every table covers every partner's rows."""
        raise AccessError("a digest of the whole store is not available to a partner")

    def session(self, partner_id: str | None = None) -> Store:
        """Return another handle bound to the same partner (on its own connection)."""
        if self._asks_other(partner_id):
            raise AccessError(f"a handle of partner {self.partner_id} cannot act for {partner_id}")
        return PartnerStore(self._inner.session(self.partner_id), self.partner_id)

    def close(self) -> None:
        """Close the inner handle."""
        self._inner.close()


def scoped(store: Store, partner_id: str | None) -> Store:
    """Return ``store`` bound to ``partner_id`` (a :class:`PartnerStore`), or itself for the platform (None).

    The handle gets its own session, so closing it leaves ``store`` open.
    """
    if partner_id is None:
        return store.session()
    return PartnerStore(store.session(partner_id), partner_id)
