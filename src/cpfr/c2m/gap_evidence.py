"""The columns of the demand-gap table and the sentence of evidence a category manager reads.

:func:`cpfr.c2m.gaps.find_gaps` computes the numbers; this module names them once (the file
``cpfr c2m gaps`` writes) and says in words why a cell ranks where it does.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

GAP_COLUMNS: tuple[str, ...] = (
    "rank",
    "category_id",
    "category_name",
    "attribute",
    "value",
    "price_band",
    "city_tier",
    "score",
    "searches",
    "searches_prior",
    "search_growth",
    "views",
    "views_per_search",
    "units",
    "units_prior",
    "unit_growth",
    "n_skus",
    "n_skus_partner",
    "n_skus_other_brands",
    "units_per_sku",
    "stockout_rate",
    "search_share",
    "supply_share",
    "unmet_index",
    "band_search_share",
    "band_supply_share",
    "band_share_gap",
    "evidence",
)
"""Columns of the gap table, in order.

``searches``, ``views``, ``units`` are sums over the recent window, ``*_prior`` over the window
before; growths are log ratios (``log((recent + 1) / (prior + 1))``); ``n_skus`` counts SKUs on
sale in the recent window (``n_skus_partner`` the brand's own, empty without ``--partner``);
``stockout_rate`` is the share of the cell's SKU-site-days out of stock; ``search_share`` and
``supply_share`` are shares within the category's attribute and tier; ``unmet_index`` is their
smoothed log ratio; ``band_*`` compare the cell with its neighbouring price bands.
"""

# Below these the clause says nothing worth reading.
NOTABLE_GROWTH = 0.15  # log growth of about +16 %
NOTABLE_STOCKOUT = 0.05  # one SKU-day in twenty out of stock
NOTABLE_BAND_GAP = 0.15  # fifteen points more of the neighbours' searches than of their supply


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _finite(value: object) -> float:
    """Return ``value`` as a float, NaN when it is missing (None, NaN, pandas.NA)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def describe(row: Mapping[Hashable, object], weeks: int) -> str:
    """Say in one sentence why a cell is (or is not) a gap.

    Parameters
    ----------
    row : mapping
        A row of the gap table (before ``evidence`` is filled).
    weeks : int
        Length of the recent window, in weeks.

    Returns
    -------
    str
        Clauses separated by semicolons, e.g. ``"4,210 searches in 26 weeks (+85 % on the 26
        before); 0 SKUs on sale; search share 9.8x the supply share"``.
    """
    searches = _finite(row["searches"])
    clauses = [f"{searches:,.0f} searches in {weeks} weeks"]
    growth = _finite(row["search_growth"])
    if abs(growth) >= NOTABLE_GROWTH:
        clauses[0] += f" ({math.expm1(growth):+.0%} on the {weeks} before)"
    n_skus = int(_finite(row["n_skus"]))
    offer = f"{n_skus} SKU{'s' if n_skus != 1 else ''} on sale"
    own = _finite(row.get("n_skus_partner"))
    if not math.isnan(own):
        offer += f" ({own:.0f} yours)"
    if n_skus:
        offer += f", {_finite(row['units_per_sku']):,.0f} units each"
    clauses.append(offer)
    search_share, supply_share = _finite(row["search_share"]), _finite(row["supply_share"])
    if supply_share > 0:
        clauses.append(f"search share {search_share / supply_share:.1f}x the supply share")
    elif search_share > 0:
        clauses.append(f"{_percent(search_share)} of the attribute's searches, no supply")
    stockout = _finite(row["stockout_rate"])
    if stockout >= NOTABLE_STOCKOUT:
        clauses.append(f"out of stock {_percent(stockout)} of SKU-days")
    band_gap = _finite(row["band_share_gap"])
    if band_gap >= NOTABLE_BAND_GAP:
        clauses.append(
            f"{_percent(_finite(row['band_search_share']))} of the neighbouring bands' searches, "
            f"{_percent(_finite(row['band_supply_share']))} of their supply"
        )
    return "; ".join(clauses)
