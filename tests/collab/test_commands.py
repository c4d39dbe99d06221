"""`cpfr collab` and `cpfr report kpis` from the command line: outputs, exit codes, the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from cpfr.data.store import Store

Cli = Callable[..., Result]


def test_submit_reports_bad_rows_and_unknown_partners(collab_store: Store, tmp_path: Path, cli: Cli) -> None:
    db = ["--db", collab_store.location]
    sku = sorted(collab_store.read_table("products", partner_id="JOMOO")["sku_id"])[0]
    good = tmp_path / "jomoo.csv"
    good.write_text(f"sku_id,channel_id,ds,units\n{sku},JD_ONLINE,2025-07-07,12\n", encoding="utf-8")
    result = cli("collab", "submit", str(good), "--partner", "JOMOO", *db)
    assert result.exit_code == 0, result.output
    assert "stored 1 forecasts of JOMOO" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"sku_id,channel_id,ds,units\n{sku},JD_ONLINE,2025-07-08,12\n", encoding="utf-8")
    refused = cli("collab", "submit", str(bad), "--partner", "JOMOO", *db)
    assert (
        refused.exit_code == 1
        and "bad.csv:2:ds" in refused.output
        and "nothing was written" in refused.output
    )
    unknown = cli("collab", "submit", str(good), "--partner", "NOKIA", *db)
    assert unknown.exit_code == 2 and "NOKIA" in unknown.output


def test_exceptions_consensus_override_and_kpis(
    collab_store: Store, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPFR_USER", "bo")
    db = ["--db", collab_store.location]
    listed = tmp_path / "exceptions.csv"
    result = cli("collab", "exceptions", "--partner", "XIAOMI", "-o", str(listed), *db)
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(listed).columns)[:3] == ["rank", "partner_id", "reason"]
    first = pd.read_csv(listed).iloc[0]
    # The table is narrow: money formatted, the product's name, each row's detail said below it.
    assert f"  1. {first['detail']}" in " ".join(result.stdout.split("\n"))
    assert "¥" in result.stdout and "value_yuan" not in result.stdout
    agreed, orders = tmp_path / "consensus.parquet", tmp_path / "orders.parquet"
    result = cli(
        "collab", "consensus", "--partner", "XIAOMI", "-o", str(agreed), "--orders", str(orders), *db
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(agreed)
    assert {"platform", "partner", "weight_platform", "consensus", "overridden"} <= set(table.columns)
    assert (pd.read_parquet(orders)["order"] >= 0).all()
    row = table.dropna(subset=["partner"]).iloc[0]
    week = pd.Timestamp(row["ds"]).date().isoformat()
    args = ["--partner", "XIAOMI", "--sku", row["sku_id"], "--channel", row["channel_id"], "--week", week]
    forged = cli("collab", "override", *args, "--units", "7", "--who", "alice", "--why", "x", *db)
    assert forged.exit_code == 2 and "not the acting user 'bo'" in forged.output
    changed = cli("collab", "override", *args, "--units", "77", "--why", "store opening", *db)
    assert changed.exit_code == 0, changed.output
    assert "→ 77.0 by bo (store opening)" in changed.output
    trail = collab_store.read_table("consensus_overrides")
    assert trail.iloc[-1][["who", "new_units"]].tolist() == ["bo", 77.0]
    no_reason = cli("collab", "override", *args, "--units", "5", "--why", " ", *db)
    assert no_reason.exit_code == 2 and "--why" in no_reason.output
    kpis = cli("report", "kpis", "--partner", "XIAOMI", *db)
    assert kpis.exit_code == 0, kpis.output
    assert "fill rate" in kpis.output and "in-stock rate" in kpis.output
