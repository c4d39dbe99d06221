"""Target decomposition: exact to the yuan at every level, the historical mix, overrides that re-balance."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cpfr.apportion import apportion
from cpfr.cli.flags import flag_names
from cpfr.data.store import Store
from cpfr.exceptions import InputError, ParameterError
from cpfr.targets.decompose import DIMENSIONS, Override, decompose_target

TARGET = "T-XIAOMI-GMV-2025"


def test_apportion_is_the_largest_remainder_method() -> None:
    # 3.5 / 1.75 / 1.75: floors 3, 1, 1 and the two largest remainders (0.75, 0.75) get one more.
    assert apportion(7, np.array([0.5, 0.25, 0.25])).tolist() == [3, 2, 2]
    assert apportion(10, np.array([1.0, 1.0, 1.0])).sum() == 10
    assert apportion(5, np.zeros(4)).tolist() == [2, 1, 1, 1]  # no weight: equal shares
    assert apportion(0, np.array([1.0, 2.0])).tolist() == [0, 0]


def test_every_level_sums_to_the_target_exactly(small_demo_store: Store) -> None:
    plan = decompose_target(small_demo_store, TARGET)
    total = round(plan.scope.value)
    assert plan.total == total and plan.cells["target"].dtype.kind == "i"
    for dimension in DIMENSIONS:
        assert int(plan.by(dimension)["target"].sum()) == total
    assert int(plan.by("month", "channel_id", "city_tier")["target"].sum()) == total
    assert set(plan.cells["month"]) == {f"2025-{month:02d}" for month in range(1, 13)}
    # Each cell is its share of the mix, to within the one yuan the rounding moves.
    share = total * plan.cells["weight"] / plan.cells["weight"].sum()
    assert np.abs(plan.cells["target"] - share).max() < 1.0


def test_the_mix_is_the_reference_year_of_sales(small_demo_store: Store) -> None:
    plan = decompose_target(small_demo_store, TARGET)
    start, end = plan.reference
    assert (start, end) == (dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    wide = dataclasses.replace(plan.scope, period_start=start, period_end=end)
    sales = wide.cube(small_demo_store, ["month"])
    sales = sales[pd.to_datetime(sales["month"]) >= pd.Timestamp(start)]
    # January to June 2025 are inside the reference year, so no growth tilts them: their targets
    # stand to each other as their sales did (later months are tilted by each category's growth).
    sold = sales.assign(month=pd.to_datetime(sales["month"]).dt.month).set_index("month")["value"]
    planned = plan.by("month").assign(month=lambda frame: frame["month"].str[5:].astype(int))
    planned = planned.set_index("month")["target"]
    first_half = list(range(1, 7))
    ratios = planned.loc[first_half] / planned.loc[1]
    assert ratios.to_numpy() == pytest.approx((sold.loc[first_half] / sold.loc[1]).to_numpy(), rel=1e-6)


def test_an_override_pins_its_slice_and_the_rest_rebalances(small_demo_store: Store) -> None:
    base = decompose_target(small_demo_store, TARGET)
    june = round(base.by("month").set_index("month").loc["2025-06", "target"] * 1.5)
    plan = decompose_target(small_demo_store, TARGET, overrides=[Override.parse(f"month=2025-06:{june}")])
    months = plan.by("month").set_index("month")["target"]
    assert months["2025-06"] == june and plan.total == base.total
    # Every other month gives up the same fraction of its share.
    others = months.drop("2025-06") / base.by("month").set_index("month")["target"].drop("2025-06")
    assert others.max() - others.min() < 1e-6 and others.iloc[0] < 1
    two = decompose_target(
        small_demo_store,
        TARGET,
        overrides=[
            Override({"month": "2025-11", "category_id": "PHONE"}, 1e8),
            Override({"channel_id": "JD_ONLINE", "month": "2025-01"}, 0),
        ],
    )
    cells = two.cells
    assert (
        int(cells.loc[(cells["month"] == "2025-11") & (cells["category_id"] == "PHONE"), "target"].sum())
        == 10**8
    )
    assert (
        int(cells.loc[(cells["month"] == "2025-01") & (cells["channel_id"] == "JD_ONLINE"), "target"].sum())
        == 0
    )
    assert two.total == base.total


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([Override({"month": "2025-06"}, 1e15)], "more than the target"),
        ([Override({"month": "2025-06"}, 1), Override({"category_id": "PHONE"}, 1)], "overlaps"),
        ([Override({"colour": "red"}, 1)], "unknown dimension 'colour'"),
        ([Override({"month": "2031-01"}, 1)], "selects no cell"),
        ([Override({"month": "2025-06"}, -5)], "negative"),
    ],
)
def test_bad_overrides_are_refused(small_demo_store: Store, overrides: list[Override], message: str) -> None:
    with pytest.raises(InputError, match=message):
        decompose_target(small_demo_store, TARGET, overrides=overrides)


@pytest.mark.parametrize("text", ["month=2025-06", "2025-06:5", "month=2025-06:lots", "=x:1"])
def test_override_text_must_name_a_slice_and_an_amount(text: str) -> None:
    with pytest.raises(ParameterError, match=r"^override ") as raised:  # the domain names no flag
        Override.parse(text)
    assert raised.value.parameter == "override"
    with pytest.raises(InputError, match=r"^--override "), flag_names(override="--override"):
        Override.parse(text)  # the CLI says it again under its flag


def test_a_category_target_counts_the_categories_below_it(small_demo_store: Store) -> None:
    plan = decompose_target(small_demo_store, "T-XIAOMI-WEAR-UNITS-2024-2026")
    assert set(plan.cells["category_l1"]) == {"WEAR"} and set(plan.cells["category_id"]) <= {"WATCH", "BAND"}
    assert plan.total == round(plan.scope.value) and len(plan.cells["month"].unique()) == 36
