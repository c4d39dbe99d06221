"""Exceptions between the platform's and a partner's plans, ranked by value (VICS CPFR tasks 5 and 8).

Reason codes:

- ``DISCREPANCY`` — the two forecasts of a SKU, channel and week differ by more
  than chance: the log ratio, after removing the partner's measured bias, is
  beyond ``z_score`` standard errors — either its level over the weeks,
  against both sides' measured errors, or that week's departure from the
  level, against the spread of such departures (tracking signals in the
  spirit of Trigg 1964, "Monitoring a forecasting system", *Operational
  Research Quarterly* 15(3)); and the difference is material: above the
  relative, unit and value thresholds of the arrangement.
- ``PROMOTION_MISMATCH`` — the same, in a week holding a promotion for that
  SKU and channel, with the partner below the platform (the brand's plan
  misses the promotion) — or above it in a week without one; and, whatever
  the platform says, a promotion's peak week whose partner forecast keeps
  less than 60 % of the uplift the SKU and channel showed in the same event's
  peak week last year.
- ``ACCURACY_DROP`` — the partner's error over its last 4 scored weeks exceeds
  its long-run error by more than ``accuracy_drop``.
- ``STOCKOUT_RISK`` / ``OVERSTOCK_RISK`` — the SKU's stock anywhere in the
  network covers fewer than ``cover_low_weeks`` or more than
  ``cover_high_weeks`` weeks of the forecast.

Each exception carries the value at stake in yuan (units x list price) and
the list is ranked by it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpfr.collab.arrangement import Arrangement
from cpfr.collab.compare import (
    KEYS,
    MIN_ERROR_SD,
    PLATFORM_HIGH,
    PLATFORM_LOW,
    PartnerRecord,
    PlatformForecast,
    error_scale,
    partner_record,
)
from cpfr.data.store import Store

COLUMNS = [
    "rank",
    "partner_id",
    "reason",
    "sku_id",
    "channel_id",
    "ds",
    "platform_units",
    "partner_units",
    "difference",
    "z_score",
    "value_yuan",
    "detail",
]
RECENT_WEEKS = 4
MIN_UPLIFT = 1.5  # a peak week below this uplift last year is not a promotion the forecast must carry
UPLIFT_KEPT = 0.6  # a partner forecast keeping less than this share of last year's uplift misses it
# A side's error spread where it has no history of its own: a weekly forecast off by about 30 %.
DEFAULT_ERROR_SD = 0.3
# Half a unit keeps the log ratio of two forecasts finite when one of them is zero.
UNIT_FLOOR = 0.5
# A SKU and channel needs this many weeks before its week-to-week departures count as a signal.
MIN_WEEKS_FOR_DEPARTURES = 3
# The median absolute deviation times this estimates a normal standard deviation (1 / Phi^-1(3/4)).
MAD_TO_SD = 1.4826
# A partner's week above this multiple of its own median for the SKU and channel looks like an event.
EVENT_SPIKE = 1.8
# Below this error (WAPE) over the recent weeks an accuracy drop is too small to matter.
MIN_RECENT_WAPE = 0.2
_DTYPES = {
    "reason": object,
    "sku_id": object,
    "channel_id": object,
    "ds": object,
    "platform_units": float,
    "partner_units": float,
    "difference": float,
    "z_score": float,
    "value_yuan": float,
    "detail": object,
}


def find_exceptions(
    store: Store,
    arrangement: Arrangement,
    platform: PlatformForecast,
    record: PartnerRecord | None = None,
    stock: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the partner's exceptions (:data:`COLUMNS`), highest value at stake first.

    ``record`` is the partner's :func:`~cpfr.collab.compare.partner_record` and ``stock`` its
    :func:`~cpfr.inventory.store_plan.latest_stock` (each read when not given).
    """
    partner_id = arrangement.partner_id
    record = record or partner_record(store, partner_id, platform.as_of)
    submitted, actuals, accuracy = record.submitted, record.actuals, record.accuracy
    price = store.read_table("products").set_index("sku_id")["list_price"].astype(float)
    future = submitted[submitted["ds"] > pd.Timestamp(platform.as_of)]
    discrepancies = _discrepancies(store, future, platform, accuracy, arrangement, price)
    frames = [
        discrepancies,
        _promotion_misses(store, future, actuals, discrepancies, arrangement, price),
        _accuracy_drops(submitted, actuals, arrangement, price),
        _cover_risks(store, platform, arrangement, price, stock),
    ]
    typed = [frame.astype(_DTYPES) for frame in frames if not frame.empty]  # alike, so concat keeps them
    found = pd.concat(typed or [pd.DataFrame(columns=COLUMNS).astype(_DTYPES)])
    found = found.assign(partner_id=partner_id).sort_values("value_yuan", ascending=False, kind="stable")
    found["rank"] = np.arange(1, len(found) + 1)
    return found[COLUMNS].reset_index(drop=True)


