"""Track a decomposed target against actual sales: to date, run rates, and where the gap comes from.

The target to date is the decomposed target of the months gone by plus the
share of the current month already gone, measured on the reference year's
daily profile of that month (so a month with 618 or Double 11 in it is not
prorated as if its days were equal). The gap to date (actual minus target to
date) is attributed to the members of any dimension — category, channel,
city tier, month — as each member's own actual minus its own target to date;
the parts add up to the whole gap exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.decompose import CELL, DIMENSIONS, TargetPlan


@dataclass(frozen=True)
class TargetTracking:
    """Actual against target for one target on one day.

    Attributes
    ----------
    plan : TargetPlan
    as_of : datetime.date
        The last day counted.
    cells : pandas.DataFrame
        The plan's cells with ``target_to_date`` and ``actual``.
    summary : dict
        ``target``, ``target_to_date``, ``actual``, ``gap_to_date``, ``attainment`` (actual /
        target), ``pace`` (actual / target to date), ``days_elapsed``, ``days_left``, ``run_rate``
        and ``required_run_rate`` (per day), ``projected_at_run_rate`` and ``projected_at_pace``
        (actual + the rest of the plan x pace).
    """

    plan: TargetPlan
    as_of: dt.date
    cells: pd.DataFrame
    summary: dict[str, float]

    def gap_by(self, dimension: str) -> pd.DataFrame:
        """Return ``target``, ``target_to_date``, ``actual``, ``gap`` and ``share_of_gap`` per member."""
        if dimension not in DIMENSIONS:
            raise InputError(f"unknown dimension {dimension!r}: expected one of {', '.join(DIMENSIONS)}")
        table = self.cells.groupby(dimension, as_index=False)[["target", "target_to_date", "actual"]].sum()
        table["gap"] = table["actual"] - table["target_to_date"]
        total = table["gap"].sum()
        table["share_of_gap"] = table["gap"] / total if total else 0.0
        return table.sort_values("gap").reset_index(drop=True)


def track_target(store: Store, plan: TargetPlan, *, as_of: dt.date | None = None) -> TargetTracking:
    """Compare ``plan`` with the store's sales up to ``as_of`` (default: the last sales day).

    Raises
    ------
    InputError
        ``as_of`` is after the store's last day of sales: the days after it have no data, and
        counting them as zero sales would show a gap that is not there (forecast them with
        :func:`cpfr.targets.attainment.target_attainment` instead).
    """
    scope = plan.scope
    _, last_day = store.date_range("sales")
    if as_of is None:
        as_of = scope.last_sales_day(store) or scope.period_start
    elif last_day is not None and last_day < min(as_of, scope.period_end) >= scope.period_start:
        first_missing = max(last_day + dt.timedelta(days=1), scope.period_start)
        missing = (min(as_of, scope.period_end) - first_missing).days + 1
        raise InputError(
            f"target {scope.target_id!r}: sales end on {last_day}; tracking to {as_of} would count "
            f"the {missing} days of the target's period after it as zero sales"
        )
    cells = plan.cells.copy()
    cells["target_to_date"] = cells["target"] * cells["month"].map(_elapsed_shares(store, plan, as_of))
    actual = scope.cube(
        store, ["month", "category_l1", "category_id", "channel_kind", "channel_id", "city_tier"], end=as_of
    )
    keys = [*CELL]
    if actual.empty:
        merged = cells.assign(actual=0.0)
    else:
        actual["month"] = pd.to_datetime(actual["month"]).dt.strftime("%Y-%m")
        actual["city_tier"] = actual["city_tier"].astype(int)
        merged = cells.merge(
            actual.rename(columns={"value": "actual"})[[*keys, "actual", "category_l1", "channel_kind"]],
            on=keys,
            how="outer",
            suffixes=("", "_sold"),
        )
        for column in ("category_l1", "channel_kind"):
            from_sales = merged.pop(f"{column}_sold")
            merged[column] = merged[column].where(merged[column].notna(), from_sales)
    merged["year"] = merged["month"].str[:4].astype(int)
    merged[["target", "target_to_date", "actual", "weight"]] = merged[
        ["target", "target_to_date", "actual", "weight"]
    ].fillna(0.0)
    elapsed = max(min((as_of - scope.period_start).days + 1, scope.days), 0)
    left = scope.days - elapsed
    total, to_date, sold = (
        float(plan.total),
        float(merged["target_to_date"].sum()),
        float(merged["actual"].sum()),
    )
    run_rate = sold / elapsed if elapsed else 0.0
    pace = sold / to_date if to_date else 1.0
    summary = {
        "target": total,
        "target_to_date": to_date,
        "actual": sold,
        "gap_to_date": sold - to_date,
        "attainment": sold / total if total else 0.0,
        "pace": pace,
        "days_elapsed": float(elapsed),
        "days_left": float(left),
        "run_rate": run_rate,
        "required_run_rate": max(total - sold, 0.0) / left if left else 0.0,
        "projected_at_run_rate": sold + run_rate * left,
        "projected_at_pace": sold + (total - to_date) * pace,
    }
    return TargetTracking(plan, as_of, merged.sort_values(keys).reset_index(drop=True), summary)


def _elapsed_shares(store: Store, plan: TargetPlan, as_of: dt.date) -> dict[str, float]:
    """Share of each month's target that is due by ``as_of`` (0 ahead, 1 behind, a profile share inside)."""
    scope = plan.scope
    shares = {}
    reference = scope.cube(store, ["date"], start=plan.reference[0], end=plan.reference[1])
    if not reference.empty:
        reference["date"] = pd.to_datetime(reference["date"])
    for month in plan.cells["month"].unique():
        start = pd.Timestamp(f"{month}-01")
        end = start + pd.offsets.MonthEnd(0)
        first = max(start.date(), scope.period_start)
        last = min(end.date(), scope.period_end)
        if as_of >= last:
            shares[month] = 1.0
        elif as_of < first:
            shares[month] = 0.0
        else:
            shares[month] = _profile_share(reference, start.month, first.day, as_of.day, last.day)
    return shares


def _profile_share(reference: pd.DataFrame, month_of_year: int, first: int, upto: int, last: int) -> float:
    """Share of days ``first..last`` of a month that falls in ``first..upto``, on the reference profile."""
    weights = np.ones(31)
    if not reference.empty:
        days = reference[reference["date"].dt.month == month_of_year]
        profile = days.groupby(days["date"].dt.day)["value"].sum()
        if profile.sum() > 0:
            weights = profile.reindex(range(1, 32)).fillna(0.0).to_numpy()
    window = weights[first - 1 : last].sum()
    return (
        float(weights[first - 1 : upto].sum() / window)
        if window > 0
        else (upto - first + 1) / (last - first + 1)
    )
