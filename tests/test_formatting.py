"""One formatter for people: the terminal and the report show the same number the same way."""

from __future__ import annotations

import math

import pytest

from cpfr.exceptions import InputError
from cpfr.formatting import format_amount, format_value, metric_unit


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.234e9, "yuan", "¥1.23bn"),
        (45_600_000, "yuan", "¥45.6m"),
        (12_345, "yuan", "¥12.3k"),
        (950, "yuan", "¥950"),
        (999_999, "yuan", "¥1.00m"),
        (999_499, "yuan", "¥999k"),
        (-2_500_000, "yuan", "-¥2.50m"),
        (0, "yuan", "¥0"),
        (176_305, "compact", "176k"),
        (1234567.8, "units", "1,234,568"),
        (12.4, "units", "12"),
        (0.4, "units", "0.4"),
        (0.123, "percent", "12.3%"),
        (1, "percent", "100.0%"),
        (0.0004, "percent", "<0.1%"),
        (-0.3, "percent", "-30.0%"),
        (240.55, "days", "241 days"),
        (8.44, "days", "8.4 days"),
        (1234567, "number", "1,234,567"),
        (1234567.891, "number", "1,234,568"),
        (1.5, "number", "1.5"),
        (0.012345, "number", "0.0123"),
        (math.nan, "yuan", "–"),
        (math.inf, "units", "–"),
        (None, "percent", "–"),
    ],
)
def test_format_value_shows_numbers_for_people(value: float | None, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


def test_a_percentage_takes_its_precision_and_never_shows_a_small_chance_as_zero() -> None:
    assert format_value(0.123, "percent", digits=0) == "12%"
    assert format_value(0.004, "percent", digits=0) == "<1%"
    assert format_value(0.0, "percent", digits=0) == "0%"
    assert format_value(-0.002, "percent", digits=0) == "0%"  # not "-0%"


def test_a_change_can_carry_its_sign() -> None:
    assert format_value(0.05, "percent", signed=True) == "+5.0%"
    assert format_value(2e6, "yuan", signed=True) == "+¥2.00m"
    assert format_value(-2e6, "yuan", signed=True) == "-¥2.00m"
    assert format_value(0, "units", signed=True) == "0"


def test_amounts_of_a_metric_are_compact_yuan_or_compact_units() -> None:
    assert metric_unit("gmv_yuan") == "yuan" and metric_unit("units") == "units"
    assert format_amount(999_999) == format_value(999_999, "yuan") == "¥1.00m"
    assert format_amount(64_034, "units") == "64.0k"
    assert format_amount(None) == "–"


def test_the_terminal_and_the_report_share_the_formatter() -> None:
    from cpfr.cli.render import format_amount as terminal
    from cpfr.report import format_value as report

    assert terminal(999_999) == report(999_999, "yuan") == "¥1.00m"  # was '¥1000k' in the terminal


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(InputError, match="'euro'"):
        format_value(1.0, "euro")
