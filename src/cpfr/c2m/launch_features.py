"""What a planner knows about a launch on its launch day: the store before ``as_of``, as features.

:class:`LaunchData` reads the store once, cut at the as-of day (sales dated on or after it are
dropped here, whatever the store's own bound does), and describes every finished launch — and
the spec — by what was known on its own launch day:

- ``category``, ``partner`` and the frequent ``attributes`` values;
- ``rel_price``: log list price minus the mean log list price of the category's SKUs on sale
  that day (the price position within the category's price distribution, scale-free across
  categories);
- ``kind_*``: the kinds of channel it sells through (platform online, platform offline, brand
  stores);
- ``momentum``: log change of the category's units per selling SKU-day over the last 28 days
  against the 28 before (recent category trend);
- ``log_competitors``: log(1 + SKUs of the category on sale that day) (crowding).

The target of a finished launch is log(1 + units over its first ``horizon`` days).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.forecast.launch import launch_curves

CHANNEL_KINDS = ("platform_online", "platform_offline", "brand_store")
MOMENTUM_DAYS = 28
"""Days in each of the two windows whose units per selling SKU-day the momentum compares."""
NUMERIC_FEATURES = ("rel_price", *(f"kind_{kind}" for kind in CHANNEL_KINDS), "momentum", "log_competitors")


@dataclass
class LaunchData:
    """The store as known before ``as_of``: products, categories, channels and daily sales per SKU.

    Attributes
    ----------
    curves : pandas.DataFrame
        Units by day since launch of the finished launches, set by :meth:`history`.
    """

    as_of: dt.date
    products: pd.DataFrame
    parents: dict[str, str]
    channel_kinds: dict[str, str]
    daily: pd.DataFrame
    kinds_sold: dict[str, set[str]]
    category_daily: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def read(cls, store: Store, as_of: dt.date) -> LaunchData:
        """Read the products, categories, channels and the sales dated before ``as_of``."""
        products = store.read_table("products")
        products = products.assign(
            launch_date=pd.to_datetime(products["launch_date"]),
            end_date=pd.to_datetime(products["end_date"]),
            sku_id=products["sku_id"].astype(str),
            category_id=products["category_id"].astype(str),
            partner_id=products["partner_id"].astype(str),
        )
        categories = store.read_table("categories")
        parents = {
            str(row.category_id): str(row.parent_id) if isinstance(row.parent_id, str) else ""
            for row in categories.itertuples()
        }
        channels = store.read_table("channels")
        channel_kinds = dict(
            zip(channels["channel_id"].astype(str), channels["kind"].astype(str), strict=True)
        )
        sales = store.read_table("sales", end=as_of - dt.timedelta(days=1))
        sales = sales[pd.to_datetime(sales["date"]) < pd.Timestamp(as_of)]  # the bound, whatever the store
        daily = (
            sales.assign(ds=pd.to_datetime(sales["date"]), sku_id=sales["sku_id"].astype(str))
            .groupby(["sku_id", "ds"], observed=True)["units"]
            .sum()
            .reset_index()
        )
        locations = store.read_table("locations")[["location_id", "channel_id"]]
        sold_in = sales[["sku_id", "location_id"]].drop_duplicates().merge(locations, on="location_id")
        kinds_sold: dict[str, set[str]] = {}
        for sku_id, channel_id in zip(sold_in["sku_id"], sold_in["channel_id"], strict=True):
            kinds_sold.setdefault(str(sku_id), set()).add(channel_kinds.get(str(channel_id), ""))
        category_of = products.set_index("sku_id")["category_id"]
        selling = daily[daily["units"] > 0].assign(category_id=lambda frame: frame["sku_id"].map(category_of))
        category_daily = selling.groupby(["category_id", "ds"]).agg(
            units=("units", "sum"), skus=("sku_id", "nunique")
        )
        return cls(as_of, products, parents, channel_kinds, daily, kinds_sold, category_daily)

    def check(self, partner_id: str, category_id: str, channels: list[str]) -> None:
        """Raise an InputError naming the spec field whose id the store does not know."""
        for name, value, known in (
            ("partner_id", partner_id, set(self.products["partner_id"])),
            ("category_id", category_id, set(self.parents)),
        ):
            if value not in known:
                raise InputError(f"SPEC: {name}: unknown {value!r}, known: {', '.join(sorted(known))}")
        for channel in channels:
            if channel not in self.channel_kinds:
                raise InputError(
                    f"SPEC: channels: unknown {channel!r}, known: {', '.join(sorted(self.channel_kinds))}"
                )

    def history(self, horizon_days: int) -> pd.DataFrame:
        """One row per finished launch, by launch day: its features, ``units`` and ``target``."""
        if self.daily.empty:
            return pd.DataFrame()
        self.curves = launch_curves(self.daily, self.products, days=horizon_days)
        launched = self.products.set_index("sku_id").loc[self.curves.index].reset_index()
        launched = launched.assign(units=self.curves.sum(axis=1).to_numpy())
        launched = launched.sort_values(["launch_date", "sku_id"])
        rows = [
            self.features(product, self.kinds_sold.get(str(product["sku_id"]), set()))
            for product in launched.to_dict("records")
        ]
        frame = pd.DataFrame(rows, index=launched["sku_id"].to_numpy())
        frame["units"] = launched["units"].to_numpy()
        frame["target"] = np.log1p(frame["units"])
        return frame

    def spec_row(self, product: dict[str, Any], channels: list[str]) -> pd.DataFrame:
        """Return the spec's features, its channels' kinds standing for where it sells."""
        kinds = {self.channel_kinds[channel] for channel in channels}
        return pd.DataFrame([self.features(product, kinds)])

    def on_sale(self, day: pd.Timestamp) -> pd.DataFrame:
        """Products launched before ``day`` and not ended before it."""
        products = self.products
        ended = products["end_date"].notna() & (products["end_date"] < day)
        return products[(products["launch_date"] < day) & ~ended]

    def features(self, product: dict[Any, Any], kinds: set[str]) -> dict[str, Any]:
        """Features of one launch from what was known on its launch day."""
        launch = pd.Timestamp(product["launch_date"])
        category = str(product["category_id"])
        peers = self.on_sale(launch)
        peers = peers[peers["category_id"] == category]
        log_price = float(np.log(float(product["list_price"])))
        features: dict[str, Any] = {
            "launch_date": launch,
            "category": category,
            "parent": self.parents.get(category, ""),
            "partner": str(product["partner_id"]),
            "rel_price": log_price - float(np.log(peers["list_price"].astype(float)).mean())
            if len(peers)
            else 0.0,
            "momentum": self._momentum(category, launch),
            "log_competitors": float(np.log1p(len(peers))),
            "attributes": attribute_values(product.get("attributes")),
        }
        for kind in CHANNEL_KINDS:
            features[f"kind_{kind}"] = float(kind in kinds)
        return features

    def _momentum(self, category: str, day: pd.Timestamp) -> float:
        if category not in self.category_daily.index.get_level_values(0):
            return 0.0
        frame = self.category_daily.loc[category]
        recent = frame[(frame.index < day) & (frame.index >= day - pd.Timedelta(days=MOMENTUM_DAYS))]
        before = frame[
            (frame.index < day - pd.Timedelta(days=MOMENTUM_DAYS))
            & (frame.index >= day - pd.Timedelta(days=2 * MOMENTUM_DAYS))
        ]
        if len(recent) < MOMENTUM_DAYS // 2 or len(before) < MOMENTUM_DAYS // 2:
            return 0.0
        rate = recent["units"].sum() / recent["skus"].sum()
        earlier = before["units"].sum() / before["skus"].sum()
        return float(np.log(rate / earlier)) if rate > 0 and earlier > 0 else 0.0

    def shape(self, category: str, history: pd.DataFrame) -> np.ndarray:
        """Return the category's average launch curve as shares of its total (all launches' if none)."""
        curves = self.curves
        totals = curves.sum(axis=1)
        curves = curves[totals > 0].div(totals[totals > 0], axis=0)
        same = [sku for sku in curves.index if history.loc[sku, "category"] == category]
        chosen = curves.loc[same] if same else curves
        if chosen.empty:
            return np.full(curves.shape[1], 1.0 / curves.shape[1])
        mean = chosen.mean(axis=0).to_numpy()
        return np.asarray(mean / mean.sum(), dtype=float)


def attribute_values(text: object) -> list[str]:
    """``key=value`` strings of a products.attributes JSON object (none when it is not one)."""
    if isinstance(text, dict):
        return [f"{key}={value}" for key, value in text.items()]
    if not isinstance(text, str) or not text:
        return []
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return []
    return [f"{key}={value}" for key, value in parsed.items()] if isinstance(parsed, dict) else []
