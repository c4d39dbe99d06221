"""A plan's results live in the store, with the run that made them; later commands read its forecast back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from cpfr.collab.compare import PLATFORM_HIGH, PLATFORM_LOW, PlatformForecast
from cpfr.collab.cycle import run_cycle
from cpfr.collab.results import current_platform_forecast, latest_platform_forecast
from cpfr.data.sources import frame_source
from cpfr.data.store import Store

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def planned(collab_store: Store) -> str:
    result = run_cycle(
        collab_store,
        weeks=4,
        network=True,
        models=["pooled_seasonal"],
        network_models=["window_average"],
        now=NOW,
    )
    assert result.run_id is not None and result.run_id.startswith("P-20261130T080000-")
    return result.run_id


def test_every_result_of_a_plan_is_stored_under_its_run(collab_store: Store, planned: str) -> None:
    run = collab_store.read_table("plan_runs", where={"run_id": planned})
    assert len(run) == 1 and run["weeks"].item() == 4
    for table in (
        "plan_targets",
        "plan_target_gaps",
        "plan_exceptions",
        "plan_consensus",
        "plan_order_forecast",
        "plan_network_orders",
        "plan_kpis",
    ):
        rows = collab_store.read_table(table, where={"run_id": planned})
        assert len(rows) > 0, table
    forecast_run = run["forecast_run_id"].item()
    weekly = collab_store.read_table("forecasts", where={"run_id": forecast_run})
    assert set(weekly["unique_id"].str.count("@")) == {1} and (weekly["q0.1"] <= weekly["q0.9"]).all()
    assert collab_store.read_table("forecast_runs", where={"run_id": forecast_run})["freq"].item() == "W-MON"
    # A partner's view of the stored results holds only its own rows.
    consensus = collab_store.read_table("plan_consensus", partner_id="XIAOMI", where={"run_id": planned})
    assert set(consensus["partner_id"]) == {"XIAOMI"}


def test_the_latest_plan_forecast_is_read_back_for_one_partner(collab_store: Store, planned: str) -> None:
    stored = latest_platform_forecast(collab_store, "XIAOMI")
    assert isinstance(stored, PlatformForecast)
    owned = set(collab_store.read_table("products", partner_id="XIAOMI")["sku_id"])
    assert set(stored.weekly["sku_id"]) <= owned and len(stored.weekly) > 0
    assert (stored.weekly[PLATFORM_LOW] <= stored.weekly[PLATFORM_HIGH]).all()
    assert {"platform_sd", "platform_bias", "miss", "actual"} <= set(stored.accuracy.columns)
    two_weeks = current_platform_forecast(collab_store, partner_id="XIAOMI", weeks=2)
    assert two_weeks.run_id == stored.run_id and two_weeks.weekly["ds"].nunique() == 2


def test_a_collab_command_uses_the_plan_instead_of_forecasting_every_partner(
    collab_store: Store, planned: str, cli: Callable[..., Result]
) -> None:
    result = cli("collab", "exceptions", "--partner", "MIDEA", "--weeks", "4", "--db", collab_store.location)
    assert result.exit_code == 0, result.output
    assert "using the platform forecast of plan run W-" in result.output


def test_sales_after_the_plan_make_its_forecast_stale(
    collab_store: Store, planned: str, tmp_path: Path
) -> None:
    sales = collab_store.read_table("sales").sort_values("date").tail(1)
    later = sales.assign(date=(pd.Timestamp(sales["date"].item()) + pd.Timedelta(days=1)).date())
    later = later[["date", "sku_id", "location_id", "units"]]
    collab_store.ingest(frame_source(later, "one more day"), "sales")
    try:
        assert latest_platform_forecast(collab_store, "XIAOMI") is None
    finally:
        con = collab_store._con  # type: ignore[attr-defined]
        con.execute("DELETE FROM sales WHERE date = ?", [later["date"].item()])
    assert latest_platform_forecast(collab_store, "XIAOMI") is not None
