"""Sales to date against each alliance target.

The straight-line pace used here (actual / target compared with the share
of the period elapsed) is only a first reading: the event calendar makes
sales far from linear (Double 11 alone can be a tenth of a year), which the
target decomposition of a later release accounts for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cpfr.data.store import Store


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
    """Compare sales up to ``as_of`` (default: the last sales day) with every target in the store."""
    targets = store.read_table("targets")
    if as_of is None:
        last = store.sales_cube(["date"]).get("date")
        as_of = pd.Timestamp(last.max()).date() if last is not None and len(last) else dt.date.today()
    rows = []
    for target in targets.to_dict("records"):
        start = pd.Timestamp(target["period_start"]).date()
        end = pd.Timestamp(target["period_end"]).date()
        counted_end = min(end, as_of)
        actual = 0.0
        if counted_end >= start:
            cube = store.sales_cube(
                _scope_dimensions(target), partner_id=target["partner_id"], start=start, end=counted_end
            )
            cube = _filter_scope(cube, target)
            actual = float(cube["gmv_yuan" if target["metric"] == "gmv_yuan" else "units"].sum())
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


def _scope_dimensions(target: dict[Hashable, Any]) -> list[str]:
    dims = []
    if _given(target.get("category_id")):
        dims += ["category_l1", "category_id"]
    if _given(target.get("channel_kind")):
        dims.append("channel_kind")
    return dims


def _filter_scope(cube: pd.DataFrame, target: dict[Hashable, Any]) -> pd.DataFrame:
    category = target.get("category_id")
    if _given(category):
        cube = cube[(cube["category_l1"] == category) | (cube["category_id"] == category)]
    channel_kind = target.get("channel_kind")
    if _given(channel_kind):
        cube = cube[cube["channel_kind"] == channel_kind]
    return cube


def _scope_label(target: dict[Hashable, Any]) -> str:
    parts = [str(value) for value in (target.get("category_id"), target.get("channel_kind")) if _given(value)]
    return " / ".join(parts) if parts else "all"


def _given(value: object) -> bool:
    return value is not None and not pd.isna(value) and str(value) != ""  # type: ignore[call-overload]
