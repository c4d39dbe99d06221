"""Sales to date against each alliance target.

The straight-line pace used here (actual / target compared with the share
of the period elapsed) is only a first reading: the event calendar makes
sales far from linear (Double 11 alone can be a tenth of a year), which
:func:`cpfr.targets.tracking.track_target` accounts for on the decomposed
target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.scope import scope_from_row


@dataclass(frozen=True)
class TargetProgress:
    """Progress of every target of every agreement at one date.

    Attributes
    ----------
    as_of : datetime.date
        Last day of sales counted.
    table : pandas.DataFrame
        One row per target: ``target_id, partner_id, metric, scope,
        period_start, period_end, target, actual, attainment`` (actual /
        target), ``elapsed`` (share of the period's days up to ``as_of``),
        ``pace`` (attainment / elapsed; below 1 means behind a straight line),
        ``required_run_rate`` (per day for the rest of the period) and
        ``run_rate`` (per day so far).
    """

    as_of: dt.date
    table: pd.DataFrame


def target_progress(store: Store, as_of: dt.date | None = None) -> TargetProgress:
    """Compare sales up to ``as_of`` (default: the last sales day) with every target in the store.

    Raises
    ------
    InputError
        No ``as_of`` is given and the store holds no sales to take the day from.
    """
    targets = store.read_table("targets")
    if as_of is None:
        _, as_of = store.date_range("sales")
        if as_of is None:
            raise InputError("the store holds no sales: name the day to count sales up to")
    categories = store.read_table("categories")
    rows = []
    for target in targets.to_dict("records"):
        scope = scope_from_row(target, categories)
        start, end = scope.period_start, scope.period_end
        actual = float(scope.cube(store, [], end=as_of)["value"].iloc[0])
        days = (end - start).days + 1
        elapsed_days = min(max((as_of - start).days + 1, 0), days)
        attainment = actual / target["value"] if target["value"] else float("nan")
        elapsed = elapsed_days / days
        remaining = days - elapsed_days
        rows.append(
            {
                "target_id": target["target_id"],
                "partner_id": target["partner_id"],
                "metric": target["metric"],
                "scope": _scope_label(target),
                "period_start": start,
                "period_end": end,
                "target": float(target["value"]),
                "actual": actual,
                "attainment": attainment,
                "elapsed": elapsed,
                "pace": attainment / elapsed if elapsed > 0 else float("nan"),
                "run_rate": actual / elapsed_days if elapsed_days else float("nan"),
                "required_run_rate": max(target["value"] - actual, 0.0) / remaining
                if remaining
                else float("nan"),
            }
        )
    return TargetProgress(as_of, pd.DataFrame(rows))


def _scope_label(target: dict[Hashable, Any]) -> str:
    parts = [str(value) for value in (target.get("category_id"), target.get("channel_kind")) if _given(value)]
    return " / ".join(parts) if parts else "all"


def _given(value: object) -> bool:
    return isinstance(value, str) and value != ""
