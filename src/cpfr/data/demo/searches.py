r"""The demo's consumer signal: weekly searches and views by attribute value x price band, with unmet demand.

A cell is a leaf category's attribute value in one price band and city tier (``PHONE``,
``storage_gb = 1024``, ``2000-2999``, tier 4). Its expected weekly searches are

.. math::

    \lambda_{c,w,t} = r \, f_c \sum_{k \in c} \mu_{k,w,t}
    \; + \; r \, \frac{\beta \, g_c \, V_{a,w,t}}{n_a}
    \; + \; r \, I_p \, \gamma_p(w) \max\Big(\frac{V_{a,w,t}}{n_a}, \sum_{k \in c} \mu_{k,w,t}\Big) \, [c = p]

with *r* searches per unit demanded (:data:`SEARCHES_PER_UNIT`), :math:`\mu_{k,w,t}` the true
mean demand of the cell's SKUs in week *w* and tier *t*, :math:`f_c` and :math:`g_c` lognormal
searchability of the cell, *V* the category's true demand, :math:`n_a` the number of cells of
attribute *a* (values x bands), β the share of browsing spread evenly over cells
(:data:`BACKGROUND_SHARE`). The last term is the planted unmet demand of a cell *p* where few or
no SKUs are offered: intensity :math:`I_p` times an average cell's searches (or the cell's own
where its SKUs sell more than that), growing by
:math:`\gamma_p(w) = \exp(-\text{growth} \cdot \text{years before the history's end})`.
Searches are Poisson; views are Poisson around a share of them, much smaller where nothing is on
sale (a search with no product to open).

Everything is drawn from the generator passed in, which the scenario keeps apart from the one the
other tables use, so adding the signal left every existing table as it was.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpfr.data.demo.catalog import ATTRIBUTE_CHOICES, LEAF_CATEGORIES, price_band
from cpfr.data.schema_signals import attribute_text

N_TIERS = 5
# About 30 searches per unit bought: a conversion of ~3 %, typical of e-commerce search.
SEARCHES_PER_UNIT = 30.0
# Share of a page's searches that open a product page, and the same where no product matches.
VIEWS_PER_SEARCH = 0.45
VIEWS_PER_EMPTY_SEARCH = 0.05
# Share of a category's searches that browse evenly over its cells (whatever is on sale).
BACKGROUND_SHARE = 0.15
CELL_SPREAD = 0.3  # lognormal sd of how searchable a cell is
N_UNMET_CELLS = (4, 8)  # planted cells per scenario, inclusive
INTENSITY = (1.0, 3.0)  # planted searches as a multiple of an average cell's (or the cell's own)
TIER_SPECIFIC_SHARE = 0.4  # planted cells seen in one (sinking-market) tier only
GROWING_SHARE = 0.5
GROWTH_PER_YEAR = (0.7, 1.4)  # log-growth of a growing planted cell: it doubles in 6-12 months


@dataclass(frozen=True)
class _Cells:
    """The cell grid: one row per (category, attribute, value, band) and the SKUs in each."""

    frame: pd.DataFrame  # category_id, attribute, value, price_band, band_order, n_cells_attribute
    membership: np.ndarray  # (n_skus, n_cells) bool


def build_searches(
    rng: np.random.Generator,
    products: pd.DataFrame,
    locations: pd.DataFrame,
    true_demand: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Draw the ``searches`` table and plant unmet demand in a few cells.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (keep it apart from the other tables' generator).
    products, locations : pandas.DataFrame
        The catalogue's tables (``attributes`` as JSON, ``price_band``, ``city_tier``).
    true_demand : pandas.DataFrame
        ``date, sku_id, location_id, demand_mean`` over the history.

    Returns
    -------
    searches : pandas.DataFrame
        ``week, category_id, attribute, value, price_band, city_tier, searches, views`` over the
        history's whole Monday weeks, rows with no search and no view left out.
    unmet_cells : list of dict
        The planted cells: ``category_id, attribute, value, price_band``, ``city_tier`` (None: all
        tiers), ``intensity`` (searches as a multiple of an average cell's, or of the cell's own demand
        where that is larger, at the history's end),
        ``growth_per_year`` (log) and ``n_skus_offered`` (SKUs ever on sale in the cell).
    """
    weeks, demand = _weekly_demand(products, locations, true_demand)
    cells = _cells(products)
    frame = cells.frame
    membership = cells.membership.astype(float)
    searchable = np.exp(rng.normal(-(CELL_SPREAD**2) / 2, CELL_SPREAD, size=(2, len(frame))))
    # (weeks, cells, tiers): demand of the cell's SKUs, and of the whole category.
    cell_demand = np.einsum("wst,sc->wct", demand, membership)
    category_of_sku = products["category_id"].to_numpy()
    in_category = (category_of_sku[:, None] == frame["category_id"].to_numpy()[None, :]).astype(float)
    category_demand = np.einsum("wst,sc->wct", demand, in_category)
    average_cell = category_demand / frame["n_cells_attribute"].to_numpy()[None, :, None]
    expected = SEARCHES_PER_UNIT * (
        searchable[0][None, :, None] * cell_demand
        + BACKGROUND_SHARE * searchable[1][None, :, None] * average_cell
    )
    unmet = _plant(rng, frame, cells.membership)
    years_before_end = (weeks[-1] - weeks).astype("timedelta64[D]").astype(float) / 365.25
    for cell in unmet:
        index = int(cell.pop("cell"))
        tiers = slice(None) if cell["city_tier"] is None else slice(cell["city_tier"] - 1, cell["city_tier"])
        growth = np.exp(-cell["growth_per_year"] * years_before_end)
        # A multiple of the larger of an average cell's demand and the cell's own: where a SKU is
        # on sale the unmet demand comes on top of what it already sells.
        base = np.maximum(average_cell[:, index, tiers], cell_demand[:, index, tiers])
        expected[:, index, tiers] += SEARCHES_PER_UNIT * cell["intensity"] * growth[:, None] * base
    searches = rng.poisson(expected)
    view_share = np.where(cell_demand > 0, VIEWS_PER_SEARCH, VIEWS_PER_EMPTY_SEARCH)
    views = rng.poisson(searches * view_share)
    week, cell_index, tier = np.nonzero((searches > 0) | (views > 0))
    table = pd.DataFrame(
        {
            "week": pd.to_datetime(weeks[week]),
            **{
                name: frame[name].to_numpy()[cell_index]
                for name in ("category_id", "attribute", "value", "price_band")
            },
            "city_tier": tier + 1,
            "searches": searches[week, cell_index, tier].astype(np.int64),
            "views": views[week, cell_index, tier].astype(np.int64),
        }
    )
    table = table.sort_values(["week", "category_id", "attribute", "value", "price_band", "city_tier"])
    return table.reset_index(drop=True), unmet


