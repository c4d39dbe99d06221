"""What a target's forecast reads: its metric per day and SKU, and what is known of each SKU's future.

A :class:`SalesPanel` holds, for one scope (a target's, or a partner's whole
range), the metric per day and SKU up to the forecast origin, together with
the facts a planner knows ahead of time and the sales history cannot show:

- the launch date of SKUs not on sale yet and the last day on sale of SKUs
  being discontinued (the ``products`` table: in CPFR, new items and
  discontinuations are agreed in the joint business plan);
- which SKU a trade-in subsidy covers on which day (``events`` of kind
  ``subsidy``, by category and optionally partner), up to the end of the
  horizon, so that a forecast can *lap* a subsidy that began during the
  year it is compared with.

Days are indexed from ``start`` (index 0, the store's first day of sales, so
that every panel of a store lines up); the origin is the last row of
``values``. A :class:`SalesBook` reads the store's sales once and cuts every
panel from them, so that a batch of targets and as-of days (a plan, the
calibration benchmark) costs about one read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.targets.scope import METRICS, TargetScope, descendants

T = TypeVar("T")
NEVER = 10**9  # a day index no horizon reaches: not launched by the panel / never discontinued


@dataclass(frozen=True)
class SalesPanel:
    """A scope's metric per day and SKU up to an origin, with each SKU's known future.

    Attributes
    ----------
    start : datetime.date
        The day of row 0.
    values : numpy.ndarray
        ``(days, skus)`` metric per day and SKU, up to and including the origin (the last row).
    first_sale : numpy.ndarray
        ``(skus,)`` row of each SKU's first sale (:data:`NEVER` if it has none yet).
    launch : numpy.ndarray
        ``(skus,)`` row of each SKU's launch date in the product master (:data:`NEVER` if unknown).
    last_on_sale : numpy.ndarray
        ``(skus,)`` row of each SKU's last day on sale (:data:`NEVER` if it is not discontinued).
    subsidised : numpy.ndarray
        ``(days + horizon, skus)`` booleans: a subsidy event covers the SKU that day.
    reference : numpy.ndarray or None
        ``(days,)`` the whole store's metric per day: the seasonal shape of a range too new to
        have a shape of its own.
    """

    start: dt.date
    values: np.ndarray
    first_sale: np.ndarray
    launch: np.ndarray
    last_on_sale: np.ndarray
    subsidised: np.ndarray
    reference: np.ndarray | None = None

    @property
    def origin(self) -> int:
        """Row of the last day with sales data."""
        return len(self.values) - 1

    @property
    def total(self) -> np.ndarray:
        """The scope's metric per day."""
        return self.values.sum(axis=1)

    def up_to(self, origin: int) -> SalesPanel:
        """Return the panel as it was seen at row ``origin`` (later sales and first sales unknown)."""
        values = self.values[: origin + 1]
        return SalesPanel(
            start=self.start,
            values=values,
            first_sale=np.where(self.first_sale <= origin, self.first_sale, NEVER),
            launch=self.launch,
            last_on_sale=self.last_on_sale,
            subsidised=self.subsidised,
            reference=None if self.reference is None else self.reference[: origin + 1],
        )


