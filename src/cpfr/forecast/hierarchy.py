"""Retail hierarchies as sparse summing matrices: build the nodes, sum bottom series to every node.

A hierarchy links ``n_bottom`` bottom series (a SKU in a store, say) to
``n_agg`` aggregate nodes (a category of a partner, a city tier, the grand
total) through the summing matrix :math:`S` of shape ``n_nodes x n_bottom``
(Hyndman & Athanasopoulos 2021, chapter 11): ``y = S b``. Rows
are ordered aggregates first, then the bottom series, as in
hierarchicalforecast's ``S_df``, so :math:`S = [S_{agg}; I]`.

hierarchicalforecast's MinTrace works with dense ``n x n`` matrices and
was killed out of memory at 24 GB for 30,000 bottom series; here :math:`S`
is a ``scipy.sparse`` CSR matrix with one non-zero per bottom series and
level, a few megabytes, and nothing ``n x n`` is ever formed.
Reconciliation lives in :mod:`cpfr.forecast.reconcile`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cpfr.exceptions import InputError, SchemaError

ID_COLUMN = "unique_id"
TIME_COLUMN = "ds"
TOTAL = "total"
BOTTOM = "bottom"


@dataclass(frozen=True)
class Hierarchy:
    """The nodes of a hierarchical or grouped structure and its sparse summing matrix.

    Build it with :meth:`from_frame`. Aggregate node ids are made of the
    attribute values that define them: ``total``, ``partner=XIAOMI``,
    ``partner=XIAOMI/category=PHONE``; bottom nodes keep their ``unique_id``.

    Attributes
    ----------
    bottom_ids : numpy.ndarray
        The ``unique_id`` of each bottom series, sorted; column ``j`` of
        ``summing`` is ``bottom_ids[j]``.
    ids : numpy.ndarray
        Every node id, aggregates first (levels in spec order, nodes sorted
        within a level), then ``bottom_ids``; row ``i`` of ``summing`` is
        ``ids[i]``.
    summing : scipy.sparse.csr_matrix
        The summing matrix :math:`S` (``n_nodes x n_bottom``, entries 0/1):
        node ``i`` is the sum of the bottom series ``j`` with ``S[i, j] = 1``.
        Its last ``n_bottom`` rows are the identity.
    levels : dict of str to numpy.ndarray
        Node ids per level, keyed ``total``, ``partner``,
        ``partner/category``, ..., and ``bottom`` last.

    References
    ----------
    Hyndman, R. J. & Athanasopoulos, G. (2021). *Forecasting: Principles and
    Practice*, 3rd ed., OTexts, chapter 11 "Forecasting hierarchical and grouped
    time series" (summing matrix, grouped time series).

    Examples
    --------
    >>> frame = pd.DataFrame(
    ...     {"unique_id": ["a", "b", "c"], "partner": ["P1", "P1", "P2"]}
    ... )
    >>> hierarchy = Hierarchy.from_frame(frame, [[], ["partner"]])
    >>> list(hierarchy.ids)
    ['total', 'partner=P1', 'partner=P2', 'a', 'b', 'c']
    >>> hierarchy.summing.toarray().astype(int).tolist()
    [[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """

    bottom_ids: np.ndarray
    ids: np.ndarray
    summing: sparse.csr_matrix
    levels: dict[str, np.ndarray]

    @property
    def n_bottom(self) -> int:
        """Number of bottom series (columns of ``summing``)."""
        return len(self.bottom_ids)

    @property
    def n_aggregates(self) -> int:
        """Number of aggregate nodes (the first rows of ``summing``)."""
        return len(self.ids) - len(self.bottom_ids)

    @property
    def aggregating(self) -> sparse.csr_matrix:
        """The aggregate rows :math:`S_{agg}` of the summing matrix (``n_aggregates x n_bottom``)."""
        return self.summing[: self.n_aggregates]

    @property
    def tags(self) -> dict[str, np.ndarray]:
        """Node ids per level, the ``tags`` argument hierarchicalforecast expects."""
        return dict(self.levels)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, spec: Sequence[Sequence[str]]) -> Hierarchy:
        """Build the hierarchy from one row per bottom series and a list of aggregate levels.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per bottom series: ``unique_id`` and the attribute
            columns the levels group by (``partner``, ``category``, ...).
        spec : sequence of sequence of str
            The aggregate levels, each a list of columns: ``[]`` is the grand
            total, ``["partner"]`` one node per partner, ``["partner",
            "category"]`` one per partner and category. Crossed (grouped)
            levels such as ``[["category"], ["region"], ["category",
            "region"]]`` are allowed. The bottom level is always added.

        Returns
        -------
        Hierarchy

        Raises
        ------
        SchemaError
            If ``unique_id`` or a level's column is missing.
        InputError
            If ``unique_id`` repeats, an attribute is missing, a level repeats,
            or an aggregate id collides with a bottom id.
        """
        columns = [ID_COLUMN, *sorted({column for level in spec for column in level})]
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise SchemaError(f"hierarchy frame: missing columns {missing}; expected {columns}")
        table = frame[columns].sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)
        if table[ID_COLUMN].duplicated().any():
            repeated = table.loc[table[ID_COLUMN].duplicated(), ID_COLUMN].iloc[0]
            raise InputError(f"hierarchy frame: unique_id {repeated!r} appears more than once")
        if table.isna().to_numpy().any():
            row, column = np.argwhere(table.isna().to_numpy())[0]
            raise InputError(
                f"hierarchy frame: missing {columns[column]!r} for unique_id "
                f"{table.loc[row, ID_COLUMN]!r}; every bottom series needs every attribute"
            )
        bottom_ids = table[ID_COLUMN].astype(str).to_numpy(dtype=object)
        n_bottom = len(bottom_ids)

        levels: dict[str, np.ndarray] = {}
        rows: list[np.ndarray] = []
        offset = 0
        for level in spec:
            name = "/".join(level) if level else TOTAL
            if name in levels:
                raise InputError(f"hierarchy spec: level {list(level)} is listed twice")
            codes, node_ids = _group_nodes(table, list(level))
            levels[name] = node_ids
            rows.append(codes + offset)
            offset += len(node_ids)
        n_aggregates = offset
        levels[BOTTOM] = bottom_ids
        ids = np.concatenate([*(levels[name] for name in levels if name != BOTTOM), bottom_ids])
        clashes = np.intersect1d(ids[:n_aggregates], bottom_ids)
        if clashes.size:
            raise InputError(f"hierarchy: aggregate id {clashes[0]!r} is also a bottom unique_id")

        row_index = np.concatenate([*rows, n_aggregates + np.arange(n_bottom)])
        column_index = np.tile(np.arange(n_bottom), len(spec) + 1)
        summing = sparse.csr_matrix(
            (np.ones(len(row_index)), (row_index, column_index)), shape=(len(ids), n_bottom)
        )
        return cls(bottom_ids=bottom_ids, ids=ids.astype(object), summing=summing, levels=levels)

    def aggregate(self, frame: pd.DataFrame, value_cols: Sequence[str]) -> pd.DataFrame:
        """Sum long bottom series to every node of the hierarchy.

        Parameters
        ----------
        frame : pandas.DataFrame
            Long frame ``unique_id, ds, value_cols...`` of bottom series.
            A bottom series absent on a date counts as 0 there; a NaN value
            makes every node above it NaN on that date.
        value_cols : sequence of str
            The columns to sum (``y``, ``mean``, ...).

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, value_cols...`` for every node (ordered as
            ``ids``) and every date in ``frame``: :math:`y_t = S b_t`.

        Raises
        ------
        SchemaError
            If a column is missing.
        InputError
            If a ``unique_id`` is not a bottom series or a (series, date) repeats.
        """
        value_cols = list(value_cols)
        required = [ID_COLUMN, TIME_COLUMN, *value_cols]
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise SchemaError(f"aggregate: missing columns {missing}; expected {required}")
        series, dates = self.locate(frame, self.bottom_ids, what="bottom unique_id")
        date_values, date_codes = dates
        output: dict[str, object] = {
            ID_COLUMN: np.repeat(self.ids, len(date_values)),
            TIME_COLUMN: np.tile(date_values, len(self.ids)),
        }
        for column in value_cols:
            bottom = np.zeros((self.n_bottom, len(date_values)))
            bottom[series, date_codes] = frame[column].to_numpy(dtype=float)
            output[column] = np.asarray(self.summing @ bottom).ravel()
        return pd.DataFrame(output)

    def locate(
        self, frame: pd.DataFrame, node_ids: np.ndarray, *, what: str = "node"
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Return each row's position in ``node_ids`` and its date (sorted distinct dates, codes).

        Parameters
        ----------
        frame : pandas.DataFrame
            A long frame with ``unique_id`` and ``ds``.
        node_ids : numpy.ndarray
            The ids rows may take (``ids`` or ``bottom_ids``).
        what : str
            How to call an id in an error message.

        Returns
        -------
        tuple
            ``(series_codes, (dates, date_codes))``: ``series_codes[r]`` is the
            position of row ``r``'s id in ``node_ids`` and ``dates[date_codes[r]]``
            its date.

        Raises
        ------
        InputError
            If an id is not in ``node_ids`` or a (unique_id, ds) pair repeats.
        """
        series = pd.Index(node_ids).get_indexer(frame[ID_COLUMN].astype(str))
        if (series < 0).any():
            unknown = frame[ID_COLUMN].to_numpy()[series < 0][0]
            raise InputError(f"unique_id {unknown!r} is not a {what} of the hierarchy")
        date_codes, date_values = pd.factorize(frame[TIME_COLUMN], sort=True)
        pairs = series.astype(np.int64) * len(date_values) + date_codes
        # A mark per (series, date) cell is O(rows); np.unique's hash or sort is ~10x slower here.
        seen = np.zeros(len(node_ids) * len(date_values), dtype=bool)
        seen[pairs] = True
        if np.count_nonzero(seen) < len(pairs):
            row = int(np.flatnonzero(pd.Series(pairs).duplicated().to_numpy())[0])
            raise InputError(
                f"row {row}: unique_id {frame[ID_COLUMN].iloc[row]!r} on ds "
                f"{frame[TIME_COLUMN].iloc[row]!r} appears more than once"
            )
        return series, (np.asarray(date_values), date_codes)


def _group_nodes(table: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return each bottom row's node code within one level and the level's node ids (sorted by key)."""
    if not columns:
        return np.zeros(len(table), dtype=np.int64), np.array([TOTAL], dtype=object)
    grouped = table.groupby(columns, sort=True, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = grouped.size().index.to_frame(index=False).astype(str)
    parts = [f"{column}=" + keys[column] for column in columns]
    node_ids = parts[0]
    for part in parts[1:]:
        node_ids = node_ids + "/" + part
    return codes, node_ids.to_numpy(dtype=object)
