"""Performance assessment of each partnership (VICS CPFR task 8): accuracy, service, stock, targets.

Per partner, over the last ``weeks`` weeks of history:

- forecast accuracy and bias by side — WAPE (sum of absolute errors over sum
  of actuals) and bias (sum of errors over sum of actuals) of weekly SKU x
  channel forecasts: the partner's past submissions, the platform's
  backtest;
- fill rate — units sold over units demanded, demand on stockout days being
  estimated as :func:`cpfr.forecast.store_forecast.store_history` does;
- in-stock rate — the share of SKU x location selling days without a stockout;
- inventory turnover days — average units on hand over average daily units sold;
- target attainment — each target's actual to date over its value, and pace
  (attainment over the share of the period gone).
"""

from __future__ import annotations

import pandas as pd

from cpfr.collab.compare import PartnerRecord, PlatformForecast, daily_history, partner_record
from cpfr.data.store import Store
from cpfr.targets.progress import target_progress

KPI_COLUMNS = ["partner_id", "kpi", "side", "value", "unit"]


def partner_kpis(
    store: Store,
    partner_id: str,
    platform: PlatformForecast,
    *,
    weeks: int = 13,
    record: PartnerRecord | None = None,
    daily: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the partner's KPIs as rows ``partner_id, kpi, side, value, unit``.

    ``record`` is the partner's :func:`~cpfr.collab.compare.partner_record` and ``daily`` the
    store's :func:`~cpfr.collab.compare.daily_history` (each read when not given).
    """
    end = pd.Timestamp(platform.as_of)
    start = end - pd.Timedelta(weeks=weeks) + pd.Timedelta(days=1)
    rows: list[dict[str, object]] = []

    def add(kpi: str, side: str, value: float, unit: str) -> None:
        rows.append({"partner_id": partner_id, "kpi": kpi, "side": side, "value": float(value), "unit": unit})

    scored = (record or partner_record(store, partner_id, platform.as_of)).accuracy
    owned = set(store.read_table("products", partner_id=partner_id)["sku_id"])
    ours = platform.accuracy[platform.accuracy["sku_id"].isin(owned)]
    for side, table in (("partner", scored), ("platform", ours)):
        if len(table) and table["actual"].sum() > 0:
            add("forecast WAPE", side, table["miss"].sum() / table["actual"].sum(), "share")
            add("forecast bias", side, table["error"].sum() / table["actual"].sum(), "share")
    history = daily_history(store, partner_id) if daily is None else daily[daily["sku_id"].isin(owned)]
    recent = history[(history["ds"] >= start) & (history["ds"] <= end)]
    sold = store.sales_cube(["sku_id"], partner_id=partner_id, start=start.date(), end=end.date())[
        "units"
    ].sum()
    demanded = recent["y"].sum()
    if demanded > 0:
        add("fill rate", "platform", min(sold / demanded, 1.0), "share")
    inventory = store.read_table("inventory", partner_id=partner_id)
    inventory["date"] = pd.to_datetime(inventory["date"])
    window = inventory[(inventory["date"] >= start) & (inventory["date"] <= end)]
    selling_days = len(recent)
    if selling_days:
        add(
            "in-stock rate",
            "platform",
            1 - int(window["stockout"].astype(bool).sum()) / selling_days,
            "share",
        )
    # Snapshots may be sparse (weekly, plus stockout days): average the days most sites reported.
    counts = window.groupby("date").size()
    full_days = counts.index[counts >= 0.5 * counts.max()] if len(counts) else counts.index
    snapshots = window[window["date"].isin(full_days)].groupby("date")["on_hand"].sum()
    daily_sales = sold / max((end - start).days + 1, 1)
    if daily_sales > 0 and len(snapshots):
        add("inventory turnover", "platform", float(snapshots.mean()) / daily_sales, "days")
    progress = target_progress(store, as_of=platform.as_of).table
    begun = progress[(progress["partner_id"] == partner_id) & (progress["elapsed"] > 0)]
    for target in begun.to_dict("records"):
        add(f"attainment {target['target_id']}", "joint", target["attainment"], "share")
        add(f"pace {target['target_id']}", "joint", target["pace"], "share")
    return pd.DataFrame(rows, columns=KPI_COLUMNS)
