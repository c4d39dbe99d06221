"""`cpfr targets`: decompose, track, attainment (JSON keys) and rankings from the store; clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import Result

from cpfr.data.store import Store

Cli = Callable[..., Result]


def test_decompose_writes_cells_that_sum_to_the_target(
    small_demo_store: Store, tmp_path: Path, cli: Cli
) -> None:
    output = tmp_path / "plan.parquet"
    db = ["--db", small_demo_store.location]
    result = cli("targets", "decompose", "T-MIDEA-GMV-2025", "--by", "channel_id", "-o", str(output), *db)
    assert result.exit_code == 0, result.output
    cells = pd.read_parquet(output)
    target = small_demo_store.read_table("targets").set_index("target_id").loc["T-MIDEA-GMV-2025", "value"]
    assert int(cells["target"].sum()) == round(target)
    pinned = cli("targets", "decompose", "T-MIDEA-GMV-2025", "--override", "month=2025-11:1e8", *db)
    assert pinned.exit_code == 0 and "2025-11" in pinned.output and "¥100m" in pinned.output
    bad = cli("targets", "decompose", "T-MIDEA-GMV-2025", "--override", "month=2025-11", *db)
    assert bad.exit_code == 2 and "--override" in bad.output


def test_track_and_attainment(small_demo_store: Store, tmp_path: Path, cli: Cli) -> None:
    db = ["--db", small_demo_store.location]
    page = tmp_path / "track.html"
    track = cli("targets", "track", "T-LENOVO-GMV-2025", "--by", "city_tier", "--report", str(page), *db)
    assert track.exit_code == 0, track.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "gap to date by city_tier" in html and "https://" not in html
    assert "required run rate" in track.output and "gap to date by city_tier" in track.output
    result = cli("targets", "attainment", "T-LENOVO-GMV-2025", "--json", *db)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"probability", "expected_total", "quantiles", "uplift_needed", "target", "actual"}
    assert 0 <= payload["probability"] <= 1 and set(payload["uplift_needed"]) == {"p0.5", "p0.8"}
    # What is within reach, for a planner to see where the target is not.
    assert set(payload["reachable_total"]) == {"p0.5", "p0.8"} and set(payload["share_probability"]) == {
        "s0.9",
        "s0.95",
    }
    assert payload["reachable_total"]["p0.8"] <= payload["reachable_total"]["p0.5"]
    assert payload["probability_from_sales"] >= 0 and payload["record"]["targets"] >= 3
    table = cli("targets", "attainment", "T-LENOVO-GMV-2025", *db)
    assert "final reached with 80% probability" in table.output and "P(reach 90% of target)" in table.output
    # Past the last day of sales: attainment forecasts the missing days, tracking refuses to count them as zero.
    late = cli("targets", "attainment", "T-LENOVO-GMV-2025", "--as-of", "2025-09-30", "--json", *db)
    assert late.exit_code == 0 and json.loads(late.stdout)["sales_through"] == "2025-06-30"
    refused = cli("targets", "track", "T-LENOVO-GMV-2025", "--as-of", "2025-09-30", *db)
    assert refused.exit_code == 2 and "sales end on 2025-06-30" in refused.output
    unknown = cli("targets", "track", "T-NOPE", *db)
    assert unknown.exit_code == 2 and "T-NOPE" in unknown.output


def test_rankings(small_demo_store: Store, tmp_path: Path, cli: Cli) -> None:
    db = ["--db", small_demo_store.location]
    output = tmp_path / "bands.csv"
    result = cli("targets", "rankings", "--event", "D11-2024", "--bands", "1000,3000", "-o", str(output), *db)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(output)
    assert set(table["band"]) <= {"<1000", "1000-3000", ">=3000"} and (table["rank_gmv"] >= 1).all()
    period = cli("targets", "rankings", "--start", "2025-06-01", "--end", "2025-06-18", "--all-channels", *db)
    assert period.exit_code == 0 and "price bands" in period.output
    neither = cli("targets", "rankings", *db)
    assert neither.exit_code == 2 and "--event" in neither.output


def test_attainment_on_too_short_a_history_is_a_clear_error(db_path: Path, cli: Cli) -> None:
    short = cli("targets", "attainment", "T-XM", "--db", db_path)
    assert short.exit_code == 2 and "seasonal growth needs 456" in short.output
    before = cli("targets", "attainment", "T-XM", "--as-of", "2023-01-01", "--db", db_path)
    assert before.exit_code == 2 and "no sales up to 2023-01-01" in before.output
