"""Units a product will sell after launch, from its specification alone, learnt from past launches.

A C2M product is specified before it exists: partner, category, list price, attributes, launch
day and channels. Every launch the store knows whose first ``horizon`` days ended before the
as-of day is one training example: its features are what its own specification said, its target
log(1 + units over its first ``horizon`` days). The baseline is the analogue forecast of
:mod:`cpfr.forecast.launch` (Goodwin et al. 2013) averaged with the category's mean launch, both as
known on each launch's day; one global gradient-boosted regressor (Ke et al. 2017) learns the
baseline's error from the features, and the share of its correction applied is chosen out of
fold, so with few launches the forecast stays close to the baseline.

Intervals are honest about the small number of launches: launches are ordered by launch day and
each block is predicted by a model fitted on the launches before it (forward-chaining cross
validation); the empirical quantiles of those out-of-fold log errors are added to the prediction,
q_p = exp(f(x) + e_p) - 1. The mean is the smearing estimate mean(exp(f(x) + e_i)) - 1 (Duan
1983). The daily curve is the category's average launch-curve shape scaled to each total. The
brand's existing SKUs in the same cell lose an estimated share of their units to the new one
(:mod:`cpfr.c2m.cannibalisation`).

Only sales dated before the as-of day are read; products' master data (category, price,
attributes, launch day) is what a planner knows in advance.

References
----------
Ke, Meng, Finley, Wang, Chen, Ma, Ye & Liu (2017), "LightGBM: a highly efficient gradient boosting
decision tree", NeurIPS 30.
Goodwin, Dyussekeneva & Meeran (2013), "The use of analogies in forecasting the annual sales of new
electronics products", IMA Journal of Management Mathematics 24(4).
Duan (1983), "Smearing estimate: a nonparametric retransformation method", JASA 78(383).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cpfr.c2m.cannibalisation import (
    BEFORE_DAYS,
    Cannibalisation,
    cell_mates,
    estimate_cannibalisation,
    launch_effects,
)
from cpfr.data.store import Store
from cpfr.documents import read_document, validated
from cpfr.exceptions import InputError
from cpfr.forecast.launch import analogue_forecast, launch_curves

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
CHANNEL_KINDS = ("platform_online", "platform_offline", "brand_store")
MIN_LAUNCHES = 3
"""Fewest finished launches to learn from: fewer and there is no spread of errors to speak of."""
MIN_ATTRIBUTE_LAUNCHES = 3
"""An attribute value becomes a feature when at least this many training launches have it."""
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Shares of the boosted correction applied to the baseline, chosen on out-of-fold error."""
FOLDS = 5


class LaunchSpec(BaseModel):
    """A product to launch, as a planner specifies it (a JSON or YAML file).

    Attributes
    ----------
    partner_id, category_id : str
        The brand partner and the leaf category, as in the store.
    list_price : float
        List price in yuan.
    attributes : dict
        Attribute values (``{"colour": "black", "storage_gb": 256}``), as in products.attributes.
    launch_date : datetime.date
        First day on sale.
    channels : list of str
        Channel ids it will sell through.
    """

    model_config = ConfigDict(extra="forbid")

    partner_id: str = Field(min_length=1)
    category_id: str = Field(min_length=1)
    list_price: float = Field(gt=0, le=10_000_000)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    launch_date: dt.date
    channels: list[str] = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class SpecForecast:
    """Units expected over the first ``horizon_days`` days of a specified product.

    Attributes
    ----------
    units : float
        Expected units (smearing mean).
    quantiles : dict of str to float
        ``q0.05`` .. ``q0.95`` of the units.
    daily : pandas.DataFrame
        ``ds, age, mean, q0.05 .. q0.95`` per day.
    horizon_days : int
    as_of : datetime.date
    launches_learnt_from : int
    method : str
    cannibalisation : Cannibalisation
        Units taken from the brand's existing SKUs in the same cell.
    """

    units: float
    quantiles: dict[str, float]
    daily: pd.DataFrame
    horizon_days: int
    as_of: dt.date
    launches_learnt_from: int
    method: str
    cannibalisation: Cannibalisation

    def summary(self) -> dict[str, Any]:
        """One JSON-ready object: units, quantiles, horizon, as-of, launches, method, cannibalisation."""
        return {
            "units": self.units,
            **self.quantiles,
            "horizon_days": self.horizon_days,
            "as_of": self.as_of.isoformat(),
            "launches_learnt_from": self.launches_learnt_from,
            "method": self.method,
            "cell_skus": self.cannibalisation.cell_skus,
            "cannibalised_share": self.cannibalisation.share,
            "cannibalised_units": self.cannibalisation.units,
        }


