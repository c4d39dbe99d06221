"""What a target counts: its partner, period, metric, categories and channels, read from the store.

A target row (``targets``) names a partner, a period, a metric (``gmv_yuan`` or
``units``) and optionally one category — with every category below it — and
one channel kind. :class:`TargetScope` resolves that once, and
:meth:`TargetScope.cube` returns the sales it counts, grouped as asked, so
that decomposition, tracking and attainment all count the same thing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError

METRICS = {"gmv_yuan": "gmv_yuan", "units": "units"}


@dataclass(frozen=True)
class TargetScope:
    """One target and the sales it counts.

    Attributes
    ----------
    target_id, partner_id, metric : str
        From the ``targets`` row; ``metric`` is ``gmv_yuan`` or ``units``.
    period_start, period_end : datetime.date
        The target period, inclusive.
    value : float
        The target value.
    categories : tuple of str or None
        Leaf categories counted (None: all).
    channel_kind : str or None
        Channel kind counted (None: all).
    description : str
    """

    target_id: str
    partner_id: str
    metric: str
    period_start: dt.date
    period_end: dt.date
    value: float
    categories: tuple[str, ...] | None
    channel_kind: str | None
    description: str

    @property
    def days(self) -> int:
        """Days in the target period."""
        return (self.period_end - self.period_start).days + 1

    def up_to(self, day: dt.date) -> TargetScope:
        """Return the same scope over all history up to ``day`` (for mixes and forecasts)."""
        return dataclasses.replace(self, period_start=dt.date(1900, 1, 1), period_end=day)

    def last_sales_day(self, store: Store) -> dt.date | None:
        """Return the partner's last day of sales in the store (None: it has none)."""
        last = store.sales_cube(["date"], partner_id=self.partner_id)["date"].max()
        return None if pd.isna(last) else pd.Timestamp(last).date()

    def cube(
        self, store: Store, by: Sequence[str], *, start: dt.date | None = None, end: dt.date | None = None
    ) -> pd.DataFrame:
        """Return the target's metric (column ``value``) grouped by ``by`` between ``start`` and ``end``.

        Days outside the target period are never counted.
        """
        first = max(start or self.period_start, self.period_start)
        last = min(end or self.period_end, self.period_end)
        columns = list(dict.fromkeys([*by, "category_id", "channel_kind"]))
        if last < first:
            return pd.DataFrame({"value": [0.0]}) if not by else pd.DataFrame(columns=[*by, "value"])
        cube = store.sales_cube(columns, partner_id=self.partner_id, start=first, end=last)
        if self.categories is not None:
            cube = cube[cube["category_id"].isin(self.categories)]
        if self.channel_kind is not None:
            cube = cube[cube["channel_kind"] == self.channel_kind]
        cube = cube.rename(columns={METRICS[self.metric]: "value"})
        if not by:
            return pd.DataFrame({"value": [float(cube["value"].sum())]})
        return pd.DataFrame(cube.groupby(list(by), as_index=False, dropna=False)["value"].sum())


def read_scope(store: Store, target_id: str) -> TargetScope:
    """Resolve ``target_id`` in the store's ``targets`` (categories include every one below)."""
    targets = store.read_table("targets")
    row = targets[targets["target_id"] == target_id]
    if row.empty:
        known = ", ".join(sorted(targets["target_id"])[:8])
        raise InputError(f"target {target_id!r}: not in the store's targets (known: {known or 'none'})")
    return scope_from_row(row.iloc[0].to_dict(), store.read_table("categories"))


def scope_from_row(target: Mapping[Hashable, Any], categories: pd.DataFrame) -> TargetScope:
    """Build the scope of one ``targets`` row, given the ``categories`` table."""
    target_id = str(target["target_id"])
    if target["metric"] not in METRICS:
        raise InputError(
            f"target {target_id!r}: metric {target['metric']!r} is not one of {', '.join(METRICS)}"
        )
    category = target.get("category_id")
    channel_kind = target.get("channel_kind")
    return TargetScope(
        target_id=target_id,
        partner_id=str(target["partner_id"]),
        metric=str(target["metric"]),
        period_start=pd.Timestamp(target["period_start"]).date(),
        period_end=pd.Timestamp(target["period_end"]).date(),
        value=float(target["value"]),
        categories=tuple(sorted(descendants(categories, category))) if _given(category) else None,
        channel_kind=str(channel_kind) if _given(channel_kind) else None,
        description=str(target.get("description") or target_id),
    )


def _given(value: object) -> bool:
    return isinstance(value, str) and value != ""


def descendants(categories: pd.DataFrame, root: object) -> set[str]:
    """Return the category ``root`` and every category below it in the ``categories`` table."""
    found = {str(root)}
    while True:
        children = set(categories.loc[categories["parent_id"].isin(found), "category_id"]) - found
        if not children:
            return found
        found |= children
