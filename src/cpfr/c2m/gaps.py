r"""Demand gaps: attribute x price-band cells where shoppers' demand outruns what is on sale.

A *cell* is one attribute value in one price band of a leaf category and city tier (``PHONE``,
``storage_gb = 512``, ``1000-1999``, tier 3). :func:`find_gaps` ranks cells by how far the
demand seen in the platform's searches outruns the supply seen in sales, SKUs offered and
stock-outs, and gives the evidence beside the score so a category manager can judge each one.

The score
---------
Demand and supply are compared as *shares* within the category, attribute and tier, so cells of a
large and a small category are comparable and a category's seasonality cancels out:

.. math::

    U_c = \log \frac{d_c + \varepsilon}{s_c + \varepsilon}, \qquad
    s_c = \tfrac12 \left( \frac{q_c}{\sum q} + \frac{k_c}{\sum k} \right)

with :math:`d_c` the cell's share of the searches of its category's attribute, :math:`q_c` its
units sold and :math:`k_c` its SKUs on sale (the supply share averages the two: units alone are
censored by stock-outs and SKUs alone ignore how much each sells), and
:math:`\varepsilon = \texttt{PRIOR\_SHARE} / n` a pseudo-share over the attribute's *n* cells that
shrinks small cells towards no gap (additive smoothing of a ratio of proportions), plus
``PRIOR_SEARCHES`` pseudo-searches so that a handful of searches is no evidence either. *U* is a log
opportunity index, the retail analyst's "search share over sales share" (a location quotient).
The score adds standardised evidence that the demand is real and unmet:

.. math::

    \text{score}_c = z(U_c) + w_{so}\, z(\text{stock-out rate}_c) + w_g\, z(g_c) + w_b\, z(b_c)

with the stock-out rate of the cell's SKUs (share of SKU-site-days out of stock: sales on those
days are censored, the demand behind them unseen; Nahmias 1994; Conlon & Mortimer 2013), the
growth *g* of searches over the previous window relative to the category-tier's median growth,
and the band gap *b*: the cell's share of searches among its neighbouring price bands (same
value, one band below and above) minus its share of their supply. *z* standardises over all cells
(mean 0, standard deviation 1, winsorised at ±3; a missing value, e.g. the stock-out rate of a
cell with nothing on sale, scores 0); weights are :class:`GapWeights`.

References
----------
Nahmias, S. (1994). Demand estimation in lost sales inventory systems. *Naval Research
Logistics* 41(6), 739-757.
Conlon, C. T. & Mortimer, J. H. (2013). Demand estimation under incomplete product availability.
*American Economic Journal: Microeconomics* 5(4), 1-30.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.c2m.gap_evidence import GAP_COLUMNS, describe
from cpfr.data.schema_signals import attribute_text
from cpfr.data.store import Store
from cpfr.exceptions import InputError

# Half a year: long enough to smooth over festival weeks, short enough to be today's demand.
RECENT_WEEKS = 26
# Pseudo-share of searches and supply spread over an attribute's cells (see the module docstring):
# a cell needs about half an average cell's searches before its ratio counts ...
PRIOR_SHARE = 0.5
# ... and some fifty searches in absolute terms, so a handful of searches for a car is no gap; the
# same pseudo-count damps the growth of cells that went from 2 searches to 8.
PRIOR_SEARCHES = 50.0
GROWTH_CLIP = 1.0  # log growth
Z_CLIP = 3.0  # standard scores are winsorised here, so no single term swamps the others
CELL = ["category_id", "attribute", "value", "price_band", "city_tier"]


@dataclass(frozen=True)
class GapWeights:
    """Weights of the evidence terms added to the unmet-demand index (all standardised).

    Attributes
    ----------
    stockout : float
        Weight :math:`w_{so}` of the stock-out rate of the cell's SKUs.
    growth : float
        Weight :math:`w_g` of the cell's search growth over the category's.
    band_share : float
        Weight :math:`w_b` of the share gap against neighbouring price bands.
    """

    stockout: float = 0.5
    growth: float = 0.5
    band_share: float = 0.5


def find_gaps(
    store: Store,
    *,
    as_of: dt.date | None = None,
    partner_id: str | None = None,
    weeks: int = RECENT_WEEKS,
    by_tier: bool = True,
    weights: GapWeights | None = None,
) -> pd.DataFrame:
    """Rank attribute x price-band cells by unmet demand, with the evidence.

    Parameters
    ----------
    store : Store
        The platform's store: the finder compares the whole market's searches, sales and
        stock-outs (a partner-scoped handle reads no searches and only its own sales).
    as_of : datetime.date, optional
        Last day of the evidence (default: the last sales day); nothing later is read.
    partner_id : str, optional
        Report only the cells of the categories this brand sells in, as aggregates: SKU counts
        (``n_skus_partner``, ``n_skus_other_brands``), never another brand's SKUs.
    weeks : int
        Length of the recent window; growth compares it with the window before.
    by_tier : bool
        One row per city tier (default), or one per cell over all tiers (``city_tier`` empty).
    weights : GapWeights, optional
        Weights of the evidence terms.

    Returns
    -------
    pandas.DataFrame
        :data:`~cpfr.c2m.gap_evidence.GAP_COLUMNS`, best gap first (``rank`` 1).

    Raises
    ------
    InputError
        An unknown partner, a partner with no products, ``weeks`` below 1, or no sales or
        searches to learn from.
    """
    weights = weights or GapWeights()
    if weeks < 1:
        raise InputError(f"weeks must be at least 1, got {weeks}")
    products = store.read_table("products")
    own_categories = _partner_categories(store, products, partner_id)
    end = pd.Timestamp(as_of if as_of is not None else _last_day(store))
    recent_start = end - pd.Timedelta(weeks=weeks) + pd.Timedelta(days=1)
    prior_start = recent_start - pd.Timedelta(weeks=weeks)

    searches = _searches(store, prior_start, end, recent_start)
    skus = _sku_cells(products, end, recent_start, set(searches["attribute"]) if len(searches) else None)
    supply = _supply(store, skus, prior_start, end, recent_start)
    cells = _cell_table(searches, skus, supply, partner_id)
    if not by_tier:
        cells = _over_tiers(cells)
    if cells.empty:
        raise InputError(f"no searches and no sales between {prior_start.date()} and {end.date()}")
    scored = _score(cells, weights)
    if own_categories is not None:
        scored = scored[scored["category_id"].isin(own_categories)]
    names = store.read_table("categories").set_index("category_id")["name"]
    scored = scored.assign(category_name=scored["category_id"].map(names).fillna(scored["category_id"]))
    scored = scored.sort_values(["score", *CELL], ascending=[False, True, True, True, True, True])
    scored["rank"] = np.arange(1, len(scored) + 1)
    scored["evidence"] = [describe(row, weeks) for row in scored.to_dict("records")]
    return scored[list(GAP_COLUMNS)].reset_index(drop=True)


def _partner_categories(store: Store, products: pd.DataFrame, partner_id: str | None) -> set[str] | None:
    if partner_id is None:
        return None
    known = set(store.read_table("partners")["partner_id"].astype(str))
    if partner_id not in known:
        raise InputError(f"unknown partner {partner_id!r}; expected one of {', '.join(sorted(known))}")
    categories = set(products.loc[products["partner_id"] == partner_id, "category_id"].astype(str))
    if not categories:
        raise InputError(f"partner {partner_id!r} has no products, so no categories to look for gaps in")
    return categories


def _last_day(store: Store) -> dt.date:
    last = store.date_range("sales")[1]
    if last is None:
        last = store.date_range("searches")[1]
    if last is None:
        raise InputError("no sales and no searches in the store: nothing to find gaps in")
    return pd.Timestamp(last).date()


def _searches(
    store: Store, prior_start: pd.Timestamp, end: pd.Timestamp, recent_start: pd.Timestamp
) -> pd.DataFrame:
    """Return searches and views per cell in the recent and the prior window."""
    rows = store.read_table("searches", start=prior_start.date(), end=end.date())
    columns = ["searches", "searches_prior", "views"]
    if rows.empty:
        return pd.DataFrame(columns=[*CELL, *columns])
    rows["city_tier"] = rows["city_tier"].astype("Int64")
    recent = pd.to_datetime(rows["week"]) >= recent_start
    rows = rows.assign(
        searches_prior=rows["searches"].where(~recent, 0),
        searches=rows["searches"].where(recent, 0),
        views=rows["views"].where(recent, 0),
    )
    return rows.groupby(CELL, as_index=False)[columns].sum()


def _sku_cells(
    products: pd.DataFrame, end: pd.Timestamp, recent_start: pd.Timestamp, attributes: set[str] | None
) -> pd.DataFrame:
    """Return one row per (SKU, attribute) of the SKUs on sale in the recent window, with its cell."""
    launch = pd.to_datetime(products["launch_date"])
    ended = pd.to_datetime(products["end_date"])
    on_sale = (launch.isna() | (launch <= end)) & (ended.isna() | (ended >= recent_start))
    rows = []
    for product in products[on_sale].to_dict("records"):
        text = product.get("attributes")
        values = json.loads(text) if isinstance(text, str) and text else {}
        for attribute, value in values.items():
            if attributes is None or attribute in attributes:
                rows.append(
                    {
                        "sku_id": str(product["sku_id"]),
                        "partner_id": str(product["partner_id"]),
                        "category_id": str(product["category_id"]),
                        "attribute": str(attribute),
                        "value": attribute_text(value),
                        "price_band": str(product["price_band"]),
                    }
                )
    return pd.DataFrame(
        rows, columns=["sku_id", "partner_id", "category_id", "attribute", "value", "price_band"]
    )


def _supply(
    store: Store, skus: pd.DataFrame, prior_start: pd.Timestamp, end: pd.Timestamp, recent_start: pd.Timestamp
) -> pd.DataFrame:
    """Return per (SKU, tier): units sold recently and before, stock-out days and days observed."""
    cube = store.sales_cube(["sku_id", "city_tier", "week"], start=prior_start.date(), end=end.date())
    cube["recent"] = pd.to_datetime(cube["week"]) >= recent_start
    units = cube.pivot_table(
        index=["sku_id", "city_tier"], columns="recent", values="units", aggfunc="sum", fill_value=0
    ).reindex(columns=[True, False], fill_value=0)
    units.columns = pd.Index(["units", "units_prior"])
    inventory = store.read_table("inventory", start=recent_start.date(), end=end.date())
    tiers = store.read_table("locations").set_index("location_id")["city_tier"]
    inventory["city_tier"] = inventory["site_id"].map(tiers)
    inventory = inventory[inventory["city_tier"].notna() & inventory["sku_id"].isin(set(skus["sku_id"]))]
    inventory["date"] = pd.to_datetime(inventory["date"])
    # Days observed per SKU and site: from its first to its last snapshot in the window
    # (snapshots may be weekly, plus every stock-out day).
    sites = inventory.groupby(["sku_id", "site_id", "city_tier"]).agg(
        first=("date", "min"), last=("date", "max"), stockout_days=("stockout", "sum")
    )
    sites["observed_days"] = (sites["last"] - sites["first"]).dt.days + 1
    stock = sites.groupby(["sku_id", "city_tier"])[["stockout_days", "observed_days"]].sum()
    supply = units.join(stock, how="outer").fillna(0).reset_index()
    supply["city_tier"] = supply["city_tier"].astype("Int64")
    return supply


def _cell_table(
    searches: pd.DataFrame, skus: pd.DataFrame, supply: pd.DataFrame, partner_id: str | None
) -> pd.DataFrame:
    """Join searches and supply per cell: SKUs offered, units, stock-out days."""
    tiers = pd.DataFrame({"city_tier": pd.array(sorted(set(supply["city_tier"].dropna())), dtype="Int64")})
    counted = skus.assign(
        own=skus["partner_id"] == partner_id if partner_id is not None else False,
    )
    offered = counted.groupby(CELL[:4], as_index=False).agg(
        n_skus=("sku_id", "nunique"), n_skus_partner=("own", "sum")
    )
    offered = offered.merge(tiers, how="cross")
    sold = (
        skus.merge(supply, on="sku_id")
        .groupby(CELL, as_index=False)[["units", "units_prior", "stockout_days", "observed_days"]]
        .sum()
    )
    cells = offered.merge(sold, on=CELL, how="outer").merge(searches, on=CELL, how="outer")
    counts = ["n_skus", "n_skus_partner", "units", "units_prior", "stockout_days", "observed_days"]
    filled = [*counts, "searches", "searches_prior", "views"]
    cells[filled] = cells[filled].fillna(0).astype(float)
    cells["n_skus"] = cells["n_skus"].astype(np.int64)
    if partner_id is None:
        cells["n_skus_partner"] = pd.NA
    cells["n_skus_partner"] = cells["n_skus_partner"].astype("Int64")
    return cells


def _over_tiers(cells: pd.DataFrame) -> pd.DataFrame:
    sums = ["units", "units_prior", "stockout_days", "observed_days", "searches", "searches_prior", "views"]
    keep = ["n_skus", "n_skus_partner"]
    merged = cells.groupby(CELL[:4], as_index=False).agg(
        {**{column: "sum" for column in sums}, **{column: "max" for column in keep}}
    )
    merged["city_tier"] = pd.array([pd.NA] * len(merged), dtype="Int64")
    return merged


def _band_floor(band: pd.Series) -> pd.Series:
    """Lower edge of a price band label ('2000-2999' -> 2000, '200000+' -> 200000), for ordering."""
    return pd.to_numeric(band.str.extract(r"^(\d+)")[0], errors="coerce").fillna(0)


def _zscore(values: pd.Series) -> pd.Series:
    spread = values.std(ddof=0)
    if not np.isfinite(spread) or spread == 0:
        return pd.Series(0.0, index=values.index)
    return ((values - values.mean()) / spread).clip(-Z_CLIP, Z_CLIP).fillna(0.0)


def _score(cells: pd.DataFrame, weights: GapWeights) -> pd.DataFrame:
    """Add shares, the unmet-demand index, growth, band gap and the score (module docstring)."""
    cells = cells.copy()
    group = cells.groupby(["category_id", "attribute", "city_tier"], dropna=False)
    n_cells = group["searches"].transform("size")
    cells["search_share"] = cells["searches"] / group["searches"].transform("sum").replace(0, np.nan)
    unit_share = cells["units"] / group["units"].transform("sum").replace(0, np.nan)
    sku_share = cells["n_skus"] / group["n_skus"].transform("sum").replace(0, np.nan)
    cells["supply_share"] = 0.5 * (unit_share.fillna(0) + sku_share.fillna(0))
    cells["search_share"] = cells["search_share"].fillna(0)
    prior = PRIOR_SHARE / n_cells + PRIOR_SEARCHES / group["searches"].transform("sum").clip(lower=1)
    cells["unmet_index"] = np.log((cells["search_share"] + prior) / (cells["supply_share"] + prior))

    cells["search_growth"] = np.log(
        (cells["searches"] + PRIOR_SEARCHES) / (cells["searches_prior"] + PRIOR_SEARCHES)
    )
    cells["unit_growth"] = np.log((cells["units"] + 1) / (cells["units_prior"] + 1))
    # Demand growing faster than sales: a launch grows both and cancels, unmet demand grows alone.
    # Clipped to a factor of e either way: a launch's units growing from nothing say little.
    outgrowth = (cells["search_growth"] - cells["unit_growth"]).clip(-GROWTH_CLIP, GROWTH_CLIP)
    relative_growth = outgrowth - outgrowth.groupby(
        [cells["category_id"], cells["city_tier"]], dropna=False
    ).transform("median")
    cells["stockout_rate"] = cells["stockout_days"] / cells["observed_days"].replace(0, np.nan)
    cells["units_per_sku"] = cells["units"] / cells["n_skus"].replace(0, np.nan)
    cells["views_per_search"] = cells["views"] / cells["searches"].replace(0, np.nan)
    cells["n_skus_other_brands"] = (cells["n_skus"] - cells["n_skus_partner"].fillna(0)).astype(np.int64)

    cells["band_search_share"], cells["band_supply_share"] = _neighbour_shares(cells)
    cells["band_share_gap"] = cells["band_search_share"] - cells["band_supply_share"]
    cells["score"] = (
        _zscore(cells["unmet_index"])
        + weights.stockout * _zscore(cells["stockout_rate"])
        + weights.growth * _zscore(relative_growth)
        + weights.band_share * _zscore(cells["band_share_gap"])
    )
    return cells


def _neighbour_shares(cells: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return each cell's share of searches and of supply among its band and the adjacent bands."""
    line = ["category_id", "attribute", "value", "city_tier"]
    ordered = cells.assign(_floor=_band_floor(cells["price_band"])).sort_values([*line, "_floor"])
    grouped = ordered.groupby(line, dropna=False, sort=False)
    shares = []
    for column in ("searches", "supply_share"):
        values = ordered[column].astype(float)
        window = (
            values
            + grouped[column].shift(1).fillna(0).astype(float)
            + grouped[column].shift(-1).fillna(0).astype(float)
        )
        shares.append((values / window.replace(0, np.nan)).reindex(cells.index))
    # Searched bands with nothing supplied around them hold no share of the supply.
    return shares[0], shares[1].where(shares[0].isna() | shares[1].notna(), 0.0)
