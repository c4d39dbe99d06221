"""`cpfr db info`, `cpfr db migrate`, `cpfr export` and `cpfr summary` on the tiny alliance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import Result

from cpfr.data.migrations import LATEST_VERSION
from cpfr.data.store import open_store

Cli = Callable[..., Result]


def test_db_info_lists_tables_rows_and_date_ranges(db_path: Path, cli: Cli) -> None:
    result = cli("db", "info", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert f"schema version {LATEST_VERSION}" in result.output
    sales_lines = [line for line in result.output.splitlines() if line.strip().startswith("│ sales")]
    assert any("XIAOMI" in line and "2024-01-01" in line and "2024-01-02" in line for line in sales_lines)


def test_db_migrate_reports_versions(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "fresh.duckdb"
    missing = cli("db", "migrate", "--db", path)
    assert missing.exit_code == 4 and "no cpfr store" in missing.output and not path.exists()
    first = cli("db", "migrate", "--db", path, "--create")
    assert first.exit_code == 0
    assert f"applied migrations {list(range(1, LATEST_VERSION + 1))}" in first.output
    second = cli("db", "migrate", "--db", path)
    assert f"up to date (version {LATEST_VERSION})" in second.output


def test_export_writes_csv_and_parquet(db_path: Path, tmp_path: Path, cli: Cli) -> None:
    for name in ("out.csv", "out.parquet"):
        result = cli("export", "sales", "--output", tmp_path / name, "--db", db_path)
        assert result.exit_code == 0, result.output
        assert "wrote 3 rows of sales" in result.output
    from_csv = pd.read_csv(tmp_path / "out.csv")
    from_parquet = pd.read_parquet(tmp_path / "out.parquet")
    assert from_csv["units"].tolist() == from_parquet["units"].tolist()
    assert sorted(from_csv["units"]) == [1, 2, 3]


def test_export_of_an_unknown_table_or_format_fails_cleanly(db_path: Path, tmp_path: Path, cli: Cli) -> None:
    unknown = cli("export", "salez", "--output", tmp_path / "x.csv", "--db", db_path)
    assert unknown.exit_code == 2
    assert "unknown table 'salez'" in unknown.output
    bad_format = cli("export", "sales", "--output", tmp_path / "x.ods", "--db", db_path)
    assert bad_format.exit_code == 2
    assert ".ods" in bad_format.output
    assert not (tmp_path / "x.ods").exists()


def test_summary_shows_attainment_and_breakdowns(db_path: Path, cli: Cli) -> None:
    result = cli("summary", "--db", db_path)
    assert result.exit_code == 0, result.output
    # XIAOMI: 3 x 3799 + 2 x 3999 = 19,395 yuan against 100,000 → 19 %
    xiaomi = next(line for line in result.output.splitlines() if line.strip().startswith("XIAOMI"))
    assert xiaomi.split()[1:6] == ["GMV", "2024–26", "¥100k", "¥19.4k", "19%"]
    for heading in ("by category", "by channel", "by city tier", "by month"):
        assert heading in result.output
    midea = cli("summary", "--db", db_path, "--partner", "MIDEA")
    assert "XIAOMI" not in midea.output
    assert "MIDEA" in midea.output


def test_summary_rejects_a_bad_date(db_path: Path, cli: Cli) -> None:
    result = cli("summary", "--db", db_path, "--as-of", "yesterday")
    assert result.exit_code == 2
    assert "'yesterday' is not a date" in result.output


def test_targets_count_only_their_scope(db_path: Path) -> None:
    from cpfr.targets import target_progress

    with open_store(db_path) as store:
        table = target_progress(store).table.set_index("target_id")
    assert table.loc["T-XM", "actual"] == 3 * 3799 + 2 * 3999
    # MIDEA's target counts online units of home appliances; its one sale was in a JD MALL store.
    assert table.loc["T-MD-ONLINE", "actual"] == 0
    assert table.loc["T-MD-ONLINE", "scope"] == "HA / platform_online"
