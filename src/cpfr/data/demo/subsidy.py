"""The demo's trade-in subsidies: who is eligible where and when, and what it does to demand.

A national programme (an ``events`` row of kind ``subsidy``) is run by the
provinces, which open it on different days and, where the money runs out,
close it early: each region's window is the programme's, started up to
:data:`START_LAG_DAYS` later and (unless the next programme follows the next
day) ended up to :data:`EARLY_END_DAYS` sooner. Inside its region's window a
SKU of the programme's category is *eligible* when its list price is within
the programme's price limit and its attributes pass the rule (appliances:
energy rating 1 or 2, as China's 2024-2025 rules ask); its mean demand is
multiplied by ``1 + s`` (``subsidy_uplift``). The same category's ineligible
SKUs lose a share *c* of their demand to it (``subsidy_cannibalisation``),
and after a region's window closes its eligible SKUs dip by a depth *p* that
fades linearly over ``subsidy_pull_forward["days"]`` days: the buyers who
came early (``subsidy_pull_forward["depth"]``).

The draws come from their own generator, so the rest of the demo does not
shift when they change; the regional windows are saved in the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpfr.data.demo.catalog import LEAF_BY_ID, LEAF_CATEGORIES

LEAVES: tuple[str, ...] = tuple(leaf.category_id for leaf in LEAF_CATEGORIES)
# Trade-in subsidy rules by subsidised category: (share of price, cap per unit, price limit).
SUBSIDY_RULES: dict[str, tuple[float, float, float]] = {
    "HA": (0.15, 2000.0, 1e9),  # no price limit; an energy rating of 1 or 2 instead
    "PHONE": (0.15, 500.0, 6000.0),
    "TABLET": (0.15, 500.0, 6000.0),
    "WEAR": (0.15, 500.0, 6000.0),
    "CAR": (1.0, 20000.0, 1e9),  # flat scrappage grant: min(price, 20,000)
}
# Attribute rules on top of the price limit: (attribute, highest value allowed).
ATTRIBUTE_RULES: dict[str, tuple[str, float]] = {"HA": ("energy_rating", 2)}
START_LAG_DAYS = 56  # provinces opened a programme up to eight weeks after it was announced
EARLY_END_DAYS = 42  # and closed it up to six weeks early when the money ran out
PULL_FORWARD_DAYS = 60
CANNIBALISATION_RANGE = (0.04, 0.15)
PULL_FORWARD_RANGE = (0.15, 0.35)


@dataclass(frozen=True)
class SubsidyPlan:
    """Subsidy rates and demand multipliers per day, SKU and region.

    Attributes
    ----------
    regions : tuple of str
        The regions of the last axis.
    rate, cap : numpy.ndarray
        ``(n_days, n_skus, n_regions)`` subsidy as a share of the paid price and its cap, yuan.
    factor : numpy.ndarray
        ``(n_days, n_skus, n_regions)`` multiplier of mean demand: ``1 + s`` for an eligible
        SKU in its region's window, ``1 - c`` for an ineligible SKU of the category, the
        pull-forward dip after a window closes, 1 elsewhere.
    kind : numpy.ndarray
        ``(n_days, n_skus, n_regions)`` int8: 1 subsidised, 2 cannibalised, 3 pull-forward dip.
    windows : dict
        ``{event_id: {region: [first day, last day]}}`` as ISO dates.
    """

    regions: tuple[str, ...]
    rate: np.ndarray
    cap: np.ndarray
    factor: np.ndarray
    kind: np.ndarray
    windows: dict[str, dict[str, list[str]]]


def draw_subsidy_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """Draw each leaf's cannibalisation share and pull-forward depth (JSON-serialisable)."""
    return {
        "subsidy_cannibalisation": {
            leaf: round(float(rng.uniform(*CANNIBALISATION_RANGE)), 3) for leaf in LEAVES
        },
        "subsidy_pull_forward": {
            "days": PULL_FORWARD_DAYS,
            "depth": {leaf: round(float(rng.uniform(*PULL_FORWARD_RANGE)), 3) for leaf in LEAVES},
        },
        "subsidy_attribute_rules": {key: list(rule) for key, rule in ATTRIBUTE_RULES.items()},
    }


