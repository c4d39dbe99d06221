"""`cpfr.bounds`: one range per number, one message, and the flag's name said again by the command line."""

from __future__ import annotations

import math

import pytest

from cpfr.bounds import Bound, number_text, rejection, shown
from cpfr.cli.flags import flag_names
from cpfr.exceptions import InputError, LimitError

LEAD_TIME = Bound(0, 1000, whole=True, reason="periods")
COST = Bound(1e-6, 1e9, reason="a typing slip")


def test_values_within_the_bound_come_back_typed() -> None:
    assert LEAD_TIME.check("lead_time", 3) == 3
    assert LEAD_TIME.check("lead_time", 3.0) == 3 and isinstance(LEAD_TIME.check("lead_time", 3.0), int)
    assert COST.check("holding_cost", 1) == 1.0 and isinstance(COST.check("holding_cost", 1), float)
    assert Bound(0, 1, exclusive_minimum=True).problem(0) is not None
    assert Bound(0, 1, exclusive_minimum=True).problem(1e-300) is None


@pytest.mark.parametrize(
    "value", [-1, 2.5, math.nan, math.inf, -math.inf, "3", None, True, [1], 10**400 * -1]
)
def test_bad_values_are_input_errors_naming_the_value(value: object) -> None:
    with pytest.raises(InputError) as raised:
        LEAD_TIME.check("lead_time", value)
    assert not isinstance(raised.value, LimitError)
    assert str(raised.value).startswith("lead_time ")
    assert "expected a whole number >= 0 and <= 1,000" in str(raised.value)


@pytest.mark.parametrize("value", [1001, 1e300, 10**400])
def test_values_above_the_maximum_are_limit_errors_saying_why(value: object) -> None:
    with pytest.raises(LimitError, match=r"<= 1,000 \(periods\)"):
        LEAD_TIME.check("lead_time", value)


def test_numbers_read_as_people_write_them() -> None:
    assert [number_text(value) for value in (0, 1000, 0.5, 1e9, 1e-6, -1e9, 2.5e7)] == [
        "0",
        "1,000",
        "0.5",
        "1e9",
        "1e-6",
        "-1e9",
        "25,000,000",
    ]
    assert shown(10**400).startswith("an integer of about 401 digits")
    assert len(shown("x" * 1000)) == 60


def test_the_command_line_says_a_domain_rejection_again_under_its_flag() -> None:
    with pytest.raises(LimitError) as raised, flag_names(lead_time="--lead-time"):
        LEAD_TIME.check("lead_time", 5000)
    assert str(raised.value) == "--lead-time 5000: expected a whole number >= 0 and <= 1,000 (periods)"
    found = rejection(raised.value)
    assert found is not None and found.name == "--lead-time" and found.value == 5000
    with pytest.raises(InputError, match=r"^review_period 0"), flag_names(lead_time="--lead-time"):
        Bound(1, 10, whole=True).check("review_period", 0)  # not a parameter of this command: as it was
    with pytest.raises(InputError, match=r"^plain"), flag_names(plain="--plain"):
        raise InputError("plain error, no bound behind it")
