"""Units a product will sell after launch, from its specification alone, learnt from past launches.

A C2M product is specified before it exists: partner, category, list price, attributes, launch
day and channels. Every launch the store knows whose first ``horizon`` days ended before the
as-of day is one training example: its features are what was known on its own launch day
(:mod:`cpfr.c2m.launch_features`), its target log(1 + units over its first ``horizon`` days).
Three models read those launches — a log-linear model with empirical-Bayes shrunk category,
partner and attribute effects, analogues weighted by similarity and recency, and the shrunk
category mean — and are stacked with convex weights chosen by forward-chaining cross
validation on the earlier launches only (:mod:`cpfr.c2m.launch_models`).

Intervals are honest about the small number of launches: the empirical quantiles of the
stack's out-of-fold log errors are added to the prediction, q_p = exp(f(x) + e_p) - 1. The mean
is the smearing estimate mean(exp(f(x) + e_i)) - 1 (Duan 1983). The daily curve is the
category's average launch-curve shape scaled to each total. The brand's existing SKUs in the
same cell lose an estimated share of their units to the new one
(:mod:`cpfr.c2m.cannibalisation`).

Only sales dated before the as-of day are read; products' master data (category, price,
attributes, launch day) is what a planner knows in advance.

References
----------
Duan (1983), "Smearing estimate: a nonparametric retransformation method", JASA 78(383).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from cpfr.c2m.launch_features import LaunchData
from cpfr.c2m.launch_models import MODEL_NAMES, StackedLaunchModel
from cpfr.data.store import Store
from cpfr.documents import read_document, validated
from cpfr.exceptions import InputError

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
MIN_LAUNCHES = 3
"""Fewest finished launches to learn from: fewer and there is no spread of errors to speak of."""


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
    data = LaunchData.read(store, as_of)
    data.check(spec.partner_id, spec.category_id, spec.channels)
    history = data.history(horizon_days)
    if len(history) < MIN_LAUNCHES:
        raise InputError(
            f"as of {as_of}: {len(history)} launches had {horizon_days} days of sales before it, "
            f"at least {MIN_LAUNCHES} are needed — there is nothing to learn from"
        )
    product = {
        "sku_id": "__spec__",
        "partner_id": spec.partner_id,
        "category_id": spec.category_id,
        "list_price": spec.list_price,
        "launch_date": pd.Timestamp(spec.launch_date),
        "attributes": json.dumps(spec.attributes),
    }
    model = StackedLaunchModel(horizon_days=horizon_days).fit(history)
    log_prediction = float(model.predict(data.spec_row(product, spec.channels))[0])
    errors = model.residuals_
    totals = np.expm1(log_prediction + errors).clip(min=0.0)
    quantiles = {
        f"q{level!r}": float(max(np.expm1(log_prediction + np.quantile(errors, level)), 0.0))
        for level in QUANTILES
    }
    units = float(totals.mean())
    shape = data.shape(spec.category_id, history)
    dates = pd.date_range(pd.Timestamp(spec.launch_date), periods=horizon_days, freq="D")
    daily = pd.DataFrame({"ds": dates, "age": np.arange(horizon_days), "mean": units * shape})
    for name, value in quantiles.items():
        daily[name] = value * shape
    weights = ", ".join(
        f"{weight:.1f} {name}" for name, weight in zip(MODEL_NAMES, model.weights_, strict=True) if weight > 0
    )
    method = f"stack of {weights} (weights out of fold), out-of-fold quantiles"
    cannibalisation = _cannibalisation(data, spec, history, horizon_days, units)
    return SpecForecast(units, quantiles, daily, horizon_days, as_of, len(history), method, cannibalisation)


def _cannibalisation(
    data: LaunchData, spec: LaunchSpec, history: pd.DataFrame, horizon_days: int, units: float
) -> Cannibalisation:
    """Estimate the spec's take from its cell, the share learnt from the finished launches' cell mates."""
    launches = data.products.set_index("sku_id").loc[history.index].reset_index()
    effects = launch_effects(data.products, data.daily, launches, horizon_days)
    as_of = pd.Timestamp(data.as_of)
    mates = cell_mates(data.on_sale(as_of), spec.partner_id, spec.category_id, spec.list_price)
    recent = data.daily[
        data.daily["sku_id"].isin(mates) & (data.daily["ds"] >= as_of - pd.Timedelta(days=BEFORE_DAYS))
    ]
    mates_rate = float(recent["units"].sum()) / BEFORE_DAYS
    return estimate_cannibalisation(effects, mates_rate, len(mates), horizon_days, units)