def read_spec(path: Path) -> LaunchSpec:
    """Read and validate a spec file; problems are ``file: field: what is wrong`` InputErrors."""
    return validated(LaunchSpec, read_document(path), str(path))


def spec_forecast(store: Store, spec: LaunchSpec, *, as_of: dt.date, horizon_days: int) -> SpecForecast:
    """Forecast ``spec`` over ``horizon_days`` days from launches whose window ended before ``as_of``.

    Raises
    ------
    InputError
        An unknown partner, category or channel; or fewer than ``MIN_LAUNCHES`` launches to learn from.
    """
    if not 1 <= horizon_days <= 730:
        raise InputError(f"--horizon {horizon_days}: expected days between 1 and 730")
    as_of = pd.Timestamp(as_of).date()
    context = _Context.read(store, as_of)
    context.check(spec)
    history = context.history(horizon_days)
    if len(history) < MIN_LAUNCHES:
        raise InputError(
            f"as of {as_of}: {len(history)} launches had {horizon_days} days of sales before it, "
            f"at least {MIN_LAUNCHES} are needed — there is nothing to learn from"
        )
    new = context.spec_row(spec, history, horizon_days)
    model = _LaunchModel().fit(history)
    log_prediction = float(model.predict(new)[0])
    errors = model.residuals_
    totals = np.expm1(log_prediction + errors).clip(min=0.0)
    quantiles = {
        f"q{level!r}": float(max(np.expm1(log_prediction + np.quantile(errors, level)), 0.0))
        for level in QUANTILES
    }
    units = float(totals.mean())
    shape = context.shape(spec.category_id, history)
    dates = pd.date_range(pd.Timestamp(spec.launch_date), periods=horizon_days, freq="D")
    daily = pd.DataFrame({"ds": dates, "age": np.arange(horizon_days), "mean": units * shape})
    for name, value in quantiles.items():
        daily[name] = value * shape
    method = f"analogue/category baseline + {model.weight_:.2f} x lightgbm correction, out-of-fold quantiles"
    cannibalisation = context.cannibalisation(spec, horizon_days, units)
    return SpecForecast(units, quantiles, daily, horizon_days, as_of, len(history), method, cannibalisation)