def _discrepancies(
    store: Store,
    future: pd.DataFrame,
    platform: PlatformForecast,
    accuracy: pd.DataFrame,
    arrangement: Arrangement,
    price: pd.Series,
) -> pd.DataFrame:
    thresholds = arrangement.thresholds
    both = future.merge(platform.weekly, on=[*KEYS, "ds"], how="inner")
    both = both.merge(accuracy, on=KEYS, how="left").merge(platform.accuracy, on=KEYS, how="left")
    if both.empty:
        return pd.DataFrame(columns=COLUMNS)
    pooled_partner = float(accuracy["partner_sd"].median()) if len(accuracy) else DEFAULT_ERROR_SD
    pooled_bias = float(accuracy["partner_bias"].median()) if len(accuracy) else 0.0
    pooled_platform = (
        float(platform.accuracy["platform_sd"].median()) if len(platform.accuracy) else DEFAULT_ERROR_SD
    )
    partner_sd = error_scale(both["partner_sd"], pooled_partner)
    platform_sd = error_scale(both["platform_sd"], pooled_platform)
    bias = both["partner_bias"].fillna(pooled_bias)
    log_ratio = (
        np.log(np.maximum(both["units"], UNIT_FLOOR) / np.maximum(both["platform"], UNIT_FLOOR)) - bias
    )
    z_score = _z_scores(both, log_ratio, pd.Series(np.sqrt(partner_sd**2 + platform_sd**2), index=both.index))
    difference = both["units"] - both["platform"]
    value = difference.abs() * both["sku_id"].map(price).fillna(0.0)
    larger = np.maximum(both["units"], both["platform"])
    flagged = (
        (z_score.abs() >= thresholds.z_score)
        & (difference.abs() >= thresholds.relative * larger)
        & (difference.abs() >= thresholds.absolute_units)
        & (value >= thresholds.value_yuan)
    )
    promoted = _promotion_weeks(store, both)
    mismatch = (promoted & (difference < 0)) | (~promoted & (difference > 0) & _event_shaped(both))
    reason = np.where(mismatch, "PROMOTION_MISMATCH", "DISCREPANCY")
    detail = [
        f"partner {partner:,.0f} vs platform {plat:,.0f} units ({partner / max(plat, UNIT_FLOOR) - 1:+.0%}); "
        f"platform 80% band {low:,.0f}-{high:,.0f}" + ("; promotion week" if promo else "")
        for partner, plat, low, high, promo in zip(
            both["units"],
            both["platform"],
            both[PLATFORM_LOW],
            both[PLATFORM_HIGH],
            promoted,
            strict=True,
        )
    ]
    table = pd.DataFrame(
        {
            "reason": reason,
            "sku_id": both["sku_id"],
            "channel_id": both["channel_id"],
            "ds": both["ds"].dt.date,
            "platform_units": both["platform"].round(1),
            "partner_units": both["units"].round(1),
            "difference": difference.round(1),
            "z_score": z_score.round(2),
            "value_yuan": value.round(0),
            "detail": detail,
        }
    )
    return table[flagged.to_numpy()]