def eligible_skus(products: pd.DataFrame, scope: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the SKUs a programme on ``scope`` (a leaf or top category) covers, and those it subsidises."""
    leaf = products["category_id"].to_numpy()
    top = products["category_id"].map({key: LEAF_BY_ID[key].parent_id for key in LEAVES}).to_numpy()
    in_scope = (leaf == scope) | (top == scope)
    _share, _cap, price_limit = SUBSIDY_RULES[scope]
    eligible = in_scope & (products["list_price"].to_numpy(dtype=float) <= price_limit)
    if scope in ATTRIBUTE_RULES:
        key, highest = ATTRIBUTE_RULES[scope]
        values = np.array([_attribute(text, key) for text in products["attributes"]])
        eligible &= ~(values > highest)  # a SKU without the attribute is not excluded by it
    return in_scope, eligible


def _attribute(text: object, key: str) -> float:
    if not isinstance(text, str) or not text:
        return float("nan")
    value = json.loads(text).get(key)
    return float(value) if isinstance(value, int | float) else float("nan")


def build_subsidy_plan(
    rng: np.random.Generator,
    days: np.ndarray,
    events: pd.DataFrame,
    products: pd.DataFrame,
    regions: tuple[str, ...],
    parameters: dict[str, Any],
) -> SubsidyPlan:
    """Lay the programmes over the days, SKUs and regions; see the module docstring."""
    shape = (days.size, len(products), len(regions))
    rate, cap, factor = np.zeros(shape), np.zeros(shape), np.ones(shape)
    kind = np.zeros(shape, dtype=np.int8)
    leaf_index = products["category_id"].map({leaf: i for i, leaf in enumerate(LEAVES)}).to_numpy()
    uplift = np.array([parameters["subsidy_uplift"][leaf] for leaf in LEAVES])[leaf_index]
    loss = np.array([parameters["subsidy_cannibalisation"][leaf] for leaf in LEAVES])[leaf_index]
    depth = np.array([parameters["subsidy_pull_forward"]["depth"][leaf] for leaf in LEAVES])[leaf_index]
    width = int(parameters["subsidy_pull_forward"]["days"])
    programmes = events[events["kind"] == "subsidy"].sort_values("start_date").to_dict("records")
    windows: dict[str, dict[str, list[str]]] = {}
    dips: list[tuple[int, np.ndarray, int]] = []  # (region, SKUs, day after the window)
    for programme in programmes:
        scope = str(programme["category_id"])
        start = np.datetime64(pd.Timestamp(programme["start_date"]).date(), "D")
        end = np.datetime64(pd.Timestamp(programme["end_date"]).date(), "D")
        continues = any(
            other["category_id"] == scope
            and np.datetime64(pd.Timestamp(other["end_date"]).date(), "D") == start - 1
            for other in programmes
        )
        continued = any(
            other["category_id"] == scope
            and np.datetime64(pd.Timestamp(other["start_date"]).date(), "D") == end + 1
            for other in programmes
        )
        in_scope, eligible = eligible_skus(products, scope)
        share, limit_yuan, _price_limit = SUBSIDY_RULES[scope]
        windows[str(programme["event_id"])] = {}
        for region_index, region in enumerate(regions):
            first = start + (0 if continues else int(rng.integers(0, START_LAG_DAYS + 1)))
            last = end - (0 if continued else int(rng.integers(0, EARLY_END_DAYS + 1)))
            windows[str(programme["event_id"])][region] = [str(first), str(last)]
            period = (days >= first) & (days <= last)
            here = np.array([region_index])
            cells = np.ix_(period, eligible, here)
            rate[cells], cap[cells] = share, limit_yuan
            factor[cells] = (1.0 + uplift[eligible])[None, :, None]
            kind[cells] = 1
            lost = in_scope & ~eligible
            factor[np.ix_(period, lost, here)] = (1.0 - loss[lost])[None, :, None]
            kind[np.ix_(period, lost, here)] = 2
            if not continued:
                dips.append((region_index, eligible, int((last + 1 - days[0]).astype(np.int64))))
    # Dips after the windows close, on days no window covers (a new programme ends the dip).
    for region_index, skus, after in dips:
        for age in range(width):
            day = after + age
            if not 0 <= day < days.size:
                continue
            free = skus & (kind[day, :, region_index] == 0)
            factor[day, free, region_index] = 1.0 - depth[free] * (1.0 - age / width)
            kind[day, free, region_index] = 3
    return SubsidyPlan(regions, rate, cap, factor, kind, windows)


def true_effects(
    mean: np.ndarray,
    kind: np.ndarray,
    factor: np.ndarray,
    products: pd.DataFrame,
    series_sku: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Return each leaf's expected incremental, pull-forward and cannibalised units over ``mean``'s days.

    ``mean``, ``kind`` and ``factor`` are ``(n_days, n_series)`` (the plan gathered per series):
    incremental units are ``mean * (1 - 1 / factor)`` on subsidised cells, pull-forward and
    cannibalised units ``mean * (1 / factor - 1)`` on dip and cannibalised cells.
    """
    leaf = products["category_id"].to_numpy()[series_sku]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(factor > 0, mean * (1.0 - 1.0 / factor), 0.0)
    effects: dict[str, dict[str, float]] = {}
    for name in sorted(set(leaf)):
        columns = leaf == name
        part, part_kind = change[:, columns], kind[:, columns]
        if not part_kind.any():
            continue  # never subsidised
        effects[str(name)] = {
            "incremental_units": round(float(part[part_kind == 1].sum()), 1) + 0.0,
            "cannibalised_units": round(float(-part[part_kind == 2].sum()), 1) + 0.0,
            "pull_forward_units": round(float(-part[part_kind == 3].sum()), 1) + 0.0,
        }
    return effects
