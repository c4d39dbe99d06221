"""The SKU x region x day panels a trade-in uplift is estimated on, read from a store.

One :class:`UpliftPanel` per subsidised leaf category. Its rows are (SKU,
region) pairs: provinces run a national programme on their own dates, so on
one day a SKU can be subsidised in one region and not in the next, which is
the comparison that separates the subsidy from the leaf's own seasonality.
Each region's window is read from the sales themselves: from the first to
the last day a sale of the programme's category in that region carried a
subsidy (``sales.subsidy_yuan > 0``), within the programme's ``events`` row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store

# A launch's ramp and boost fade over months; cells inside them would be read as the
# SKU's own trend and bias a fixed-effects fit, so they are left out.
LAUNCH_BURN_IN_DAYS = 150
# Festival spikes differ by category: left out when the controls come from other categories.
FESTIVAL_KINDS = ("promotion", "holiday")
FESTIVAL_AFTERMATH_DAYS = 14
MIN_CONTROL_SKUS = 2


@dataclass(frozen=True)
class UpliftPanel:
    """Daily units of one leaf's (SKU, region) rows, and where the subsidy ran.

    Attributes
    ----------
    category_id : str
        The leaf category.
    units, gmv : numpy.ndarray
        ``(n_rows, n_days)`` units sold and paid GMV (yuan).
    on_sale : numpy.ndarray
        ``(n_rows, n_days)`` cells that enter the fit.
    sku : numpy.ndarray
        ``(n_rows,)`` SKU of each row (the bootstrap resamples SKUs, all regions together).
    eligible : numpy.ndarray
        ``(n_rows,)`` rows of SKUs that received the subsidy.
    in_leaf : numpy.ndarray
        ``(n_rows,)`` rows of the leaf (False: control rows from never-subsidised leaves).
    covered : numpy.ndarray
        ``(n_rows, n_days)`` the subsidy ran in the row's region that day.
    days : pandas.DatetimeIndex
        The days of the columns.
    control : str
        What identifies the effect: ``regions`` (regions opened and closed the programme on
        different days), ``leaf`` (the leaf's ineligible SKUs), ``leaf+regions`` (both),
        ``other categories`` (SKUs of never-subsidised leaves) or ``none`` (no estimate).
    """

    category_id: str
    units: np.ndarray
    gmv: np.ndarray
    on_sale: np.ndarray
    sku: np.ndarray
    eligible: np.ndarray
    in_leaf: np.ndarray
    covered: np.ndarray
    days: pd.DatetimeIndex
    control: str

    @property
    def treated(self) -> np.ndarray:
        """``(n_rows, n_days)`` an eligible SKU of the leaf under the subsidy."""
        return (self.eligible & self.in_leaf)[:, None] & self.covered

    @property
    def exposed(self) -> np.ndarray:
        """``(n_rows, n_days)`` an ineligible SKU of the leaf while the subsidy runs in its region."""
        return (~self.eligible & self.in_leaf)[:, None] & self.covered

    def days_after(self) -> np.ndarray:
        """``(n_rows, n_days)`` days since the subsidy last ran in the row's region (0: never, or now)."""
        index = np.arange(self.days.size)
        last = np.where(self.covered, index[None, :], -1)
        last = np.maximum.accumulate(last, axis=1)
        age = np.where((last >= 0) & ~self.covered, index[None, :] - last, 0)
        return np.asarray(age)


@dataclass(frozen=True)
class SalesData:
    """The tables the trade-in estimates read, read once and shared by several estimates."""

    events: pd.DataFrame
    products: pd.DataFrame
    categories: pd.DataFrame
    locations: pd.DataFrame
    sales: pd.DataFrame

    @classmethod
    def read(cls, store: Store, partner_id: str | None = None) -> SalesData:
        """Read the tables from ``store`` (only ``partner_id``'s rows and shared ones, if given)."""
        return cls(
            events=store.read_table("events", partner_id=partner_id),
            products=store.read_table("products", partner_id=partner_id),
            categories=store.read_table("categories"),
            locations=store.read_table("locations", partner_id=partner_id),
            sales=store.read_table("sales", partner_id=partner_id),
        )


def read_panels(
    store: Store,
    *,
    partner_id: str | None = None,
    city_tier: int | None = None,
    data: SalesData | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[UpliftPanel]:
    """Yield one panel per leaf category that had a subsidised sale (only ``city_tier``'s sites, if given).

    ``data`` (read from ``store`` when not given) lets several estimates share one read.
    """
    log = progress or (lambda _message: None)
    data = data or SalesData.read(store, partner_id)
    events, products, categories = data.events, data.products, data.categories
    locations, sales = data.locations, data.sales
    if city_tier is not None:
        in_tier = set(locations.loc[locations["city_tier"] == city_tier, "location_id"].astype(str))
        sales = sales[sales["location_id"].astype(str).isin(in_tier)]
    log(f"read {len(sales):,} sales rows, {len(products):,} SKUs")
    if sales.empty:
        return
    region_of = locations.set_index("location_id")["region"].astype(str)
    sales = sales.assign(
        region=sales["location_id"].astype(str).map(region_of).fillna("-"),
        gmv=sales["units"] * sales["paid_price"],
        subsidised=sales["subsidy_yuan"].fillna(0.0) > 0,
    )
    days = pd.date_range(pd.Timestamp(sales["date"].min()), pd.Timestamp(sales["date"].max()), freq="D")
    daily = sales.groupby(["sku_id", "region", "date"], observed=True).agg(
        units=("units", "sum"), gmv=("gmv", "sum"), subsidised=("subsidised", "any")
    )
    units = daily["units"].unstack("date").reindex(columns=days).fillna(0.0)
    gmv = daily["gmv"].unstack("date").reindex(index=units.index, columns=days).fillna(0.0)
    row_sku = units.index.get_level_values("sku_id").astype(str).to_numpy()
    row_region = units.index.get_level_values("region").astype(str).to_numpy()
    eligible_skus = set(daily.index.get_level_values("sku_id")[daily["subsidised"].to_numpy()].astype(str))

    parent = dict(zip(categories["category_id"], categories["parent_id"], strict=True))
    products = products[products["sku_id"].isin(set(row_sku))].set_index("sku_id")
    leaf_of = pd.Series(row_sku).map(products["category_id"].astype(str)).to_numpy()
    on_sale = _on_sale(products, row_sku, days)
    festival = _festival_days(events, days)
    subsidies = events[events["kind"] == "subsidy"]
    subsidised_leaves = sorted(
        leaf for leaf in set(leaf_of) if not _covering(subsidies, leaf, parent.get(leaf)).empty
    )
    never_subsidised = ~np.isin(leaf_of, subsidised_leaves)
    is_eligible = np.isin(row_sku, list(eligible_skus))
    for leaf in subsidised_leaves:
        in_leaf = leaf_of == leaf
        if not (in_leaf & is_eligible).any():
            continue
        covered_by_region = _regional_windows(
            sales, _covering(subsidies, leaf, parent.get(leaf)), _scope_skus(products, leaf, parent), days
        )
        covered = np.array(
            [covered_by_region.get(region, np.zeros(days.size, bool)) for region in row_region]
        )
        # Controls: the leaf's SKUs sold without a subsidy while it ran (not those gone before it).
        while_running = (units.to_numpy() * covered).sum(axis=1) > 0
        n_controls = np.unique(row_sku[in_leaf & ~is_eligible & while_running]).size
        staggered = np.unique(covered[in_leaf], axis=0).shape[0] > 1
        control = {
            (True, True): "leaf+regions",
            (True, False): "leaf",
            (False, True): "regions",
        }.get((n_controls >= MIN_CONTROL_SKUS, staggered), "other categories")
        rows, fit_cells = in_leaf, on_sale
        if control == "other categories":
            rows = in_leaf | never_subsidised
            fit_cells = on_sale & ~festival[None, :]
            if np.unique(row_sku[never_subsidised]).size < MIN_CONTROL_SKUS:
                control = "none"
        yield UpliftPanel(
            category_id=leaf,
            units=units.to_numpy()[rows],
            gmv=gmv.to_numpy()[rows],
            on_sale=fit_cells[rows],
            sku=row_sku[rows],
            eligible=is_eligible[rows],
            in_leaf=in_leaf[rows],
            covered=covered[rows] & in_leaf[rows][:, None],
            days=days,
            control=control,
        )


def _covering(subsidies: pd.DataFrame, leaf: str, top: str | None) -> pd.DataFrame:
    return subsidies[subsidies["category_id"].isin([leaf, top])]


def _scope_skus(products: pd.DataFrame, leaf: str, parent: dict[str, str | None]) -> dict[str, set[str]]:
    # SKUs each programme category (the leaf, or the top category above it) covers.
    top = parent.get(leaf)
    categories = products["category_id"].astype(str)
    tops = categories.map(parent)
    return {
        str(leaf): set(products.index[categories == leaf].astype(str)),
        str(top): set(products.index[(tops == top) | (categories == top)].astype(str)),
    }


def _regional_windows(
    sales: pd.DataFrame, programmes: pd.DataFrame, scope: dict[str, set[str]], days: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """Return ``{region: (n_days,) bool}``: each programme from its first to last subsidised sale there."""
    covered: dict[str, np.ndarray] = {}
    subsidised = sales[sales["subsidised"]]
    for programme in programmes.to_dict("records"):
        start, end = pd.Timestamp(programme["start_date"]), pd.Timestamp(programme["end_date"])
        dates = pd.to_datetime(subsidised["date"])
        inside = subsidised[
            (dates >= start)
            & (dates <= end)
            & subsidised["sku_id"].astype(str).isin(scope.get(str(programme["category_id"]), set()))
        ]
        for region, group in inside.groupby("region", observed=True):
            first, last = pd.Timestamp(group["date"].min()), pd.Timestamp(group["date"].max())
            mask = covered.setdefault(str(region), np.zeros(days.size, dtype=bool))
            mask |= (days >= first) & (days <= last)
    return covered


def _festival_days(events: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    festival = np.zeros(days.size, dtype=bool)
    for event in events[events["kind"].isin(FESTIVAL_KINDS)].to_dict("records"):
        last = pd.Timestamp(event["end_date"]) + pd.Timedelta(days=FESTIVAL_AFTERMATH_DAYS)
        festival |= (days >= pd.Timestamp(event["start_date"])) & (days <= last)
    return festival


def _on_sale(products: pd.DataFrame, skus: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
    launch = pd.to_datetime(products["launch_date"]).reindex(skus).to_numpy()
    first = launch + np.timedelta64(LAUNCH_BURN_IN_DAYS, "D")
    end = pd.to_datetime(products["end_date"]).reindex(skus).to_numpy()
    stamp = days.to_numpy()
    after_burn_in = stamp[None, :] >= first[:, None]
    before_end = np.isnat(end)[:, None] | (stamp[None, :] <= end[:, None])
    return np.asarray(after_burn_in & before_end)
