"""New launches with little or no history: forecast from analogue SKUs and their launch curves.

A SKU about to launch has no sales to fit. Its analogues are SKUs of the
same category that launched earlier: nearest in price (log scale, the
price band a shopper compares within) and attributes (share of matching
attribute values). The forecast is the analogues' average launch curve —
units by day since launch — weighted by similarity. When the new SKU has
sold for a few days already, the curve is rescaled to what it sold.

References
----------
Goodwin, Dyussekeneva & Meeran (2013), "The use of analogies in forecasting the annual sales of new
electronics products", IMA Journal of Management Mathematics 24(4);
Hu, Acimovic, Erize, Thomas & Van Mieghem (2019), "Forecasting new product life cycle curves: practical
approach and empirical analysis", MSOM 21(1).
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LaunchForecast:
    """Daily units of new SKUs from their analogues.

    Attributes
    ----------
    forecast : pandas.DataFrame
        ``sku_id, ds, age`` (days since launch) and ``mean``.
    analogues : pandas.DataFrame
        ``sku_id, analogue_id, similarity, weight``: who each forecast was built from.
    """

    forecast: pd.DataFrame
    analogues: pd.DataFrame


def launch_curves(sales: pd.DataFrame, products: pd.DataFrame, *, days: int) -> pd.DataFrame:
    """Units by day since launch (age 0 .. days-1) of every SKU whose launch the sales cover.

    ``sales``: ``sku_id, ds, units`` (any number of locations); ``products``: ``sku_id, launch_date``.
    Returns a frame indexed by ``sku_id`` with one column per age; SKUs launched before the first
    sales day or with fewer than ``days`` days of history are left out.
    """
    daily = sales.groupby(["sku_id", "ds"], sort=False, observed=True)["units"].sum().reset_index()
    launch = pd.to_datetime(products.set_index("sku_id")["launch_date"])
    first_day, last_day = pd.to_datetime(daily["ds"]).min(), pd.to_datetime(daily["ds"]).max()
    eligible = launch[(launch >= first_day) & (launch + pd.Timedelta(days=days - 1) <= last_day)]
    daily = daily[daily["sku_id"].isin(eligible.index)]
    age = (pd.to_datetime(daily["ds"]) - daily["sku_id"].map(eligible)).dt.days
    daily = daily.assign(age=age)[(age >= 0) & (age < days)]
    curves = daily.pivot_table(
        index="sku_id", columns="age", values="units", aggfunc="sum", fill_value=0.0, observed=True
    )
    return curves.reindex(index=eligible.index, columns=range(days), fill_value=0.0).astype(float)


def analogue_forecast(
    new_products: pd.DataFrame,
    products: pd.DataFrame,
    sales: pd.DataFrame,
    *,
    days: int = 90,
    analogues: int = 5,
    early_sales: pd.DataFrame | None = None,
) -> LaunchForecast:
    """Forecast the first ``days`` days of each new SKU from its nearest analogues.

    Parameters
    ----------
    new_products : pandas.DataFrame
        ``sku_id, category_id, list_price, launch_date`` and optionally ``attributes`` (JSON).
    products : pandas.DataFrame
        The catalogue the analogues come from (same columns).
    sales : pandas.DataFrame
        ``sku_id, ds, units`` history of the catalogue.
    days : int
        Days after launch to forecast.
    analogues : int
        How many analogues to average.
    early_sales : pandas.DataFrame, optional
        ``sku_id, ds, units`` a new SKU already sold: the curve is rescaled to match them.
    """
    curves = launch_curves(sales, products, days=days)
    candidates = products[products["sku_id"].isin(curves.index)].set_index("sku_id")
    rows, links = [], []
    for product in new_products.to_dict("records"):
        pool = candidates[
            (candidates["category_id"] == product["category_id"]) & (candidates.index != product["sku_id"])
        ]
        if pool.empty:
            pool = candidates[candidates.index != product["sku_id"]]  # no same-category launch: any launch
        if pool.empty:
            continue
        similarity = _similarity(product, pool)
        chosen = similarity.nlargest(analogues)
        weights = (
            chosen / chosen.sum() if chosen.sum() > 0 else pd.Series(1.0 / len(chosen), index=chosen.index)
        )
        curve = (curves.loc[chosen.index].to_numpy() * weights.to_numpy()[:, None]).sum(axis=0)
        launch = pd.Timestamp(product["launch_date"])
        if early_sales is not None:
            curve = _rescale(curve, early_sales[early_sales["sku_id"] == product["sku_id"]], launch)
        dates = pd.date_range(launch, periods=days, freq="D")
        rows.append(
            pd.DataFrame({"sku_id": product["sku_id"], "ds": dates, "age": np.arange(days), "mean": curve})
        )
        links.append(
            pd.DataFrame(
                {
                    "sku_id": product["sku_id"],
                    "analogue_id": chosen.index,
                    "similarity": chosen.to_numpy(),
                    "weight": weights.to_numpy(),
                }
            )
        )
    forecast = (
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["sku_id", "ds", "age", "mean"])
    )
    table = (
        pd.concat(links, ignore_index=True)
        if links
        else pd.DataFrame(columns=["sku_id", "analogue_id", "similarity", "weight"])
    )
    return LaunchForecast(forecast, table)


def _similarity(product: dict[Hashable, Any], pool: pd.DataFrame) -> pd.Series:
    """Score 0..1: closeness of log price (half) and share of equal attribute values (half)."""
    price_gap = np.abs(np.log(pool["list_price"].astype(float)) - np.log(float(product["list_price"])))
    price_score = np.exp(-2.0 * price_gap)
    mine = _attributes(product.get("attributes"))
    if mine and "attributes" in pool:
        shared = pool["attributes"].map(
            lambda text: sum(_attributes(text).get(key) == value for key, value in mine.items()) / len(mine)
        )
        return 0.5 * price_score + 0.5 * shared.astype(float)
    return price_score


def _attributes(text: object) -> dict[str, object]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _rescale(curve: np.ndarray, early: pd.DataFrame, launch: pd.Timestamp) -> np.ndarray:
    if early.empty:
        return curve
    daily = early.assign(ds=pd.to_datetime(early["ds"])).groupby("ds")["units"].sum()  # all locations
    age = (pd.DatetimeIndex(daily.index) - launch).days.to_numpy()
    seen = (age >= 0) & (age < len(curve))
    expected = curve[age[seen]].sum()
    if expected <= 0:
        return curve
    return curve * float(daily.to_numpy()[seen].sum()) / expected