def _weekly_demand(
    products: pd.DataFrame, locations: pd.DataFrame, true_demand: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Return the history's Mondays and the true demand per (week, SKU, tier) over whole weeks."""
    days = true_demand["date"].to_numpy().astype("datetime64[D]")
    first, last = days.min(), days.max()
    # 1970-01-01 was a Thursday: a day's weekday (Monday 0) is (days since epoch + 3) % 7.
    first_monday = first + (-(first.astype(np.int64) + 3)) % 7
    n_weeks = int((last - first_monday + 1).astype(np.int64)) // 7
    weeks = first_monday + 7 * np.arange(n_weeks)
    week = (days - first_monday).astype(np.int64) // 7
    sku = pd.Index(products["sku_id"]).get_indexer(true_demand["sku_id"].astype(str))
    location_tier = locations.set_index("location_id")["city_tier"]
    tier = location_tier.reindex(true_demand["location_id"].astype(str)).to_numpy(dtype=float)
    keep = (days >= first_monday) & (week < n_weeks) & np.isfinite(tier)
    index = np.ravel_multi_index(
        (week[keep], sku[keep], tier[keep].astype(np.int64) - 1), (n_weeks, len(products), N_TIERS)
    )
    weights = true_demand["demand_mean"].to_numpy(dtype=float)[keep]
    demand = np.bincount(index, weights=weights, minlength=n_weeks * len(products) * N_TIERS)
    return weeks, demand.reshape(n_weeks, len(products), N_TIERS)


def _bands(low: float, high: float) -> list[str]:
    grid = price_band(np.geomspace(low, high, 200))
    return list(dict.fromkeys(grid))  # in price order


def _cells(products: pd.DataFrame) -> _Cells:
    """Return every (category, attribute, value, band) cell of the leaf categories and its SKUs."""
    rows: list[dict[str, Any]] = []
    for leaf in LEAF_CATEGORIES:
        sold_bands = products.loc[products["category_id"] == leaf.category_id, "price_band"]
        bands = list(dict.fromkeys([*_bands(leaf.price_low, leaf.price_high), *sold_bands]))
        for attribute, values in ATTRIBUTE_CHOICES[leaf.category_id].items():
            for order, (value, band) in enumerate(itertools.product(values, bands)):
                rows.append(
                    {
                        "category_id": leaf.category_id,
                        "attribute": attribute,
                        "value": attribute_text(value),
                        "price_band": band,
                        "band_order": bands.index(band),
                        "n_cells_attribute": len(values) * len(bands),
                        "order": order,
                    }
                )
    frame = pd.DataFrame(rows).drop(columns="order")
    position = {
        key: index
        for index, key in enumerate(
            zip(frame["category_id"], frame["attribute"], frame["value"], frame["price_band"], strict=True)
        )
    }
    membership = np.zeros((len(products), len(frame)), dtype=bool)
    for sku, (category, band, text) in enumerate(
        zip(products["category_id"], products["price_band"], products["attributes"], strict=True)
    ):
        for attribute, value in json.loads(text).items():
            cell = position.get((category, attribute, attribute_text(value), band))
            if cell is not None:
                membership[sku, cell] = True
    return _Cells(frame, membership)


def _plant(rng: np.random.Generator, frame: pd.DataFrame, membership: np.ndarray) -> list[dict[str, Any]]:
    """Pick a few cells with at most one SKU, one per category, and draw their unmet demand."""
    n_skus = membership.sum(axis=0)
    categories = list(dict.fromkeys(frame["category_id"]))
    wanted = int(rng.integers(N_UNMET_CELLS[0], N_UNMET_CELLS[1] + 1))
    planted: list[dict[str, Any]] = []
    for category in rng.permutation(np.asarray(categories, dtype=object)):
        if len(planted) == wanted:
            break
        candidates = np.flatnonzero((frame["category_id"].to_numpy() == category) & (n_skus <= 1))
        if candidates.size == 0:
            continue
        cell = int(rng.choice(candidates))
        tier_specific = rng.random() < TIER_SPECIFIC_SHARE
        growing = rng.random() < GROWING_SHARE
        planted.append(
            {
                "cell": cell,
                "category_id": str(category),
                "attribute": str(frame["attribute"].iat[cell]),
                "value": str(frame["value"].iat[cell]),
                "price_band": str(frame["price_band"].iat[cell]),
                "city_tier": int(rng.integers(3, N_TIERS + 1)) if tier_specific else None,
                "intensity": round(float(rng.uniform(*INTENSITY)), 3),
                "growth_per_year": round(float(rng.uniform(*GROWTH_PER_YEAR)), 3) if growing else 0.0,
                "n_skus_offered": int(n_skus[cell]),
            }
        )
    return planted
