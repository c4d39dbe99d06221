"""The brands' own forecasts in the demo: weekly SKU x channel, with known injected discrepancies.

Every partner submits weekly forecasts per SKU and channel: for the last 26
weeks of history (so each side's accuracy can be measured) and for the 8
weeks after it (the ones the CPFR cycle reconciles). A submission is the
true expected demand of the week times the partner's own bias (brands lean
optimistic: a factor in 0.95-1.15) times a lognormal error (sigma 0.25).
Into the future weeks two kinds of known discrepancy are injected, and
listed in the truth so an exception list can be scored:

- ``discrepancy``: about 3 % of the material rows (>= 5 units a week
  expected) multiplied by 2.5 or by 0.35;
- ``promotion_miss``: in the week of a promotion peak (Double 11), about
  10 % of the material rows forecast as if there were no promotion
  (expected demand divided by 2.2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

PAST_WEEKS = 26
FUTURE_WEEKS = 8
ERROR_SIGMA = 0.25
BIAS_RANGE = (0.95, 1.15)
MATERIAL_UNITS = 5.0
DISCREPANCY_SHARE = 0.03
DISCREPANCY_FACTORS = (2.5, 0.35)
PROMOTION_MISS_SHARE = 0.10
PROMOTION_UPLIFT = 2.2


def partner_forecast_window(history_end: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first Monday of the past weeks submitted and the Monday after the last future week."""
    first_future = pd.Timestamp(history_end) + pd.offsets.Week(weekday=0)
    return first_future - pd.Timedelta(weeks=PAST_WEEKS), first_future + pd.Timedelta(weeks=FUTURE_WEEKS)


def build_partner_forecasts(
    rng: np.random.Generator,
    products: pd.DataFrame,
    locations: pd.DataFrame,
    mean: pd.DataFrame,
    history_end: dt.date,
    events: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, float]]:
    """Return the ``partner_forecasts`` table, the injected discrepancies and each partner's bias.

    ``mean`` is the true expected demand per day: ``date, sku_id, location_id, demand_mean``
    for the days from 26 weeks before ``history_end`` to 8 weeks after it.
    """
    first_future = pd.Timestamp(history_end) + pd.offsets.Week(weekday=0)
    first_past = first_future - pd.Timedelta(weeks=PAST_WEEKS)
    frame = mean.assign(
        channel_id=mean["location_id"].map(locations.set_index("location_id")["channel_id"]).astype(str),
        ds=pd.to_datetime(mean["date"]).dt.to_period("W-SUN").dt.start_time,
    )
    frame = frame[
        (frame["ds"] >= first_past) & (frame["ds"] < first_future + pd.Timedelta(weeks=FUTURE_WEEKS))
    ]
    weekly = frame.groupby(["sku_id", "channel_id", "ds"], as_index=False, observed=True)["demand_mean"].sum()
    weekly = weekly[weekly["demand_mean"] >= 0.5].reset_index(drop=True)
    weekly["sku_id"] = weekly["sku_id"].astype(str)
    weekly["partner_id"] = weekly["sku_id"].map(products.set_index("sku_id")["partner_id"])
    partners = sorted(weekly["partner_id"].unique())
    bias = {partner: float(rng.uniform(*BIAS_RANGE)) for partner in partners}
    noise = rng.lognormal(-(ERROR_SIGMA**2) / 2, ERROR_SIGMA, len(weekly))
    units = weekly["demand_mean"].to_numpy() * weekly["partner_id"].map(bias).to_numpy() * noise
    future = (weekly["ds"] >= first_future).to_numpy()
    material = future & (weekly["demand_mean"].to_numpy() >= MATERIAL_UNITS)
    injections: list[dict[str, Any]] = []
    peaks = _peak_weeks(events, first_future)
    in_peak = weekly["ds"].isin(peaks).to_numpy()
    for row in np.flatnonzero(material & in_peak & (rng.random(len(weekly)) < PROMOTION_MISS_SHARE)):
        units[row] = weekly["demand_mean"].iloc[row] / PROMOTION_UPLIFT
        injections.append(_injection(weekly.iloc[row], "promotion_miss", 1 / PROMOTION_UPLIFT))
    for row in np.flatnonzero(material & ~in_peak & (rng.random(len(weekly)) < DISCREPANCY_SHARE)):
        factor = float(rng.choice(DISCREPANCY_FACTORS))
        units[row] = weekly["demand_mean"].iloc[row] * factor
        injections.append(_injection(weekly.iloc[row], "discrepancy", factor))
    table = pd.DataFrame(
        {
            "partner_id": weekly["partner_id"],
            "sku_id": weekly["sku_id"],
            "channel_id": weekly["channel_id"],
            "ds": weekly["ds"],
            "units": np.round(units, 1),
            "submitted_on": (weekly["ds"] - pd.Timedelta(days=7)).where(~future, pd.Timestamp(history_end)),
        }
    )
    for item in injections:
        item.pop("row")
    return table, injections, bias


def _peak_weeks(events: pd.DataFrame, first_future: pd.Timestamp) -> set[pd.Timestamp]:
    """Mondays of the weeks holding a promotion's peak day, from the first future week on."""
    promotions = events[events["kind"] == "promotion"]
    peaks = pd.to_datetime(promotions["peak_date"].fillna(promotions["end_date"]))
    weeks = peaks.dt.to_period("W-SUN").dt.start_time
    return {week for week in weeks if week >= first_future}


def _injection(row: pd.Series, kind: str, factor: float) -> dict[str, Any]:
    return {
        "row": int(row.name),  # type: ignore[call-overload]
        "partner_id": str(row["partner_id"]),
        "sku_id": str(row["sku_id"]),
        "channel_id": str(row["channel_id"]),
        "ds": row["ds"].date().isoformat(),
        "kind": kind,
        "factor": round(factor, 4),
    }