@dataclass
class _Context:
    """The store as known before ``as_of``: products, categories, channels and daily sales per SKU."""

    as_of: dt.date
    products: pd.DataFrame
    parents: dict[str, str]
    channel_kinds: dict[str, str]
    daily: pd.DataFrame
    kinds_sold: dict[str, set[str]]
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    launched: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def read(cls, store: Store, as_of: dt.date) -> _Context:
        before = as_of - dt.timedelta(days=1)
        products = store.read_table("products")
        products = products.assign(launch_date=pd.to_datetime(products["launch_date"]))
        categories = store.read_table("categories")
        parents = {
            str(row.category_id): str(row.parent_id) if isinstance(row.parent_id, str) else ""
            for row in categories.itertuples()
        }
        channels = store.read_table("channels")
        channel_kinds = dict(
            zip(channels["channel_id"].astype(str), channels["kind"].astype(str), strict=True)
        )
        sales = store.read_table("sales", end=before)
        sales = sales[pd.to_datetime(sales["date"]) < pd.Timestamp(as_of)]  # the bound, whatever the store
        daily = (
            sales.assign(ds=pd.to_datetime(sales["date"]))
            .groupby(["sku_id", "ds"], observed=True)["units"]
            .sum()
            .reset_index()
        )
        locations = store.read_table("locations")[["location_id", "channel_id"]]
        sold_in = sales[["sku_id", "location_id"]].drop_duplicates().merge(locations, on="location_id")
        kinds_sold: dict[str, set[str]] = {}
        for sku_id, channel_id in zip(sold_in["sku_id"], sold_in["channel_id"], strict=True):
            kinds_sold.setdefault(str(sku_id), set()).add(channel_kinds.get(str(channel_id), ""))
        return cls(as_of, products, parents, channel_kinds, daily, kinds_sold)

    def check(self, spec: LaunchSpec) -> None:
        for name, value, known in (
            ("partner_id", spec.partner_id, set(self.products["partner_id"].astype(str))),
            ("category_id", spec.category_id, set(self.parents)),
        ):
            if value not in known:
                raise InputError(f"SPEC: {name}: unknown {value!r}, known: {', '.join(sorted(known))}")
        for channel in spec.channels:
            if channel not in self.channel_kinds:
                raise InputError(
                    f"SPEC: channels: unknown {channel!r}, known: {', '.join(sorted(self.channel_kinds))}"
                )

    def history(self, horizon_days: int) -> pd.DataFrame:
        """One row per finished launch: its features and ``target`` = log(1 + units over the window)."""
        if self.daily.empty:
            return pd.DataFrame()
        curves = launch_curves(self.daily, self.products, days=horizon_days)
        launched = self.products.set_index("sku_id").loc[curves.index].reset_index()
        launched = launched.assign(units=curves.sum(axis=1).to_numpy()).sort_values(["launch_date", "sku_id"])
        rows = [self._features(product, launched, horizon_days) for product in launched.to_dict("records")]
        frame = pd.DataFrame(rows, index=launched["sku_id"].to_numpy())
        frame["target"] = np.log1p(launched["units"].to_numpy())
        frame["launch_date"] = launched["launch_date"].to_numpy()
        self.curves, self.launched = curves, launched
        return frame

    def spec_row(self, spec: LaunchSpec, history: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
        launched = self.launched
        product = {
            "sku_id": "__spec__",
            "partner_id": spec.partner_id,
            "category_id": spec.category_id,
            "list_price": spec.list_price,
            "launch_date": pd.Timestamp(spec.launch_date),
            "attributes": json.dumps(spec.attributes),
            "kinds": {self.channel_kinds[channel] for channel in spec.channels},
        }
        return pd.DataFrame([self._features(product, launched, horizon_days)])

    def _features(self, product: dict[Any, Any], launched: pd.DataFrame, horizon_days: int) -> dict[str, Any]:
        """Features of one launch from what was known on its launch day (earlier finished launches)."""
        launch = pd.Timestamp(product["launch_date"])
        category = str(product["category_id"])
        earlier = launched[launched["launch_date"] + pd.Timedelta(days=horizon_days) <= launch]
        same = earlier[earlier["category_id"] == category]
        peers = self.products[self.products["category_id"] == category]["list_price"].astype(float)
        price = float(product["list_price"])
        kinds = product.get("kinds", self.kinds_sold.get(str(product["sku_id"]), set()))
        features: dict[str, Any] = {
            "category": category,
            "parent": self.parents.get(category, ""),
            "partner": str(product["partner_id"]),
            "log_price": np.log(price),
            "price_position": float(
                ((peers < price).sum() + 0.5 * (peers == price).sum()) / max(len(peers), 1)
            ),
            "channel_kinds": len(kinds),
            "month": launch.month,
            "category_mean": float(np.log1p(same["units"].mean())) if len(same) else np.nan,
            "all_mean": float(np.log1p(earlier["units"].mean())) if len(earlier) else np.nan,
            "analogue": self._analogue(product, earlier, horizon_days),
            "attributes": _attribute_values(product.get("attributes")),
        }
        for kind in CHANNEL_KINDS:
            features[f"kind_{kind}"] = float(kind in kinds)
        return features

    def _analogue(self, product: dict[Any, Any], earlier: pd.DataFrame, horizon_days: int) -> float:
        if earlier.empty:
            return np.nan
        new = pd.DataFrame(
            [{key: product[key] for key in ("sku_id", "category_id", "list_price", "launch_date")}]
        )
        new["attributes"] = product.get("attributes")
        daily = self.daily[self.daily["sku_id"].isin(earlier["sku_id"])]
        result = analogue_forecast(new, earlier.drop(columns="units"), daily, days=horizon_days)
        return float(np.log1p(result.forecast["mean"].sum())) if not result.forecast.empty else np.nan

    def cannibalisation(self, spec: LaunchSpec, horizon_days: int, units: float) -> Cannibalisation:
        """Estimate the spec's take from its cell, the share learnt from the finished launches."""
        products = self.products.assign(end_date=pd.to_datetime(self.products["end_date"]))
        effects = launch_effects(products, self.daily, self.launched, horizon_days)
        as_of = pd.Timestamp(self.as_of)
        on_sale = products[
            (products["launch_date"] < as_of)
            & (products["end_date"].isna() | (products["end_date"] >= as_of))
        ]
        mates = cell_mates(on_sale, spec.partner_id, spec.category_id, spec.list_price)
        recent = self.daily[
            self.daily["sku_id"].isin(mates) & (self.daily["ds"] >= as_of - pd.Timedelta(days=BEFORE_DAYS))
        ]
        mates_rate = float(recent["units"].sum()) / BEFORE_DAYS
        return estimate_cannibalisation(effects, mates_rate, len(mates), horizon_days, units)

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
        return mean / mean.sum()


def _attribute_values(text: object) -> list[str]:
    if not isinstance(text, str) or not text:
        return []
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return []
    return [f"{key}={value}" for key, value in parsed.items()] if isinstance(parsed, dict) else []


class _LaunchModel:
    """LightGBM correcting the analogue/category baseline, its weight and residuals out of fold.

    The baseline is the mean of the analogue forecast and the category's average launch (log
    scale), whichever exist, else the average of all earlier launches. The boosted trees learn the
    baseline's error from the features; the share of that correction applied (``weight_``, one of
    ``BLEND_WEIGHTS``) is the one with the least out-of-fold median absolute log error, so with
    few launches, or features that say nothing, the forecast stays the baseline.
    """

    def fit(self, history: pd.DataFrame) -> _LaunchModel:
        counts = pd.Series([value for values in history["attributes"] for value in values]).value_counts()
        self.attributes_ = sorted(counts[counts >= MIN_ATTRIBUTE_LAUNCHES].index.astype(str))
        self.levels_ = {
            column: sorted(history[column].unique()) for column in ("category", "parent", "partner")
        }
        target = history["target"].to_numpy()
        self.fallback_ = float(target[: min(MIN_LAUNCHES, len(target))].mean())
        baseline = self._baseline(history)
        correction = target - baseline
        matrix = self._matrix(history)
        boosted = np.full(len(history), np.nan)
        start = max(MIN_LAUNCHES, len(history) // 3)
        for block in np.array_split(np.arange(start, len(history)), min(FOLDS, max(len(history) - start, 1))):
            if len(block) == 0:
                continue
            fold = _regressor().fit(matrix[: block[0]], correction[: block[0]])
            boosted[block] = fold.predict(matrix[block])
        scored = ~np.isnan(boosted)
        if scored.sum() < MIN_LAUNCHES:
            # too few launches to hold any out: the baseline alone, its errors as the spread
            self.weight_ = 0.0
            self.residuals_ = correction
        else:
            self.weight_ = min(
                BLEND_WEIGHTS,
                key=lambda weight: float(np.median(np.abs(correction[scored] - weight * boosted[scored]))),
            )
            self.residuals_ = correction[scored] - self.weight_ * boosted[scored]
        self.model_ = _regressor().fit(matrix, correction)
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        boosted = np.asarray(self.model_.predict(self._matrix(rows)), dtype=float)
        return np.asarray(self._baseline(rows) + self.weight_ * boosted, dtype=float)

    def _baseline(self, rows: pd.DataFrame) -> np.ndarray:
        with np.errstate(all="ignore"):
            both = rows[["analogue", "category_mean"]].to_numpy(dtype=float)
            counted = (~np.isnan(both)).sum(axis=1)
            mean = np.where(counted > 0, np.nansum(both, axis=1) / np.maximum(counted, 1), np.nan)
        mean = np.where(np.isnan(mean), rows["all_mean"].to_numpy(dtype=float), mean)
        return np.where(np.isnan(mean), self.fallback_, mean)

    def _matrix(self, rows: pd.DataFrame) -> np.ndarray:
        numeric = [
            "log_price",
            "price_position",
            "channel_kinds",
            "month",
            "category_mean",
            "all_mean",
            "analogue",
        ]
        numeric += [f"kind_{kind}" for kind in CHANNEL_KINDS]
        parts = [rows[numeric].to_numpy(dtype=float)]
        for column, levels in self.levels_.items():
            parts.append(np.column_stack([(rows[column] == level).to_numpy(dtype=float) for level in levels]))
        if self.attributes_:
            parts.append(
                np.array(
                    [[float(value in values) for value in self.attributes_] for values in rows["attributes"]]
                )
            )
        return np.hstack(parts)


def _regressor() -> lgb.LGBMRegressor:
    # Tens of launches: stumps of four leaves, eight launches a leaf, few slow rounds and an L1 loss
    # (a launch that sold ten times its category's average must not drag every correction); one
    # deterministic thread order. Looser settings (31 leaves, L2) corrected the baseline out of
    # fold but lost to it on the demo's later launches (benchmarks/launch.py).
    return lgb.LGBMRegressor(
        objective="l1",
        n_estimators=40,
        learning_rate=0.05,
        num_leaves=4,
        min_child_samples=8,
        min_data_in_bin=1,
        reg_lambda=5.0,
        verbosity=-1,
        n_jobs=1,
        random_state=0,
        deterministic=True,
        force_row_wise=True,
    )
