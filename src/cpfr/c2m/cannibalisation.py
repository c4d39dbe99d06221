"""Units a launch takes from its brand's existing SKUs in the same cell, learnt from earlier launches.

The cell of a launch is its brand's SKUs of the same leaf category on sale on its launch day whose
list price is within a factor ``CELL_PRICE_RATIO`` of its own (the same price band, without
depending on how a store writes its bands). For every earlier finished launch with cell mates,
the mates' units per day over the launch's first ``horizon`` days are compared with their units
per day over the ``BEFORE_DAYS`` before it, and the same ratio of the category's other SKUs
removes the season and the category's trend (a difference-in-differences on the log scale):

    d_l = log(mates_after / mates_before) - log(others_after / others_before).

The share of the cell's units a launch takes is s = 1 - exp(mean d_l), clipped to [0, 1] and
shrunk towards zero by n / (n + ``SHRINKAGE_LAUNCHES``) over the n launches seen, so a store with
few launches claims little. The spec's cannibalised units are s x its cell mates' units per day
over the ``BEFORE_DAYS`` before as-of x the horizon, at most the spec's own expected units.

References
----------
Angrist & Pischke (2009), "Mostly Harmless Econometrics", ch. 5 (differences-in-differences).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CELL_PRICE_RATIO = 1.5
"""Cell mates are priced between 1/1.5 and 1.5 times the launch's list price."""
BEFORE_DAYS = 56
"""Days before a launch over which its cell mates' run-rate is measured."""
SHRINKAGE_LAUNCHES = 5.0
"""Launches' worth of prior evidence that a launch takes nothing from its cell."""


@dataclass(frozen=True)
class Cannibalisation:
    """Units the spec is expected to take from its brand's existing SKUs in the same cell.

    Attributes
    ----------
    cell_skus : int
        The brand's SKUs in the cell on sale at as-of.
    share : float
        Share s of their units the launch takes.
    units : float
        Expected units taken over the horizon.
    launches_seen : int
        Earlier launches with cell mates that the share was learnt from.
    """

    cell_skus: int
    share: float
    units: float
    launches_seen: int


def cell_mates(on_sale: pd.DataFrame, partner_id: str, category_id: str, list_price: float) -> list[str]:
    """SKU ids of ``partner_id``'s SKUs in ``category_id`` priced within ``CELL_PRICE_RATIO``."""
    price = on_sale["list_price"].astype(float)
    mates = on_sale[
        (on_sale["partner_id"] == partner_id)
        & (on_sale["category_id"] == category_id)
        & (price >= list_price / CELL_PRICE_RATIO)
        & (price <= list_price * CELL_PRICE_RATIO)
    ]
    return [str(sku) for sku in mates["sku_id"]]


def _rate(units: pd.DataFrame, skus: list[str], start: pd.Timestamp, days: int) -> float:
    window = units.loc[start : start + pd.Timedelta(days=days - 1)]
    chosen = [sku for sku in skus if sku in window.columns]
    if not chosen or len(window) < days:
        return float("nan")
    return float(window[chosen].to_numpy().sum() / days)


def launch_effects(
    products: pd.DataFrame, daily: pd.DataFrame, launches: pd.DataFrame, horizon_days: int
) -> np.ndarray:
    """Return the log change d_l of each launch's cell mates' units net of the category's other SKUs."""
    units = daily.pivot_table(index="ds", columns="sku_id", values="units", aggfunc="sum", fill_value=0.0)
    if units.empty:
        return np.array([])
    units = units.reindex(pd.date_range(units.index.min(), units.index.max(), freq="D"), fill_value=0.0)
    effects = []
    for day, partner_id, category_id, list_price in zip(
        pd.to_datetime(launches["launch_date"]),
        launches["partner_id"].astype(str),
        launches["category_id"].astype(str),
        launches["list_price"].astype(float),
        strict=True,
    ):
        before = day - pd.Timedelta(days=BEFORE_DAYS)
        established = products[
            (products["launch_date"] < before)
            & (products["category_id"] == category_id)
            & (products["end_date"].isna() | (products["end_date"] >= day + pd.Timedelta(days=horizon_days)))
        ]
        mates = cell_mates(established, partner_id, category_id, list_price)
        others = [str(sku) for sku in established["sku_id"] if str(sku) not in mates]
        if not mates or not others:
            continue
        ratios = [
            _rate(units, group, day, horizon_days) / _rate(units, group, before, BEFORE_DAYS)
            for group in (mates, others)
        ]
        if all(np.isfinite(ratios)) and min(ratios) > 0:
            effects.append(float(np.log(ratios[0]) - np.log(ratios[1])))
    return np.asarray(effects)


def estimate_cannibalisation(
    effects: np.ndarray, mates_rate: float, cell_skus: int, horizon_days: int, launch_units: float
) -> Cannibalisation:
    """Shrunk share s from the launches' effects and the units it takes over the horizon."""
    seen = len(effects)
    raw = float(np.clip(1.0 - np.exp(effects.mean()), 0.0, 1.0)) if seen else 0.0
    share = raw * seen / (seen + SHRINKAGE_LAUNCHES)
    taken = min(share * mates_rate * horizon_days, launch_units) if cell_skus else 0.0
    return Cannibalisation(cell_skus, share if cell_skus else 0.0, float(taken), seen)
