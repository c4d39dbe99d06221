"""A plan's results in the store, and the latest plan's platform forecast read back.

``cpfr plan`` writes everything one cycle produced — the weekly platform forecast and its
backtest accuracy, target tracking and attainment, gaps, exceptions, consensus, the order
forecast, tomorrow's network orders and the KPIs — in ONE transaction, each row carrying the
run that made it (tables ``plan_*``, ``forecasts``, ``forecast_runs``, ``forecast_accuracy``).
A later ``collab exceptions``, ``consensus``, ``override`` or ``report kpis`` reads the latest
plan's forecast of the partner's SKUs instead of forecasting every partner again, as long as no
sales arrived after the plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd

from cpfr.collab.compare import (
    HIGH,
    KEYS,
    LOW,
    PLATFORM_HIGH,
    PLATFORM_LOW,
    WEEKLY_MODELS,
    PlatformForecast,
    platform_forecast,
)
from cpfr.data import schema
from cpfr.data.store import Store

# PlatformForecast.accuracy's columns under the store's names (forecast_accuracy).
_ACCURACY_NAMES = {
    "platform_sd": "log_ratio_sd",
    "platform_bias": "log_ratio_median",
    "platform_wape": "wape",
    "miss": "abs_error",
    "error": "error",
    "actual": "actual",
}


def new_run_id(prefix: str, now: dt.datetime) -> str:
    """Return a run id such as ``P-20261130T101500-3fa2c1``: time first, so ids sort by creation."""
    return f"{prefix}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def plan_tables(
    run_id: str,
    now: dt.datetime,
    *,
    as_of: dt.date,
    weeks: int,
    platform: PlatformForecast,
    targets: pd.DataFrame,
    gaps: pd.DataFrame,
    exceptions: pd.DataFrame,
    consensus: pd.DataFrame,
    order_forecast: pd.DataFrame,
    network_orders: pd.DataFrame | None,
    kpis: pd.DataFrame,
    stage_seconds: dict[str, float],
    notes: list[str],
) -> dict[str, pd.DataFrame]:
    """Return the store's tables of one plan run, in the order they must be written."""
    forecast_run = new_run_id("W", now)
    weekly = platform.weekly
    tables: dict[str, pd.DataFrame] = {
        "forecasts": pd.DataFrame(
            {
                "run_id": forecast_run,
                "unique_id": weekly["sku_id"].astype(str) + "@" + weekly["channel_id"].astype(str),
                "ds": pd.to_datetime(weekly["ds"]).dt.date,
                "sku_id": weekly["sku_id"],
                "channel_id": weekly["channel_id"],
                "mean": weekly["platform"].clip(lower=0),
                LOW: weekly[PLATFORM_LOW].clip(lower=0),
                HIGH: weekly[PLATFORM_HIGH].clip(lower=0),
            }
        ),
        "forecast_runs": pd.DataFrame(
            [
                {
                    "run_id": forecast_run,
                    "created_at": now.isoformat(timespec="seconds"),
                    "level": "sku/channel",
                    "horizon": weeks,
                    "freq": "W-MON",
                    "model": platform.model,
                    "series": int(weekly[KEYS].drop_duplicates().shape[0]),
                    "partner_id": None,
                }
            ]
        ),
        "forecast_accuracy": platform.accuracy[[*KEYS, *_ACCURACY_NAMES]]
        .rename(columns=_ACCURACY_NAMES)
        .assign(run_id=forecast_run),
        "plan_runs": pd.DataFrame(
            [
                {
                    "run_id": run_id,
                    "created_at": now.isoformat(timespec="seconds"),
                    "as_of": as_of,
                    "weeks": weeks,
                    "forecast_run_id": forecast_run,
                    "model": platform.model,
                    "stage_seconds": json.dumps(
                        {step: round(value, 2) for step, value in stage_seconds.items()}
                    ),
                    "notes": " ".join(notes)[:10_000] or None,
                    "partner_id": None,
                }
            ]
        ),
    }
    results = {
        "plan_targets": targets,
        "plan_target_gaps": _with_partner(gaps, targets),
        "plan_exceptions": exceptions.assign(ds=pd.to_datetime(exceptions["ds"]).dt.date)
        if len(exceptions)
        else exceptions,
        "plan_consensus": consensus.assign(ds=pd.to_datetime(consensus["ds"]).dt.date)
        if len(consensus)
        else consensus,
        "plan_order_forecast": order_forecast.assign(ds=pd.to_datetime(order_forecast["ds"]).dt.date)
        if len(order_forecast)
        else order_forecast,
        "plan_network_orders": network_orders if network_orders is not None else pd.DataFrame(),
        "plan_kpis": kpis,
    }
    for name, frame in results.items():
        if frame.empty:
            continue
        columns = [
            column.name
            for column in schema.table(name).columns
            if column.name in frame or column.name == "run_id"
        ]
        tables[name] = _finite(frame.assign(run_id=run_id)[columns])
    return tables


