"""The consensus forecast, its audit trail, and the order forecast derived from it (VICS CPFR tasks 6-7).

Consensus: per SKU, channel and week, the platform's and the partner's
forecasts are combined with weights inversely proportional to each side's
measured squared error — the optimal combination of two unbiased forecasts
with uncorrelated errors (Bates & Granger 1969, "The combination of
forecasts", *Operational Research Quarterly* 20(4)). Each side's error is its
weekly log-ratio spread (the platform's in its backtest, the partner's on
its past submissions), pooled per partner, and the partner's forecast is
first divided by its measured bias. A planner's override replaces the
combined value and is stored with who, when, why, and the old and new
values (``consensus_overrides``); the latest override of a cell wins.

Order forecast: per SKU (all channels), the consensus is netted week by week
against the network's stock: an order is planned whenever the inventory
position falls below the fill-rate base-stock level of the coming lead time
and week (:func:`cpfr.inventory.single.fill_rate_base_stock` on normal
demand whose spread is the consensus error), as distribution requirements
planning does (Silver, Pyke & Thomas 2017, *Inventory and Production
Management in Supply Chains*, 4th ed., ch. 15).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import numpy as np
import pandas as pd

from cpfr.collab.arrangement import Arrangement
from cpfr.collab.compare import KEYS, MIN_ERROR_SD, PartnerRecord, PlatformForecast, partner_record
from cpfr.data.schema import MAX_UNITS
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.inventory.demand import Demand
from cpfr.inventory.single import fill_rate_base_stock


def consensus_forecast(
    store: Store, arrangement: Arrangement, platform: PlatformForecast, record: PartnerRecord | None = None
) -> pd.DataFrame:
    """Combine both sides' forecasts of the partner's SKUs for the future weeks, overrides applied.

    Returns ``sku_id, channel_id, ds, platform, partner, weight_platform, combined, consensus,
    overridden``. ``record`` is the partner's :func:`~cpfr.collab.compare.partner_record` (read
    when not given).
    """
    partner_id = arrangement.partner_id
    record = record or partner_record(store, partner_id, platform.as_of)
    submitted, accuracy = record.submitted, record.accuracy
    owned = store.read_table("products", partner_id=partner_id)["sku_id"]
    ours = platform.weekly[platform.weekly["sku_id"].isin(owned)]
    theirs = submitted[submitted["ds"] > pd.Timestamp(platform.as_of)][[*KEYS, "ds", "units"]]
    table = ours.merge(theirs.rename(columns={"units": "partner"}), on=[*KEYS, "ds"], how="outer")
    partner_sd = max(float(accuracy["partner_sd"].median()) if len(accuracy) else np.nan, MIN_ERROR_SD)
    platform_sd = max(
        float(platform.accuracy["platform_sd"].median()) if len(platform.accuracy) else np.nan, MIN_ERROR_SD
    )
    bias = float(accuracy["partner_bias"].median()) if len(accuracy) else 0.0
    if not np.isfinite(partner_sd):
        partner_sd = platform_sd
    weight = (1 / platform_sd**2) / (1 / platform_sd**2 + 1 / partner_sd**2)
    corrected = table["partner"] / math.exp(bias)
    both = table["platform"].notna() & table["partner"].notna()
    combined = np.where(
        both, weight * table["platform"] + (1 - weight) * corrected, table["platform"].fillna(corrected)
    )
    table = table.assign(
        weight_platform=np.where(both, weight, np.where(table["platform"].notna(), 1.0, 0.0)),
        combined=np.round(combined, 1),
    )
    overrides = latest_overrides(store, partner_id)
    table = table.merge(overrides, on=[*KEYS, "ds"], how="left")
    table["overridden"] = table["new_units"].notna()
    table["consensus"] = table["new_units"].fillna(table["combined"])
    columns = [*KEYS, "ds", "platform", "partner", "weight_platform", "combined", "consensus", "overridden"]
    return table[columns].sort_values([*KEYS, "ds"]).reset_index(drop=True)


def latest_overrides(store: Store, partner_id: str) -> pd.DataFrame:
    """Return the newest override of each (SKU, channel, week): ``sku_id, channel_id, ds, new_units``."""
    trail = store.read_table("consensus_overrides", partner_id=partner_id)
    if trail.empty:
        return pd.DataFrame({"sku_id": [], "channel_id": [], "ds": pd.to_datetime([]), "new_units": []})
    trail = trail.sort_values("changed_at").drop_duplicates([*KEYS, "ds"], keep="last")
    return trail.assign(ds=pd.to_datetime(trail["ds"]))[[*KEYS, "ds", "new_units"]]


def record_override(
    store: Store,
    arrangement: Arrangement,
    consensus: pd.DataFrame,
    *,
    sku_id: str,
    channel_id: str,
    week: dt.date,
    units: float,
    who: str,
    why: str,
) -> dict[str, object]:
    """Override one consensus cell and append the change to the audit trail; return the trail row.

    ``who`` is the acting user as the caller authenticated it (the login of the command
    line, the API key's user), never text a person typed; ``why`` is the reason given.
    The trail is append-only: a recorded override is never changed.
    """
    if not who.strip():
        raise InputError("no acting user: every override is recorded with who made it")
    if not why.strip():
        raise InputError("a reason is required: every override is audited")
    if not (0 <= units <= MAX_UNITS):
        raise InputError(f"units {units}: expected a number of units between 0 and {MAX_UNITS:,}")
    cell = consensus[
        (consensus["sku_id"] == sku_id)
        & (consensus["channel_id"] == channel_id)
        & (pd.to_datetime(consensus["ds"]) == pd.Timestamp(week))
    ]
    if cell.empty:
        raise InputError(
            f"no consensus for {sku_id} in {channel_id}, week of {week} "
            f"(partner {arrangement.partner_id}; weeks start on Monday)"
        )
    row = {
        "override_id": f"OVR-{uuid.uuid4().hex[:12]}",
        "partner_id": arrangement.partner_id,
        "sku_id": sku_id,
        "channel_id": channel_id,
        "ds": week,
        "old_units": float(cell["consensus"].iloc[0]),
        "new_units": float(units),
        "who": who.strip(),
        "why": why.strip(),
        "changed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    store.write_rows(pd.DataFrame([row]), "consensus_overrides")
    return row


def order_forecast(
    consensus: pd.DataFrame,
    stock: pd.DataFrame,
    *,
    lead_time_weeks: int = 2,
    fill_rate: float = 0.98,
    error_sd: float = 0.3,
) -> pd.DataFrame:
    """Plan the weekly orders to the partner per SKU: ``sku_id, ds, demand, order_up_to, position, order``.

    ``stock`` is ``sku_id, on_hand, in_transit`` summed over the network; the order of week
    ``ds`` is placed that week and arrives ``lead_time_weeks`` later.
    """
    weekly = pd.DataFrame(consensus.groupby(["sku_id", "ds"], as_index=False)["consensus"].sum())
    held = (stock["on_hand"] + stock["in_transit"]).groupby(stock["sku_id"]).sum()
    rows = []
    for sku, plan in weekly.sort_values(["sku_id", "ds"]).groupby("sku_id", sort=True):
        demand = plan["consensus"].to_numpy(dtype=float)
        weeks = plan["ds"].to_numpy()
        position = float(held.get(sku, 0.0))
        for week in range(len(demand)):
            ahead = demand[week : week + lead_time_weeks + 1]
            mean = float(ahead.mean()) if len(ahead) else 0.0
            level = 0.0
            if mean > 0:
                per_week = Demand.normal(mean, max(error_sd * mean, 1e-6))
                level = fill_rate_base_stock(per_week, lead_time_weeks, fill_rate)
            order = max(0.0, math.ceil(level - position))
            rows.append(
                {
                    "sku_id": sku,
                    "ds": weeks[week],
                    "demand": round(float(demand[week]), 1),
                    "order_up_to": round(level, 1),
                    "position": round(position, 1),
                    "order": order,
                }
            )
            position += order - demand[week]
    return pd.DataFrame(rows, columns=["sku_id", "ds", "demand", "order_up_to", "position", "order"])
