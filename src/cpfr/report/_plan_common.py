"""What the plan report's sections share: names beside codes, the targets shown first, what is reachable."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import pandas as pd

from cpfr.formatting import MISSING, format_value, metric_unit

Row = Mapping[Hashable, Any]  # a row of a table, as DataFrame.to_dict("records") gives it

TOP_ROWS = 25  # the most rows of a table in the report
HEADLINE_TARGETS = 4  # the targets whose chance is a headline card and which get a section each

# Columns the attainment step may add to the targets table, recognised by name so the report
# shows whichever exist: the final total reached with a given probability ("reachable_50") and
# the probability of reaching a share of the target ("probability_90" for 90 % of it).
_REACHABLE = re.compile(
    r"^(?:reachable|reached|final)(?:_total)?_(?:at_|p|with_)?(\d{2})(?:_?pct|_percent)?$"
)
_SHARE = re.compile(
    r"^(?:probability|p_reach|share_probability)_(?:s|of_|share_|reach_)?(\d{2})(?:_?pct|_percent|_of_target)?$"
)


def named(code: object, names: Mapping[str, str]) -> str:
    """Return ``"Name (CODE)"``, or the code alone where it has no name or the name is the code.

    Examples
    --------
    >>> named("XIAOMI", {"XIAOMI": "Xiaomi"}), named("BYD", {"BYD": "BYD"}), named("X9", {})
    ('Xiaomi (XIAOMI)', 'BYD', 'X9')
    """
    if code is None or (isinstance(code, float) and code != code):
        return MISSING
    name = names.get(str(code), "")
    return f"{name} ({code})" if name and name != str(code) else str(code)


def name_of(code: object, names: Mapping[str, str]) -> str:
    """Return the code's name alone (the code where it has none): for chart labels, where room is short."""
    return names.get(str(code), str(code))


def reason_words(code: object) -> str:
    """Read an exception's reason code as words: PROMOTION_MISMATCH is "promotion mismatch"."""
    return str(code).replace("_", " ").lower()


def named_column(codes: Iterable[object], names: Mapping[str, str]) -> list[str]:
    return [named(code, names) for code in codes]


def reachable_columns(targets: pd.DataFrame) -> dict[int, str]:
    """Return the targets table's "final total reached with p %" columns by p (50, 80), where present."""
    return _matching(targets, _REACHABLE)


def share_columns(targets: pd.DataFrame) -> dict[int, str]:
    """Return the targets table's "P(reach s % of target)" columns by s (95, 90), where present."""
    return dict(sorted(_matching(targets, _SHARE).items(), reverse=True))


def _matching(frame: pd.DataFrame, pattern: re.Pattern[str]) -> dict[int, str]:
    found = {}
    for column in frame.columns:
        match = pattern.match(str(column))
        if match and 0 < int(match.group(1)) < 100:
            found[int(match.group(1))] = str(column)
    return dict(sorted(found.items()))


def headline_targets(targets: pd.DataFrame) -> pd.DataFrame:
    """Return the targets shown first: the largest GMV targets (then unit targets), at most four."""
    if targets.empty or "probability" not in targets:
        return targets.iloc[0:0]
    known = targets.dropna(subset=["probability"])
    order = known.assign(_money=known["metric"] == "gmv_yuan").sort_values(
        ["_money", "target"], ascending=False
    )
    return order.head(HEADLINE_TARGETS).drop(columns="_money")


def reachable_line(row: Row) -> str:
    """Say what is within reach of a target: the final total reached with 50 % probability.

    Uses the table's "reachable" column where the attainment step wrote one, else the
    expected final total.
    """
    target, unit = float(row["target"]), metric_unit(str(row["metric"]))
    frame = pd.DataFrame([dict(row)])
    reachable = reachable_columns(frame)
    if 50 in reachable and pd.notna(row[reachable[50]]):
        value, words = float(row[reachable[50]]), "50% chance of"
    elif pd.notna(row.get("expected_total")):
        value, words = float(row["expected_total"]), "expected"
    else:
        return ""
    share = f", {format_value(value / target, 'percent', digits=0)} of target" if target else ""
    return f"{words} {format_value(value, unit)}{share}"