def save_plan(store: Store, tables: dict[str, pd.DataFrame]) -> None:
    """Write one plan run's tables (see :func:`plan_tables`) in one transaction."""
    store.write_tables(tables)


def latest_platform_forecast(store: Store, partner_id: str | None = None) -> PlatformForecast | None:
    """Return the latest plan's weekly platform forecast (of ``partner_id``'s SKUs), or None.

    None when no plan ran, or when sales arrived after the latest plan's last sales day (its
    forecast would no longer be the platform's view).
    """
    runs = store.read_table("plan_runs")
    runs = runs[runs["partner_id"].isna() | (runs["partner_id"] == partner_id)]
    if runs.empty:
        return None
    latest = runs.sort_values("created_at").iloc[-1]
    as_of = pd.Timestamp(latest["as_of"]).date()
    _, last_sale = store.date_range("sales")
    if last_sale is None or pd.Timestamp(last_sale).date() != as_of:
        return None
    run = str(latest["forecast_run_id"])
    rows = store.read_table("forecasts", partner_id=partner_id, where={"run_id": run})
    accuracy = store.read_table("forecast_accuracy", partner_id=partner_id, where={"run_id": run})
    weekly = pd.DataFrame(
        {
            "sku_id": rows["sku_id"],
            "channel_id": rows["channel_id"],
            "ds": pd.to_datetime(rows["ds"]),
            "platform": rows["mean"],
            PLATFORM_LOW: rows[LOW],
            PLATFORM_HIGH: rows[HIGH],
        }
    )
    accuracy = accuracy.rename(columns={new: old for old, new in _ACCURACY_NAMES.items()})[
        [*KEYS, *_ACCURACY_NAMES]
    ]
    return PlatformForecast(weekly, accuracy, as_of, str(latest["model"]), run)


def current_platform_forecast(
    store: Store,
    *,
    partner_id: str,
    weeks: int,
    models: str | list[str] | tuple[str, ...] | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> PlatformForecast:
    """Return the platform's weekly view of ``partner_id``'s SKUs: the latest plan's, else a new one.

    The latest plan's forecast is used when it is current (see :func:`latest_platform_forecast`),
    covers ``weeks`` and no other ``models`` are asked for; otherwise only the partner's SKUs are
    forecast (not every partner's), which takes seconds to a minute instead of minutes.
    """
    if models is None:
        stored = latest_platform_forecast(store, partner_id)
        if stored is not None:
            first = stored.weekly["ds"].min()
            last = first + pd.Timedelta(weeks=weeks - 1)
            if stored.weekly["ds"].max() >= last:
                say(f"using the platform forecast of plan run {stored.run_id}")
                kept = stored.weekly[stored.weekly["ds"] <= last].reset_index(drop=True)
                return dataclasses.replace(stored, weekly=kept)
    say(f"no current plan in the store: forecasting {partner_id}'s SKUs (a plan run shares one forecast)")
    return platform_forecast(
        store, weeks=weeks, partner_id=partner_id, models=WEEKLY_MODELS if models is None else models
    )


def _with_partner(gaps: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    if gaps.empty or "partner_id" in gaps:
        return gaps
    owner = targets.set_index("target_id")["partner_id"] if len(targets) else pd.Series(dtype=object)
    return gaps.assign(partner_id=gaps["target_id"].map(owner))


def _finite(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace infinities (an unreachable level, a ratio over zero) by no value: stored numbers are finite."""
    numeric = frame.select_dtypes(include="number").columns
    if len(numeric):
        frame = frame.copy()
        frame[numeric] = frame[numeric].replace([np.inf, -np.inf], np.nan)
    return frame
