"""`cpfr demo generate` and `cpfr demo run` end to end on the small scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from typer.testing import Result

from cpfr.data.store import open_store


def test_demo_generate_writes_every_table_and_the_truth(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out = tmp_path / "demo"
    result = cli("demo", "generate", "--small", "--seed", "7", "--out", out)
    assert result.exit_code == 0, result.output
    names = {path.stem for path in out.glob("*.parquet")}
    assert {"partners", "products", "sales", "inventory", "targets", "events"} <= names
    assert (out / "truth" / "true_demand.parquet").exists()
    assert (out / "truth" / "parameters.json").exists()


def test_demo_run_loads_the_store_and_prints_the_summary(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out, db = tmp_path / "demo", tmp_path / "demo.duckdb"
    result = cli("demo", "run", "--small", "--out", out, "--db", db)
    assert result.exit_code == 0, result.output
    assert "Alliance targets" in result.output
    assert "GMV by month" in result.output
    with open_store(db) as store:
        counts = {entry.table: entry.rows for entry in store.table_info()}
        digest = store.content_digest()
    for path in out.glob("*.parquet"):
        assert counts[path.stem] == pq.read_metadata(path).num_rows, path.stem
    # Running it again (same seed) leaves the same store.
    again = cli("demo", "run", "--small", "--out", out, "--db", db)
    assert again.exit_code == 0
    with open_store(db) as store:
        repeated = store.content_digest()
    assert {name: repeated[name] for name in counts if name != "ingest_log"} == {
        name: digest[name] for name in counts if name != "ingest_log"
    }


def test_uplift_reads_events_from_the_demo_store(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out, db = tmp_path / "demo", tmp_path / "demo.duckdb"
    assert cli("demo", "run", "--small", "--out", out, "--db", db).exit_code == 0
    saved = tmp_path / "uplift.csv"
    result = cli("uplift", "--db", db, "--by", "category_l1", "--output", saved)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(saved)
    assert {"618-2024", "D11-2024"} <= set(table["event_id"])
    # Every festival lifts the big categories' peak day several times over.
    big = table[table["category_l1"].isin(["3C", "HA"])]
    assert (big["peak_multiplier"] > 2).all()
    assert (big["dip_before"] < 0).all()


def test_forecast_from_the_store_writes_a_run(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out, db = tmp_path / "demo", tmp_path / "demo.duckdb"
    assert cli("demo", "run", "--small", "--out", out, "--db", db).exit_code == 0
    saved = tmp_path / "forecast.csv"
    result = cli(
        "forecast",
        "--db",
        db,
        "--level",
        "sku/store",
        "--horizon",
        "7",
        "--model",
        "seasonal_naive,window_average",
        "-o",
        saved,
    )
    assert result.exit_code == 0, result.output
    assert "stockout days unconstrained" in result.output
    with open_store(db) as store:
        runs = store.read_table("forecast_runs")
        forecasts = store.read_table("forecasts")
    assert len(runs) == 1 and runs["level"].item() == "sku/store"
    assert len(forecasts) == runs["series"].item() * 7
    assert forecasts.groupby("unique_id").size().eq(7).all()
    assert forecasts["location_id"].notna().all() and forecasts["partner_id"].notna().all()
    quantiles = forecasts[["q0.05", "q0.1", "q0.25", "q0.5", "q0.75", "q0.9", "q0.95"]].to_numpy()
    assert (quantiles[:, 1:] >= quantiles[:, :-1]).all()
    assert len(pd.read_csv(saved)) == len(forecasts)
