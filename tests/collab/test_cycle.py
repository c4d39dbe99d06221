"""Exceptions find the injected discrepancies; consensus weights, overrides and the audit trail; KPIs; plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.collab.arrangement import arrangement_for, arrangements
from cpfr.collab.compare import PlatformForecast
from cpfr.collab.consensus import consensus_forecast, order_forecast, record_override
from cpfr.collab.exceptions import COLUMNS, find_exceptions
from cpfr.collab.kpis import partner_kpis
from cpfr.data.demo import DemoScenario
from cpfr.data.store import Store
from cpfr.exceptions import InputError


def _flagged(store: Store, platform: PlatformForecast, z_score: float = 3.0) -> pd.DataFrame:
    frames = []
    for arrangement in arrangements(store).values():
        strict = dataclasses.replace(
            arrangement, thresholds=dataclasses.replace(arrangement.thresholds, z_score=z_score)
        )
        frames.append(find_exceptions(store, strict, platform))
    return pd.concat(frames, ignore_index=True)


def test_exceptions_find_the_injected_discrepancies(
    collab_store: Store, platform: PlatformForecast, scenario: DemoScenario
) -> None:
    found = _flagged(collab_store, platform)
    assert list(found.columns) == COLUMNS
    assert set(found["reason"]) <= {
        "DISCREPANCY",
        "PROMOTION_MISMATCH",
        "ACCURACY_DROP",
        "STOCKOUT_RISK",
        "OVERSTOCK_RISK",
    }
    pairs = found[found["reason"].isin(["DISCREPANCY", "PROMOTION_MISMATCH"])]
    flagged = set(
        zip(
            pairs["sku_id"],
            pairs["channel_id"],
            pd.to_datetime(pairs["ds"]).dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    injected = pd.DataFrame(scenario.truth["partner_forecast_injections"])
    truth = set(zip(injected["sku_id"], injected["channel_id"], injected["ds"], strict=True))
    hits = len(flagged & truth)
    assert hits / len(truth) >= 0.6  # recall
    assert hits / len(flagged) >= 0.4  # precision over the whole list ...
    top = pairs.sort_values("value_yuan", ascending=False).head(5)
    top_keys = zip(
        top["sku_id"], top["channel_id"], pd.to_datetime(top["ds"]).dt.strftime("%Y-%m-%d"), strict=True
    )
    assert sum(key in truth for key in top_keys) >= 3  # ... and most of the top of it
    # Within a partner the list is ranked by value at stake.
    for _, group in found.groupby("partner_id"):
        assert group["value_yuan"].is_monotonic_decreasing


def test_a_lower_bar_finds_more(collab_store: Store, platform: PlatformForecast) -> None:
    assert len(_flagged(collab_store, platform, z_score=1.5)) > len(
        _flagged(collab_store, platform, z_score=3.5)
    )


def test_consensus_weights_each_side_by_its_accuracy_and_keeps_an_audit_trail(
    collab_store: Store, platform: PlatformForecast
) -> None:
    arrangement = arrangement_for(collab_store, "XIAOMI")
    table = consensus_forecast(collab_store, arrangement, platform)
    both = table.dropna(subset=["platform", "partner"])
    weight = both["weight_platform"].iloc[0]
    assert 0 < weight < 1 and np.allclose(both["weight_platform"], weight)
    low, high = np.minimum(both["platform"], both["partner"]), np.maximum(both["platform"], both["partner"])
    assert (both["combined"] >= 0.8 * low - 0.1).all() and (both["combined"] <= 1.2 * high + 0.1).all()
    cell = both.iloc[0]
    row = record_override(
        collab_store, arrangement, table, sku_id=cell["sku_id"], channel_id=cell["channel_id"],
        week=cell["ds"].date(), units=123.0, who="alice", why="launch moved",
    )  # fmt: skip
    assert row["old_units"] == cell["consensus"] and row["new_units"] == 123.0
    again = consensus_forecast(collab_store, arrangement, platform)
    changed = again[
        (again["sku_id"] == cell["sku_id"])
        & (again["channel_id"] == cell["channel_id"])
        & (again["ds"] == cell["ds"])
    ]
    assert changed["consensus"].item() == 123.0 and changed["overridden"].item()
    trail = collab_store.read_table("consensus_overrides")
    assert trail[["who", "why"]].iloc[-1].tolist() == ["alice", "launch moved"]
    with pytest.raises(InputError, match="no acting user"):
        record_override(
            collab_store,
            arrangement,
            table,
            sku_id=cell["sku_id"],
            channel_id=cell["channel_id"],
            week=cell["ds"].date(),
            units=1,
            who="",
            why="",
        )
    with pytest.raises(InputError, match="no consensus"):
        record_override(
            collab_store,
            arrangement,
            table,
            sku_id="NOPE",
            channel_id="JD_ONLINE",
            week=cell["ds"].date(),
            units=1,
            who="a",
            why="b",
        )


def test_order_forecast_nets_stock_against_the_consensus() -> None:
    consensus = pd.DataFrame(
        {
            "sku_id": "A",
            "channel_id": "JD_ONLINE",
            "ds": pd.date_range("2025-07-07", periods=4, freq="W-MON"),
            "consensus": 100.0,
        }
    )
    stock = pd.DataFrame({"sku_id": ["A"], "on_hand": [500.0], "in_transit": [0.0]})
    plan = order_forecast(consensus, stock, lead_time_weeks=2, fill_rate=0.98, error_sd=0.0001)
    # Almost no uncertainty: the demand of the lead time and the week (300) less the 2 % of a week's
    # demand the fill rate lets go short (2): 298. The 500 on hand last until the fourth week.
    assert plan["order_up_to"].round().tolist() == [298.0, 298.0, 298.0, 298.0]
    assert plan["order"].tolist() == [0.0, 0.0, 0.0, 98.0]


def test_kpis(collab_store: Store, platform: PlatformForecast) -> None:
    table = partner_kpis(collab_store, "MIDEA", platform)
    values = table.set_index(["kpi", "side"])["value"]
    assert 0 < values[("fill rate", "platform")] <= 1 and 0 < values[("in-stock rate", "platform")] <= 1
    assert values[("inventory turnover", "platform")] > 1
    assert 0 < values[("forecast WAPE", "partner")] < 1 and 0 < values[("forecast WAPE", "platform")] < 2
    assert any(kpi.startswith("attainment T-MIDEA-GMV-2025") for kpi in table["kpi"])


def test_plan_writes_a_report_and_tables(
    collab_store: Store, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    out = tmp_path / "plan"
    result = cli(
        "plan", "--db", collab_store.location, "--out", str(out), "--model", "seasonal_naive,window_average"
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "<svg" in html and "https://" not in html and "Exceptions" in html and "Price bands: 618-2025" in html
    )
    targets = pd.read_parquet(out / "targets.parquet")
    assert {"probability", "pace", "required_run_rate"} <= set(targets.columns)
    for name in (
        "exceptions",
        "consensus",
        "order_forecast",
        "kpis",
        "network_orders",
        "target_gaps",
        "price_bands",
    ):
        assert (out / f"{name}.parquet").exists(), name
    assert "P(reach" in result.output and "report:" in result.output


def test_a_peak_week_forecast_without_last_years_uplift_is_a_promotion_mismatch(collab_store: Store) -> None:
    from cpfr.collab.compare import weekly_actuals
    from cpfr.collab.exceptions import _promotion_misses

    arrangement = arrangement_for(collab_store, "XIAOMI")
    actuals = weekly_actuals(collab_store, partner_id="XIAOMI", end=pd.Timestamp("2025-06-30").date())
    # Double 11 2024 peaked in the week of 2024-11-11; its 2025 edition peaks in the week of 2025-11-10.
    peak = actuals[actuals["ds"] == pd.Timestamp("2024-11-11")].set_index(["sku_id", "channel_id"])["actual"]
    usual = actuals[
        (actuals["ds"] >= pd.Timestamp("2024-08-19")) & (actuals["ds"] < pd.Timestamp("2024-10-14"))
    ]
    baseline = usual.groupby(["sku_id", "channel_id"])["actual"].median()
    uplift = (peak / baseline.reindex(peak.index)).dropna()
    # The two busiest series that at least doubled in the peak week.
    busy = baseline.reindex(uplift[uplift >= 2].index).nlargest(2).index
    assert len(busy) == 2 and (baseline.reindex(busy) >= 20).all()
    weeks = pd.date_range("2025-10-27", periods=4, freq="W-MON")
    flat = pd.DataFrame(
        [(sku, channel, week, float(baseline[(sku, channel)])) for sku, channel in busy for week in weeks],
        columns=["sku_id", "channel_id", "ds", "units"],
    )
    price = collab_store.read_table("products").set_index("sku_id")["list_price"].astype(float)
    empty = pd.DataFrame(columns=["sku_id", "channel_id", "ds"])
    missed = _promotion_misses(collab_store, flat, actuals, empty, arrangement, price)
    assert set(zip(missed["sku_id"], missed["channel_id"], strict=True)) == set(busy)
    assert (missed["reason"] == "PROMOTION_MISMATCH").all() and (
        pd.to_datetime(missed["ds"]) == weeks[2]
    ).all()
    # Carrying last year's uplift in the peak week clears them.
    lifted = flat.copy()
    in_peak = lifted["ds"] == weeks[2]
    lifted.loc[in_peak, "units"] *= [
        float(uplift[key])
        for key in zip(lifted.loc[in_peak, "sku_id"], lifted.loc[in_peak, "channel_id"], strict=True)
    ]
    assert _promotion_misses(collab_store, lifted, actuals, empty, arrangement, price).empty