def _promotion_misses(
    store: Store,
    future: pd.DataFrame,
    actuals: pd.DataFrame,
    flagged: pd.DataFrame,
    arrangement: Arrangement,
    price: pd.Series,
) -> pd.DataFrame:
    """Flag promotion-peak weeks whose partner forecast lacks the uplift the same event had last year.

    The uplift a SKU and channel showed in last year's peak week of the same promotion (over
    the median of the eight weeks before the promotion began) is what the brand's forecast
    should carry; one with less than :data:`UPLIFT_KEPT` of it, on an uplift of at least
    :data:`MIN_UPLIFT`, misses the promotion.
    """
    events = _platform_promotions(store)
    if future.empty or events.empty or actuals.empty:
        return pd.DataFrame(columns=COLUMNS)
    peaks = pd.to_datetime(events["peak_date"].fillna(events["end_date"]))
    events = events.assign(
        peak_week=peaks - pd.to_timedelta(peaks.dt.dayofweek, unit="D"),
        start=pd.to_datetime(events["start_date"]),
    )
    upcoming = events[events["peak_week"].isin(future["ds"].unique())]
    done = set(zip(flagged["sku_id"], flagged["channel_id"], pd.to_datetime(flagged["ds"]), strict=True))
    rows = []
    thresholds = arrangement.thresholds
    for event in upcoming.to_dict("records"):
        name = str(event["name"])
        series = str(event["event_id"]).rsplit("-", 1)[0]  # D11-2026 -> D11: the same event, other years
        same = events["event_id"].astype(str).str.rsplit("-", n=1).str[0] == series
        before = events[same & (events["peak_week"] < event["peak_week"])]
        if before.empty:
            continue
        last = before.sort_values("peak_week").iloc[-1]
        base_weeks = (actuals["ds"] < last["start"]) & (
            actuals["ds"] >= last["start"] - pd.Timedelta(weeks=8)
        )
        baseline = actuals[base_weeks].groupby(KEYS)["actual"].median()
        peak = actuals[actuals["ds"] == last["peak_week"]].set_index(KEYS)["actual"]
        uplift = (peak / baseline.reindex(peak.index)).replace([np.inf, -np.inf], np.nan).dropna()
        week = future[future["ds"] == event["peak_week"]].set_index(KEYS)["units"]
        usual = future[future["ds"] != event["peak_week"]].groupby(KEYS)["units"].median()
        theirs = (week / usual.reindex(week.index)).replace([np.inf, -np.inf], np.nan).dropna()
        both = pd.DataFrame({"history": uplift, "partner": theirs, "units": week, "usual": usual}).dropna()
        missing = both[(both["history"] >= MIN_UPLIFT) & (both["partner"] < UPLIFT_KEPT * both["history"])]
        for row in missing.rename_axis(KEYS).reset_index().to_dict("records"):
            sku, channel = str(row["sku_id"]), str(row["channel_id"])
            if (sku, channel, event["peak_week"]) in done:
                continue
            expected = row["usual"] * row["history"]
            gap = expected - row["units"]
            value = gap * float(price.get(sku, 0.0))
            if gap < thresholds.absolute_units or value < thresholds.value_yuan:
                continue
            rows.append(
                {
                    "reason": "PROMOTION_MISMATCH",
                    "sku_id": sku,
                    "channel_id": channel,
                    "ds": event["peak_week"].date(),
                    "platform_units": np.nan,
                    "partner_units": round(float(row["units"]), 1),
                    "difference": round(float(-gap), 1),
                    "z_score": np.nan,
                    "value_yuan": round(value, 0),
                    "detail": f"{name}: partner uplift x{row['partner']:.2f} vs x{row['history']:.2f} in "
                    f"{last['peak_week'].date()}'s peak week",
                }
            )
    return pd.DataFrame(rows, columns=[column for column in COLUMNS if column not in ("rank", "partner_id")])


