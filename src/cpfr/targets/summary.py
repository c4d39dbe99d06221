"""The alliance at a glance: sales to date against target, and where they come from.

One call gathers what a category manager opens first: each partner's
attainment of its alliance targets, and its sales split by top-level
category, channel kind, city tier and month. The interfaces (CLI summary,
dashboard) only render it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from cpfr.data.store import Store
from cpfr.targets.progress import target_progress

# The breakdowns of the summary and the sales-cube dimension each one uses.
BREAKDOWNS: dict[str, str] = {
    "category": "category_l1",
    "channel": "channel_kind",
    "city_tier": "city_tier",
    "month": "month",
}


@dataclass(frozen=True)
class AllianceSummary:
    """Sales to date against target, and the breakdowns of those sales.

    Attributes
    ----------
    as_of : datetime.date
        Last sales day counted.
    targets : pandas.DataFrame
        One row per target (see :class:`cpfr.targets.progress.TargetProgress`).
    breakdowns : dict of str to pandas.DataFrame
        For each of ``category``, ``channel``, ``city_tier`` and ``month``:
        columns ``partner_id``, the dimension, ``units``, ``gmv_yuan`` and
        ``share`` (of the partner's GMV), sorted by partner then dimension.
    """

    as_of: dt.date
    targets: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]


def alliance_summary(
    store: Store, *, partner_id: str | None = None, as_of: dt.date | None = None
) -> AllianceSummary:
    """Summarise the alliance in ``store``, for one partner or all of them.

    Parameters
    ----------
    store : Store
        The store to read.
    partner_id : str, optional
        Only this partner's targets and sales.
    as_of : datetime.date, optional
        Count sales up to this day (default: the last sales day in the store).
    """
    progress = target_progress(store, as_of)
    targets = progress.table
    if partner_id is not None and not targets.empty:
        targets = targets[targets["partner_id"] == partner_id].reset_index(drop=True)
    breakdowns = {}
    for name, dimension in BREAKDOWNS.items():
        cube = store.sales_cube(["partner_id", dimension], partner_id=partner_id, end=progress.as_of)
        total = cube.groupby("partner_id")["gmv_yuan"].transform("sum")
        cube["share"] = (cube["gmv_yuan"] / total).where(total > 0, 0.0)
        breakdowns[name] = cube.reset_index(drop=True)
    return AllianceSummary(progress.as_of, targets, breakdowns)