class SalesBook:
    """The store's sales by day and SKU, read once and then cut into panels and totals.

    Every panel of every target and origin comes from the same read (plus one by channel kind
    for a partner with a channel target), so a batch of targets and as-of dates costs little
    more than one. Results derived from the sales can be kept with :meth:`memo`.

    Parameters
    ----------
    store : Store
        The store to read.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.products = store.read_table("products")
        self.categories = store.read_table("categories")
        self.events = store.read_table("events")
        self.partners = tuple(str(partner) for partner in store.read_table("partners")["partner_id"])
        self.first_day, self.last_day = store.date_range("sales")
        self._cubes: dict[str | None, pd.DataFrame] = {}
        self._panels: dict[tuple[object, ...], SalesPanel] = {}
        self._covers: dict[str, set[str]] = {}
        self._memo: dict[tuple[object, ...], Any] = {}

    def memo(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """Return ``compute()``, computed once per ``key`` for this book (results derived from its sales)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def sales(self, scope: TargetScope) -> pd.DataFrame:
        """Return ``date`` (datetime64), ``sku_id`` and ``value`` of every day a SKU of ``scope`` sold."""
        key = ("sales", *_key(scope))
        if key not in self._memo:
            if scope.channel_kind is None:
                cube = self._cube(None)
                cube = cube[cube["partner_id"] == scope.partner_id]
            else:
                cube = self._cube(scope.partner_id)
                cube = cube[cube["channel_kind"] == scope.channel_kind]
            if scope.categories is not None:
                leaf = self.products.set_index("sku_id")["category_id"]
                cube = cube[cube["sku_id"].map(leaf).isin(scope.categories)]
            sales = cube.rename(columns={METRICS[scope.metric]: "value"})[["date", "sku_id", "value"]]
            self._memo[key] = sales.reset_index(drop=True)
        return cast(pd.DataFrame, self._memo[key])

    def _cube(self, channels_of: str | None) -> pd.DataFrame:
        """Read every partner's sales by day and SKU once (one partner's also by channel kind, if named).

        Two reads rather than one by channel kind for all: grouping by channel kind (and category) joins
        more tables and triples the rows, and only targets of one channel kind need it.
        """
        if channels_of not in self._cubes:
            if channels_of is None:
                cube = self.store.sales_cube(["partner_id", "date", "sku_id"])
            else:
                cube = self.store.sales_cube(["date", "sku_id", "channel_kind"], partner_id=channels_of)
            cube["date"] = pd.to_datetime(cube["date"])
            cube["sku_id"] = cube["sku_id"].astype(str)
            self._cubes[channels_of] = cube
        return self._cubes[channels_of]

    def total(self, scope: TargetScope, first: dt.date, last: dt.date) -> float:
        """Return ``scope``'s metric summed over ``first`` .. ``last``."""

        def compute() -> float:
            sales = self.sales(scope)
            days = sales["date"].between(pd.Timestamp(first), pd.Timestamp(last))
            return float(sales.loc[days, "value"].sum())

        return self.memo(("total", *_key(scope), first, last), compute)

    def whole_ranges(self, metric: str, as_of: dt.date) -> dict[str, SalesPanel]:
        """Return every partner's whole range (all categories and channels) up to ``as_of``, by partner."""
        return {partner: self.panel(whole_range(partner, metric), as_of, as_of) for partner in self.partners}

    def panel(self, scope: TargetScope, as_of: dt.date, horizon_end: dt.date) -> SalesPanel:
        """Return ``scope``'s metric per day and SKU from its first sale to ``as_of`` (its period ignored).

        ``horizon_end`` is the last day the forecast reaches (subsidy cover is known up to it).
        The panel is empty (no rows) when the scope sold nothing up to ``as_of``.
        """
        key = (*_key(scope), as_of, horizon_end)
        if key not in self._panels:
            self._panels[key] = self._read_panel(scope, as_of, horizon_end)
        return self._panels[key]

    def _read_panel(self, scope: TargetScope, as_of: dt.date, horizon_end: dt.date) -> SalesPanel:
        sales = self.sales(scope)
        sales = sales[sales["date"] <= pd.Timestamp(as_of)]
        sales = sales[sales["value"] != 0]
        products = self.products[self.products["partner_id"] == scope.partner_id]
        if scope.categories is not None:
            products = products[products["category_id"].isin(scope.categories)]
        planned = products.loc[pd.to_datetime(products["launch_date"]) > pd.Timestamp(as_of), "sku_id"]
        skus = sorted(set(sales["sku_id"]) | set(planned.astype(str)))
        start = self.first_day or as_of  # every panel starts on the store's first day of sales
        days = (as_of - start).days + 1
        values = np.zeros((max(days, 0), len(skus)))
        if not sales.empty:
            row = (sales["date"] - pd.Timestamp(start)).dt.days.to_numpy()
            column = pd.Index(skus).get_indexer(pd.Index(sales["sku_id"]))
            np.add.at(values, (row, column), sales["value"].to_numpy(dtype=float))
        facts = products.assign(sku_id=products["sku_id"].astype(str)).set_index("sku_id").reindex(skus)
        horizon = max((horizon_end - start).days + 1, days)
        return SalesPanel(
            start=start,
            values=values,
            first_sale=_first_rows(values),
            launch=_rows(facts["launch_date"], start),
            last_on_sale=_rows(facts["end_date"], start),
            subsidised=self._subsidised(scope.partner_id, facts["category_id"], start, horizon),
            reference=self._reference(scope.metric, start, days),
        )

    def _reference(self, metric: str, start: dt.date, days: int) -> np.ndarray:
        """Return the whole store's ``metric`` on each of ``days`` days from ``start``."""
        daily = self.memo(
            ("reference", metric), lambda: self._cube(None).groupby("date")[METRICS[metric]].sum()
        )
        index = pd.date_range(pd.Timestamp(start), periods=max(days, 0), freq="D")
        return daily.reindex(index, fill_value=0.0).to_numpy(dtype=float)

    def _subsidised(self, partner_id: str, categories: pd.Series, start: dt.date, horizon: int) -> np.ndarray:
        """Return ``(horizon, skus)``: a subsidy event covers the SKU's category (or one above) that day."""
        covered = np.zeros((horizon, len(categories)), dtype=bool)
        events = self.events[self.events["kind"] == "subsidy"]
        leaf = categories.astype(str).to_numpy()
        for event in events.to_dict("records"):
            owner = event.get("partner_id")
            if isinstance(owner, str) and owner and owner != partner_id:
                continue
            category = event.get("category_id")
            if isinstance(category, str) and category:
                if category not in self._covers:
                    self._covers[category] = descendants(self.categories, category)
                skus = np.isin(leaf, sorted(self._covers[category]))
            else:
                skus = np.ones(len(leaf), dtype=bool)
            first = max((pd.Timestamp(event["start_date"]).date() - start).days, 0)
            last = min((pd.Timestamp(event["end_date"]).date() - start).days, horizon - 1)
            if last >= first:
                covered[first : last + 1, skus] = True
        return covered


def whole_range(partner_id: str, metric: str) -> TargetScope:
    """Return the scope of everything ``partner_id`` sells, in ``metric`` (its period is a placeholder)."""
    day = dt.date(1900, 1, 1)
    return TargetScope(partner_id, partner_id, metric, day, day, 0.0, None, None, partner_id)


def _key(scope: TargetScope) -> tuple[object, ...]:
    """Return what a scope counts, whatever its period: partner, metric, categories, channel kind."""
    return (scope.partner_id, scope.metric, scope.categories, scope.channel_kind)


def _first_rows(values: np.ndarray) -> np.ndarray:
    sold = values > 0
    if not len(sold):
        return np.full(values.shape[1], NEVER, dtype=np.int64)
    return np.where(sold.any(axis=0), sold.argmax(axis=0), NEVER)


def _rows(dates: pd.Series, start: dt.date) -> np.ndarray:
    days = (pd.to_datetime(dates) - pd.Timestamp(start)).dt.days
    return days.fillna(NEVER).to_numpy(dtype=np.int64)