def _z_scores(rows: pd.DataFrame, log_ratio: pd.Series, level_sd: pd.Series) -> pd.Series:
    """Return the larger of two tracking signals of the partner / platform log ratio, sign kept.

    Most of either side's error is a level that persists from week to week, so the ratio is
    split into its median over the SKU and channel's weeks (the level disagreement, scaled
    by both sides' measured error) and each week's departure from it (scaled by the
    robust spread of such departures over all rows): a one-week discrepancy stands out
    against week-to-week noise long before it would against the level errors.
    """
    level = log_ratio.groupby([rows["sku_id"], rows["channel_id"]]).transform("median")
    weeks = log_ratio.groupby([rows["sku_id"], rows["channel_id"]]).transform("size")
    enough = weeks >= MIN_WEEKS_FOR_DEPARTURES
    departure = (log_ratio - level).where(enough, 0.0)
    spread = MAD_TO_SD * float(np.median(np.abs(departure[enough]))) if enough.any() else np.nan
    level_z = level / level_sd
    week_z = departure / max(spread, MIN_ERROR_SD) if np.isfinite(spread) else departure * 0.0
    return week_z.where(week_z.abs() > level_z.abs(), level_z)


def _promotion_weeks(store: Store, rows: pd.DataFrame) -> np.ndarray:
    """Tell which rows' weeks hold a promotion of their SKU (promotions) or a platform-wide one (events)."""
    weeks = rows["ds"]
    held = np.zeros(len(rows), dtype=bool)
    events = _platform_promotions(store)
    for start, end in zip(
        pd.to_datetime(events["start_date"]), pd.to_datetime(events["end_date"]), strict=True
    ):
        held |= ((weeks <= end) & (weeks + pd.Timedelta(days=6) >= start)).to_numpy()
    promotions = store.read_table("promotions")
    if not promotions.empty:
        # Pair each row with its SKU's promotions (a join, not a loop over thousands of promotions).
        pairs = (
            rows[["sku_id", "channel_id", "ds"]]
            .assign(row=np.arange(len(rows)))
            .merge(
                promotions[["sku_id", "channel_id", "start_date", "end_date"]].rename(
                    columns={"channel_id": "promoted_channel"}
                ),
                on="sku_id",
            )
        )
        channel = pairs["promoted_channel"]
        # A promotion without a channel (no text) holds in every channel of its SKU.
        same = ~channel.map(lambda value: isinstance(value, str)) | (channel == pairs["channel_id"])
        overlaps = (pairs["ds"] <= pd.to_datetime(pairs["end_date"])) & (
            pairs["ds"] + pd.Timedelta(days=6) >= pd.to_datetime(pairs["start_date"])
        )
        held[pairs.loc[same & overlaps, "row"].to_numpy()] = True
    return held


def _platform_promotions(store: Store) -> pd.DataFrame:
    """Return the promotions of the whole platform (no category, no partner) from ``events``."""
    events = store.read_table("events")
    return events[
        (events["kind"] == "promotion") & events["category_id"].isna() & events["partner_id"].isna()
    ]


def _event_shaped(rows: pd.DataFrame) -> np.ndarray:
    """Tell which partner forecasts spike above the partner's own median for the SKU and channel."""
    median = rows.groupby(KEYS)["units"].transform("median")
    return (rows["units"] > EVENT_SPIKE * median).to_numpy()


