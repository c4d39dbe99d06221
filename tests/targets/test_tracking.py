"""Tracking a target: target to date on the reference profile, run rates, a gap that adds up."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cpfr.data.store import Store
from cpfr.targets.decompose import decompose_target
from cpfr.targets.progress import target_progress
from cpfr.targets.tracking import _profile_share, track_target

TARGET = "T-XIAOMI-GMV-2025"


def test_the_gap_adds_up_by_every_dimension(small_demo_store: Store) -> None:
    tracking = track_target(small_demo_store, decompose_target(small_demo_store, TARGET))
    summary = tracking.summary
    assert tracking.as_of == dt.date(2025, 6, 30)
    for dimension in ("category_id", "channel_id", "city_tier", "month", "channel_kind"):
        gap = tracking.gap_by(dimension)
        assert gap["gap"].sum() == pytest.approx(summary["gap_to_date"], rel=1e-9)
        assert gap["actual"].sum() == pytest.approx(summary["actual"], rel=1e-9)
    # June 30 closes the first half: exactly the first six months are due.
    due = tracking.plan.by("month").set_index("month")["target"].loc["2025-01":"2025-06"].sum()
    assert summary["target_to_date"] == pytest.approx(due)
    assert summary["days_elapsed"] == 181 and summary["days_left"] == 184
    assert summary["required_run_rate"] == pytest.approx((summary["target"] - summary["actual"]) / 184)
    # The actual agrees with the straight-line progress report on the same target.
    progress = target_progress(small_demo_store).table.set_index("target_id")
    assert summary["actual"] == pytest.approx(progress.loc[TARGET, "actual"])


def test_target_to_date_inside_a_month_follows_its_daily_profile(small_demo_store: Store) -> None:
    plan = decompose_target(small_demo_store, TARGET)
    before = track_target(small_demo_store, plan, as_of=dt.date(2024, 12, 31)).summary
    assert before["target_to_date"] == 0 and before["actual"] == 0
    mid_june = track_target(small_demo_store, plan, as_of=dt.date(2025, 6, 18)).cells
    june = mid_june[mid_june["month"] == "2025-06"]
    share = june["target_to_date"].sum() / june["target"].sum()
    # 618 falls on the 18th: more than 18/30 of June's sales come by then.
    assert share > 18 / 30 + 0.05


def test_profile_share_is_linear_without_a_reference() -> None:
    empty = pd.DataFrame(columns=["date", "value"])
    assert _profile_share(empty, 6, 1, 15, 30) == pytest.approx(0.5)
    reference = pd.DataFrame(
        {"date": pd.date_range("2024-06-01", "2024-06-30"), "value": [1.0] * 29 + [31.0]}
    )
    assert _profile_share(reference, 6, 1, 29, 30) == pytest.approx(29 / 60)
