"""The SKU x day panel a trade-in uplift is estimated on, read from a store.

One :class:`UpliftPanel` per leaf category: the daily units of its eligible
SKUs (treated) and of the control SKUs, the subsidised days, and the mask of
the cells where a SKU was on sale and past its launch burn-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store

# A launch's ramp and boost fade over months; cells inside them would be read as the
# SKU's own trend and bias a two-way fixed-effects fit, so they are left out.
LAUNCH_BURN_IN_DAYS = 150
# Festival spikes and their pull-forward dips differ by top category; they are left
# out so that a control from another category does not import them.
FESTIVAL_KINDS = ("promotion", "holiday")
FESTIVAL_AFTERMATH_DAYS = 14
MIN_CONTROL_SKUS = 2


@dataclass(frozen=True)
class UpliftPanel:
    """Daily units of one leaf's eligible and control SKUs.

    Attributes
    ----------
    category_id : str
        The leaf category.
    units, gmv : numpy.ndarray
        ``(n_skus, n_days)`` units sold and paid GMV (yuan) per SKU and day.
    on_sale : numpy.ndarray
        ``(n_skus, n_days)`` cells that enter the fit.
    eligible : numpy.ndarray
        ``(n_skus,)`` SKUs that received the subsidy.
    subsidised : numpy.ndarray
        ``(n_days,)`` days inside a subsidy period of the leaf.
    days : pandas.DatetimeIndex
        The days of the columns.
    control : str
        ``leaf`` (ineligible SKUs of the same leaf) or ``other categories``
        (SKUs of never-subsidised leaves, when every SKU of the leaf is eligible),
        or ``none`` when neither has ``MIN_CONTROL_SKUS`` SKUs (no estimate).
    """

    category_id: str
    units: np.ndarray
    gmv: np.ndarray
    on_sale: np.ndarray
    eligible: np.ndarray
    subsidised: np.ndarray
    days: pd.DatetimeIndex
    control: str


def read_panels(
    store: Store, *, partner_id: str | None = None, progress: Callable[[str], None] | None = None
) -> Iterator[UpliftPanel]:
    """Yield one panel per leaf category that had a subsidised sale."""
    log = progress or (lambda _message: None)
    events = store.read_table("events", partner_id=partner_id)
    products = store.read_table("products", partner_id=partner_id)
    categories = store.read_table("categories")
    sales = store.read_table("sales", partner_id=partner_id)
    log(f"read {len(sales):,} sales rows, {len(products):,} SKUs")
    if sales.empty:
        return
    sales = sales.assign(
        gmv=sales["units"] * sales["paid_price"], subsidised=sales["subsidy_yuan"].fillna(0.0) > 0
    )
    daily = sales.groupby(["sku_id", "date"], observed=True).agg(
        units=("units", "sum"), gmv=("gmv", "sum"), subsidised=("subsidised", "any")
    )
    days = pd.date_range(pd.Timestamp(sales["date"].min()), pd.Timestamp(sales["date"].max()), freq="D")
    units = daily["units"].unstack("date").reindex(columns=days).fillna(0.0)
    gmv = daily["gmv"].unstack("date").reindex(index=units.index, columns=days).fillna(0.0)
    eligible_skus = set(daily.index.get_level_values("sku_id")[daily["subsidised"].to_numpy()])

    parent = dict(zip(categories["category_id"], categories["parent_id"], strict=True))
    products = products[products["sku_id"].isin(units.index)].set_index("sku_id")
    leaf_of = products["category_id"].astype(str)
    festival = _festival_days(events, days)
    on_sale = _on_sale(products, units.index, days) & ~festival[None, :]
    subsidies = events[events["kind"] == "subsidy"]
    subsidised_leaves = {
        leaf for leaf in leaf_of.unique() if not _covering(subsidies, leaf, parent.get(leaf)).empty
    }
    never_subsidised = ~leaf_of.reindex(units.index).isin(subsidised_leaves).to_numpy()
    is_eligible = units.index.isin(list(eligible_skus))
    for leaf in sorted(subsidised_leaves):
        in_leaf = (leaf_of.reindex(units.index) == leaf).to_numpy()
        treated = in_leaf & is_eligible
        if not treated.any():
            continue
        control_rows = in_leaf & ~is_eligible
        control = "leaf"
        if control_rows.sum() < MIN_CONTROL_SKUS:
            control_rows, control = never_subsidised, "other categories"
        if control_rows.sum() < MIN_CONTROL_SKUS:
            control = "none"
        rows = treated | control_rows
        subsidised = np.zeros(days.size, dtype=bool)
        for event in _covering(subsidies, leaf, parent.get(leaf)).to_dict("records"):
            subsidised |= (days >= pd.Timestamp(event["start_date"])) & (
                days <= pd.Timestamp(event["end_date"])
            )
        yield UpliftPanel(
            category_id=leaf,
            units=units.to_numpy()[rows],
            gmv=gmv.to_numpy()[rows],
            on_sale=on_sale[rows],
            eligible=treated[rows],
            subsidised=subsidised,
            days=days,
            control=control,
        )


def _covering(subsidies: pd.DataFrame, leaf: str, top: str | None) -> pd.DataFrame:
    return subsidies[subsidies["category_id"].isin([leaf, top])]


def _festival_days(events: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    festival = np.zeros(days.size, dtype=bool)
    for event in events[events["kind"].isin(FESTIVAL_KINDS)].to_dict("records"):
        last = pd.Timestamp(event["end_date"]) + pd.Timedelta(days=FESTIVAL_AFTERMATH_DAYS)
        festival |= (days >= pd.Timestamp(event["start_date"])) & (days <= last)
    return festival


def _on_sale(products: pd.DataFrame, skus: pd.Index, days: pd.DatetimeIndex) -> np.ndarray:
    launch = pd.to_datetime(products["launch_date"]).reindex(skus).to_numpy()
    first = launch + np.timedelta64(LAUNCH_BURN_IN_DAYS, "D")
    end = pd.to_datetime(products["end_date"]).reindex(skus).to_numpy()
    stamp = days.to_numpy()
    after_burn_in = stamp[None, :] >= first[:, None]
    before_end = np.isnat(end)[:, None] | (stamp[None, :] <= end[:, None])
    return np.asarray(after_burn_in & before_end)