def _accuracy_drops(
    submitted: pd.DataFrame, actuals: pd.DataFrame, arrangement: Arrangement, price: pd.Series
) -> pd.DataFrame:
    past = submitted.merge(actuals, on=[*KEYS, "ds"], how="inner")
    if past.empty:
        return pd.DataFrame(columns=COLUMNS)
    past = past.assign(miss=(past["units"] - past["actual"]).abs())
    recent_start = past["ds"].max() - pd.Timedelta(weeks=RECENT_WEEKS - 1)
    by_sku = past.groupby("sku_id")
    long_run = by_sku["miss"].sum() / by_sku["actual"].sum()
    recent = past[past["ds"] >= recent_start].groupby("sku_id")
    recent_wape = recent["miss"].sum() / recent["actual"].sum()
    recent_miss = recent["miss"].sum()
    table = pd.DataFrame({"long_run": long_run, "recent": recent_wape, "miss": recent_miss}).dropna()
    table = table[
        (table["recent"] > (1 + arrangement.thresholds.accuracy_drop) * table["long_run"])
        & (table["recent"] > MIN_RECENT_WAPE)
    ]
    value = table["miss"] * price.reindex(table.index).fillna(0.0)
    return pd.DataFrame(
        {
            "reason": "ACCURACY_DROP",
            "sku_id": table.index,
            "channel_id": None,
            "ds": recent_start.date(),
            "platform_units": np.nan,
            "partner_units": np.nan,
            "difference": table["miss"].round(1).to_numpy(),
            "z_score": np.nan,
            "value_yuan": value.round(0).to_numpy(),
            "detail": [
                f"partner WAPE {recent:.0%} over the last {RECENT_WEEKS} weeks vs {long:.0%} before"
                for recent, long in zip(table["recent"], table["long_run"], strict=True)
            ],
        }
    )


def _cover_words(units: float, weekly: float, weeks: float) -> str:
    """Say how long the stock lasts in words a planner reads (no "5,324,557 weeks" of cover)."""
    if weekly < 0.05:
        return f"{units:,.0f} units in the network and almost no demand forecast (< 0.05 a week)"
    if weeks > 104:
        return f"{units:,.0f} units in the network cover more than two years ({weekly:,.1f} a week forecast)"
    return f"{units:,.0f} units in the network cover {weeks:.1f} weeks"


def _cover_risks(
    store: Store,
    platform: PlatformForecast,
    arrangement: Arrangement,
    price: pd.Series,
    stock: pd.DataFrame | None = None,
) -> pd.DataFrame:
    from cpfr.inventory.store_plan import latest_stock

    if stock is None:
        stock = latest_stock(store, pd.Timestamp(platform.as_of), partner_id=arrangement.partner_id)
    units = (stock["on_hand"] + stock["in_transit"]).groupby(stock["sku_id"]).sum()
    owned = store.read_table("products", partner_id=arrangement.partner_id)["sku_id"]
    weekly_all = platform.weekly[platform.weekly["sku_id"].isin(owned)]
    first_weeks = weekly_all[weekly_all["ds"] < weekly_all["ds"].min() + pd.Timedelta(weeks=4)]
    weekly = first_weeks.groupby("sku_id")["platform"].sum() / 4
    cover = units.reindex(weekly.index).fillna(0.0) / weekly.replace(0.0, np.nan)
    thresholds = arrangement.thresholds
    low = cover[cover < thresholds.cover_low_weeks]
    high = cover[cover > thresholds.cover_high_weeks]
    rows = []
    for reason, chosen, excess in (("STOCKOUT_RISK", low, -1.0), ("OVERSTOCK_RISK", high, 1.0)):
        for sku, weeks in chosen.items():
            bound = thresholds.cover_low_weeks if excess < 0 else thresholds.cover_high_weeks
            gap = abs(units.get(sku, 0.0) - bound * weekly[sku])
            rows.append(
                {
                    "reason": reason,
                    "sku_id": sku,
                    "channel_id": None,
                    "ds": platform.weekly["ds"].min().date(),
                    "platform_units": round(float(weekly[sku]), 1),
                    "partner_units": np.nan,
                    "difference": round(float(gap), 1),
                    "z_score": np.nan,
                    "value_yuan": round(float(gap * price.get(sku, 0.0)), 0),
                    "detail": _cover_words(units.get(sku, 0.0), float(weekly[sku]), float(weeks)),
                }
            )
    return pd.DataFrame(rows, columns=[column for column in COLUMNS if column not in ("rank", "partner_id")])
