"""Decompose an alliance target into month x category x channel x city tier, exact to the yuan.

The target's value is spread over the cells of its period in proportion to a
reference mix: the metric's last 12 complete months of sales by month of
year, leaf category, channel and city tier (so 618 lands in June and Double
11 in November as they did), each category scaled by its year-on-year growth
for every year the month lies ahead of the reference year, and partial
months prorated by days. Overrides pin the total of any slice (a month, a
category in a month, a channel, ...); the cells outside every pin share what
is left, in proportion to the same mix, so the whole still adds up to the
target. Cell values are whole yuan (or units) by the largest-remainder
method (Hamilton's apportionment; Balinski & Young 2001, *Fair
Representation*), so every sum over cells — any month, category, channel or
tier — is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpfr.apportion import apportion
from cpfr.data.store import Store
from cpfr.exceptions import InputError, ParameterError
from cpfr.targets.scope import TargetScope, read_scope

DIMENSIONS = ("year", "month", "category_l1", "category_id", "channel_kind", "channel_id", "city_tier")
CELL = ("month", "category_id", "channel_id", "city_tier")
GROWTH_LIMITS = (0.5, 2.0)  # a category's yearly growth used to tilt the mix, clipped to stay plausible


@dataclass(frozen=True)
class Override:
    """Pin the total of one slice of the decomposition: ``where`` maps dimensions to values."""

    where: Mapping[str, str]
    value: float

    @classmethod
    def parse(cls, text: str) -> Override:
        """Read ``dimension=value[,dimension=value...]:amount``, e.g. ``month=2026-06,category_id=PHONE:2e9``.

        The slice is every cell matching all the pairs.
        """
        slice_text, sep, amount = text.rpartition(":")
        pairs = [part.partition("=") for part in slice_text.split(",") if part.strip()]
        if not sep or not pairs or any(not eq or not key.strip() for key, eq, _ in pairs):
            raise ParameterError("override", f"{text!r}: expected dimension=value[,dimension=value]:amount")
        try:
            value = float(amount)
        except ValueError:
            raise ParameterError("override", f"{text!r}: amount {amount!r} is not a number") from None
        return cls({key.strip(): val.strip() for key, _, val in pairs}, value)


@dataclass(frozen=True)
class TargetPlan:
    """A decomposed target: one row per cell with its ``target`` (whole yuan or units).

    Attributes
    ----------
    scope : TargetScope
    cells : pandas.DataFrame
        :data:`DIMENSIONS`, ``weight`` (the reference mix) and ``target``.
    reference : tuple of datetime.date
        First and last day of the reference year.
    growth : dict of str to float
        Yearly growth factor per leaf category used to tilt the mix.
    overrides : tuple of Override
    """

    scope: TargetScope
    cells: pd.DataFrame
    reference: tuple[dt.date, dt.date]
    growth: dict[str, float] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()

    @property
    def total(self) -> int:
        """The decomposed total: the target value rounded to a whole yuan (or unit)."""
        return int(self.cells["target"].sum())

    def by(self, *dimensions: str) -> pd.DataFrame:
        """Return the targets summed by ``dimensions`` (any of :data:`DIMENSIONS`)."""
        unknown = [name for name in dimensions if name not in DIMENSIONS]
        if unknown:
            raise InputError(f"unknown dimension {unknown[0]!r}: expected one of {', '.join(DIMENSIONS)}")
        if not dimensions:
            return pd.DataFrame({"target": [self.total]})
        return pd.DataFrame(self.cells.groupby(list(dimensions), as_index=False)["target"].sum())


def decompose_target(
    store: Store,
    target_id: str,
    *,
    overrides: Sequence[Override] = (),
    as_of: dt.date | None = None,
) -> TargetPlan:
    """Decompose ``target_id`` over its period (see the module docstring).

    ``as_of`` ends the reference year (default: the store's last sales day).
    """
    scope = read_scope(store, target_id)
    last_sale = scope.last_sales_day(store)
    if last_sale is None:
        raise InputError(f"target {target_id!r}: partner {scope.partner_id} has no sales to take a mix from")
    as_of = as_of or last_sale
    reference_end = _month_start(as_of + dt.timedelta(days=1)) - dt.timedelta(days=1)
    reference_start = _month_start(reference_end - dt.timedelta(days=364))
    everything = scope.up_to(as_of)
    history = everything.cube(
        store,
        ["month", "category_l1", "category_id", "channel_kind", "channel_id", "city_tier"],
        start=_month_start(reference_start - dt.timedelta(days=365)),
        end=reference_end,
    )
    if history.empty:
        raise InputError(f"target {target_id!r}: no sales in its scope up to {as_of} to take a mix from")
    history["month"] = pd.to_datetime(history["month"])
    recent = history[history["month"] >= pd.Timestamp(reference_start)]
    growth = _growth(history, pd.Timestamp(reference_start))
    cells = _cells(scope, recent, growth, reference_end)
    cells["target"] = _apportion(cells, round(scope.value), overrides)
    return TargetPlan(scope, cells, (reference_start, reference_end), growth, tuple(overrides))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _growth(history: pd.DataFrame, reference_start: pd.Timestamp) -> dict[str, float]:
    """Yearly growth per leaf category: reference year over the year before, where both are whole."""
    months = history["month"].drop_duplicates()
    before = history[history["month"] < reference_start]
    if months[months < reference_start].size < 12:
        return {category: 1.0 for category in history["category_id"].unique()}
    now = history[history["month"] >= reference_start].groupby("category_id")["value"].sum()
    then = before.groupby("category_id")["value"].sum()
    ratio = (now / then.reindex(now.index)).replace([np.inf, -np.inf], np.nan).fillna(1.0)
    return {str(key): float(np.clip(value, *GROWTH_LIMITS)) for key, value in ratio.items()}


def _cells(
    scope: TargetScope, recent: pd.DataFrame, growth: dict[str, float], reference_end: dt.date
) -> pd.DataFrame:
    """Every month of the target period x every (category, channel, tier) the reference year sold in."""
    recent = recent.assign(month_of_year=recent["month"].dt.month)
    months = pd.date_range(_month_start(scope.period_start), scope.period_end, freq="MS")
    frames = []
    for month in months:
        first = max(month.date(), scope.period_start)
        last = min((month + pd.offsets.MonthEnd(0)).date(), scope.period_end)
        covered = ((last - first).days + 1) / month.days_in_month
        rows = recent[recent["month_of_year"] == month.month].drop(columns=["month", "month_of_year"])
        years_ahead = (month.date() - reference_end).days / 365.25
        tilt = rows["category_id"].map(growth).fillna(1.0).to_numpy() ** max(years_ahead, 0.0)
        frames.append(rows.assign(month=month.strftime("%Y-%m"), weight=rows["value"] * covered * tilt))
    cells = pd.concat(frames, ignore_index=True).drop(columns="value")
    cells["year"] = cells["month"].str[:4].astype(int)
    cells["city_tier"] = cells["city_tier"].astype(int)
    return cells[[*DIMENSIONS, "weight"]].sort_values(list(CELL)).reset_index(drop=True)


def _apportion(cells: pd.DataFrame, total: int, overrides: Sequence[Override]) -> np.ndarray:
    """Whole targets per cell: pinned slices get their value, the other cells share the rest."""
    target = np.zeros(len(cells), dtype=np.int64)
    pinned = np.zeros(len(cells), dtype=bool)
    for override in overrides:
        mask = _slice(cells, override)
        if (mask & pinned).any():
            raise InputError(f"override {dict(override.where)}: overlaps an earlier override")
        if override.value < 0:
            raise InputError(f"override {dict(override.where)}: value {override.value:g} is negative")
        target[mask] = apportion(round(override.value), cells.loc[mask, "weight"].to_numpy())
        pinned |= mask
    rest = total - int(target.sum())
    if rest < 0:
        raise InputError(f"overrides pin {int(target.sum()):,}, more than the target's {total:,}")
    if rest and pinned.all():
        raise InputError(f"overrides pin every cell but leave {rest:,} of the target's {total:,} unplaced")
    target[~pinned] = apportion(rest, cells.loc[~pinned, "weight"].to_numpy())
    return target


def _slice(cells: pd.DataFrame, override: Override) -> np.ndarray:
    """Cells an override's ``where`` selects; an unknown dimension or an empty slice is an error."""
    mask = np.ones(len(cells), dtype=bool)
    for dimension, value in override.where.items():
        if dimension not in DIMENSIONS:
            raise InputError(
                f"override {dict(override.where)}: unknown dimension {dimension!r} "
                f"(expected one of {', '.join(DIMENSIONS)})"
            )
        mask &= cells[dimension].astype(str).to_numpy() == str(value)
    if not mask.any():
        raise InputError(f"override {dict(override.where)}: selects no cell of the target's period and scope")
    return mask
