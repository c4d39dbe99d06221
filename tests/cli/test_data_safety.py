"""Regression tests of issue 10: routine mistakes and hostile files never lose, corrupt or forge stored data."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import Result

from cpfr.data.sources import frame_source
from cpfr.data.store import open_store
from cpfr.exceptions import ValidationError

Cli = Callable[..., Result]
WriteFile = Callable[[str, str | bytes], Path]


def _digest(db_path: Path) -> dict[str, str]:
    with open_store(db_path, mode="read") as store:
        return store.content_digest()


def _table(db_path: Path, name: str) -> pd.DataFrame:
    with open_store(db_path, mode="read") as store:
        return store.read_table(name)


# -- upserts never wipe what a file leaves out ---------------------------------------------------


def test_a_file_without_optional_columns_keeps_their_stored_values(
    db_path: Path, write_file: WriteFile, cli: Cli
) -> None:
    result = cli(
        "ingest",
        write_file("p.csv", "partner_id,name\nXIAOMI,Xiaomi Corp\n"),
        "--table",
        "partners",
        "--db",
        db_path,
    )
    assert result.exit_code == 0, result.output
    xiaomi = _table(db_path, "partners").set_index("partner_id").loc["XIAOMI"]
    assert xiaomi["name"] == "Xiaomi Corp"  # the column the file has is updated
    assert xiaomi["name_local"] == "小米"  # the one it lacks keeps its value


def test_sales_prices_survive_a_units_only_correction(db_path: Path, write_file: WriteFile, cli: Cli) -> None:
    fix = write_file(
        "fix.csv", "date,sku_id,location_id,units\n2024-01-01,P1,Z-N-1,9\n2024-01-09,P1,Z-N-1,4\n"
    )
    assert cli("ingest", fix, "--table", "sales", "--db", db_path).exit_code == 0
    sales = _table(db_path, "sales").set_index(["date", "sku_id"])
    corrected = sales.loc[(pd.Timestamp("2024-01-01"), "P1")]
    assert (corrected["units"], corrected["list_price"], corrected["paid_price"]) == (9, 3999, 3799)
    new = sales.loc[(pd.Timestamp("2024-01-09"), "P1")]
    assert pd.isna(new["list_price"]) and new["subsidy_yuan"] == 0  # a new row: defaults, not a copy


def test_a_store_keeps_its_partner_when_a_locations_parquet_lacks_the_column(
    db_path: Path, tmp_path: Path, write_file: WriteFile, cli: Cli
) -> None:
    stores = "location_id,name,kind,channel_id,region,partner_id\nS-XM,Xiaomi Home Wuhan,store,MALL,Central,XIAOMI\n"
    assert cli("ingest", write_file("s.csv", stores), "--table", "locations", "--db", db_path).exit_code == 0
    renamed = tmp_path / "renamed.parquet"
    pq.write_table(
        pa.table(
            {
                "location_id": ["S-XM"],
                "name": ["Xiaomi Home Wuhan Optics Valley"],
                "kind": ["store"],
                "channel_id": ["MALL"],
                "region": ["Central"],
            }
        ),
        renamed,
    )
    assert cli("ingest", renamed, "--table", "locations", "--db", db_path).exit_code == 0
    row = _table(db_path, "locations").set_index("location_id").loc["S-XM"]
    assert row["partner_id"] == "XIAOMI" and row["name"].endswith("Optics Valley")


def test_an_empty_cell_clears_a_value_on_purpose(db_path: Path, write_file: WriteFile, cli: Cli) -> None:
    clear = write_file("clear.csv", "partner_id,name,name_local\nXIAOMI,Xiaomi,\n")
    assert cli("ingest", clear, "--table", "partners", "--db", db_path).exit_code == 0
    assert pd.isna(_table(db_path, "partners").set_index("partner_id").loc["XIAOMI", "name_local"])


def test_a_row_rule_is_checked_against_the_stored_half_of_the_pair(
    db_path: Path, write_file: WriteFile, cli: Cli
) -> None:
    before = _digest(db_path)
    paid = write_file("paid.csv", "date,sku_id,location_id,units,paid_price\n2024-01-01,P1,Z-N-1,3,4500\n")
    result = cli("ingest", paid, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1 and "paid.csv:2:paid_price" in result.output  # stored list price is 3999
    assert _digest(db_path) == before


# -- values that parse but are not real ----------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["infinity", "-infinity", "0044-03-15 (BC)", "294247-01-01", "1899-12-31", "2101-01-01"]
)
def test_dates_outside_the_window_are_refused(
    db_path: Path, write_file: WriteFile, cli: Cli, value: str
) -> None:
    before = _digest(db_path)
    bad = write_file("bad.csv", f"date,sku_id,location_id,units\n{value},P1,Z-N-1,1\n")
    result = cli("ingest", bad, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1 and "bad.csv:2:date" in result.output and "1990-01-01" in result.output
    assert _digest(db_path) == before
    assert cli("summary", "--db", db_path).exit_code == 0


def test_a_parquet_timestamp_far_in_the_future_is_refused(db_path: Path, tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "far.parquet"
    pq.write_table(
        pa.table(
            {
                "date": pa.array([pd.Timestamp("2262-04-01")], pa.timestamp("s")),
                "sku_id": ["P1"],
                "location_id": ["Z-N-1"],
                "units": [1],
            }
        ),
        path,
    )
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1 and "far.parquet:1:date" in result.output


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("sku_id", '=HYPERLINK("http://x")'),
        ("sku_id", "P 1"),
        ("sku_id", "../../etc/passwd"),
        ("sku_id", "P1'; DROP TABLE sales; --"),
        ("sku_id", "P" * 129),
        ("name", "Xiaomi\x1b[31m red"),
        ("name", "a\x00b"),
        ("name", "x" * 1001),
        ("attributes", "[1, 2]"),
        ("attributes", "{not json"),
    ],
)
def test_identifiers_and_text_follow_their_rules(
    db_path: Path, write_file: WriteFile, cli: Cli, column: str, value: str
) -> None:
    before = _digest(db_path)
    row = {
        "sku_id": "P9",
        "partner_id": "XIAOMI",
        "name": "Xiaomi 16",
        "category_id": "PHONE",
        "list_price": "4999",
        "attributes": "{}",
    }
    row[column] = value
    path = write_file("products.csv", "")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    result = cli("ingest", path, "--table", "products", "--db", db_path)
    assert result.exit_code == 1, result.output
    assert f"products.csv:2:{column}" in result.output
    assert _digest(db_path) == before


def test_good_identifiers_and_attributes_are_accepted(db_path: Path, write_file: WriteFile, cli: Cli) -> None:
    products = (
        "sku_id,partner_id,name,category_id,list_price,attributes\n"
        'XM-15/PRO:256GB+1,XIAOMI,"=Xiaomi 15 Pro, ""black""",PHONE,5999,"{""colour"": ""black""}"\n'
        "小米手机16,XIAOMI,小米 16,PHONE,4999,\n"
    )
    result = cli("ingest", write_file("products.csv", products), "--table", "products", "--db", db_path)
    assert result.exit_code == 0, result.output


# -- file names are paths, never patterns ---------------------------------------------------------


@pytest.mark.parametrize("name", ["sales*.parquet", "sales?.parquet", "sales[12].parquet"])
def test_a_parquet_name_with_pattern_characters_reads_that_file_only(
    db_path: Path, tmp_path: Path, cli: Cli, name: str
) -> None:
    def write(file_name: str, day: str) -> Path:
        path = tmp_path / file_name
        pq.write_table(
            pa.table({"date": [day], "sku_id": ["P1"], "location_id": ["Z-N-1"], "units": [5]}), path
        )
        return path

    write("sales1.parquet", "2024-02-01")
    write("sales2.parquet", "2024-02-02")
    target = write(name, "2024-02-03")
    result = cli("ingest", target, "--table", "sales", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert "ingested 1 rows" in result.output
    days = set(_table(db_path, "sales")["date"].dt.strftime("%Y-%m-%d"))
    assert "2024-02-03" in days and not {"2024-02-01", "2024-02-02"} & days
    log = _table(db_path, "ingest_log")
    assert log.loc[log["file"] == str(target), "rows"].tolist() == [1]  # logged once, with its own rows


@pytest.mark.parametrize("name", ["file_row_number", "__row", "filename"])
def test_a_parquet_column_named_like_an_engine_column_is_an_error(
    db_path: Path, tmp_path: Path, cli: Cli, name: str
) -> None:
    path = tmp_path / "internal.parquet"
    pq.write_table(
        pa.table(
            {"date": ["2024-02-01"], "sku_id": ["P1"], "location_id": ["Z-N-1"], "units": [5], name: [1]}
        ),
        path,
    )
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code == 1 and "reserved" in result.output


def test_a_corrupt_parquet_page_is_an_error_naming_the_file(db_path: Path, tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "corrupt.parquet"
    days = pd.date_range("2024-03-01", periods=400).strftime("%Y-%m-%d")
    pq.write_table(
        pa.table(
            {
                "date": list(days),
                "sku_id": ["P1"] * 400,
                "location_id": ["Z-N-1"] * 400,
                "units": list(range(400)),
            }
        ),
        path,
        compression="snappy",
    )
    data = bytearray(path.read_bytes())
    for offset in range(8, len(data) // 2):  # scramble the data pages, keep the footer readable
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    before = _digest(db_path)
    result = cli("ingest", path, "--table", "sales", "--db", db_path)
    assert result.exit_code in (1, 2), result.output
    assert "corrupt.parquet" in result.output and "Traceback" not in result.output
    assert _digest(db_path) == before


def test_a_file_name_longer_than_the_system_allows_is_an_error(
    db_path: Path, tmp_path: Path, cli: Cli
) -> None:
    long_name = tmp_path / ("s" * 300 + ".csv")
    result = cli("ingest", long_name, "--table", "sales", "--db", db_path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    exported = cli("export", "sales", "-o", tmp_path / ("e" * 300 + ".csv"), "--db", db_path)
    assert exported.exit_code == 4 and "File name too long" in exported.output


# -- protected tables and the override trail ------------------------------------------------------


@pytest.mark.parametrize("table", ["consensus_overrides", "forecasts", "forecast_runs", "ingest_log"])
def test_derived_and_audit_tables_cannot_be_ingested(
    db_path: Path, write_file: WriteFile, cli: Cli, table: str
) -> None:
    before = _digest(db_path)
    result = cli("ingest", write_file("x.csv", "a\n1\n"), "--table", table, "--db", db_path)
    assert result.exit_code == 2 and "written by cpfr itself" in result.output
    assert _digest(db_path) == before


def test_the_override_trail_is_append_only(db_path: Path) -> None:
    row = {
        "override_id": "OVR-1",
        "partner_id": "XIAOMI",
        "sku_id": "P1",
        "channel_id": "JD",
        "ds": pd.Timestamp("2024-01-01").date(),
        "old_units": 3.0,
        "new_units": 5.0,
        "who": "alice",
        "why": "launch",
        "changed_at": "2024-01-01T00:00:00+00:00",
    }
    with open_store(db_path) as store:
        store.write_rows(pd.DataFrame([row]), "consensus_overrides")
        forged = pd.DataFrame([{**row, "who": "mallory", "new_units": 500.0}])
        with pytest.raises(ValidationError, match="append-only"):
            store.write_rows(forged, "consensus_overrides")
        trail = store.read_table("consensus_overrides")
    assert trail[["who", "new_units"]].values.tolist() == [["alice", 5.0]]


# -- opening stores -------------------------------------------------------------------------------


def test_a_mistyped_store_is_an_error_and_is_not_created(
    tmp_path: Path, cli: Cli, write_file: WriteFile
) -> None:
    typo = tmp_path / "alliance.duckbd"
    for args in (
        ("summary",),
        ("ingest", write_file("p.csv", "partner_id,name\nX,X\n"), "--table", "partners"),
        ("export", "sales", "-o", tmp_path / "o.csv"),
        ("db", "info"),
    ):
        result = cli(*args, "--db", typo)
        assert result.exit_code == 4 and "no cpfr store" in result.output, (args, result.output)
    assert not typo.exists()
    created = cli(
        "ingest",
        write_file("p.csv", "partner_id,name\nX,X\n"),
        "--table",
        "partners",
        "--db",
        typo,
        "--create",
    )
    assert created.exit_code == 0 and typo.exists()


def test_a_foreign_duckdb_file_is_refused_and_left_alone(tmp_path: Path, cli: Cli) -> None:
    foreign = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE invoices (id INTEGER, amount DOUBLE)")
    con.execute("INSERT INTO invoices VALUES (1, 9.5)")
    con.close()
    size = foreign.stat().st_size
    for args in (("db", "info"), ("db", "migrate"), ("db", "init"), ("summary",)):
        result = cli(*args, "--db", foreign)
        assert result.exit_code == 4 and "not a cpfr store" in result.output and "invoices" in result.output
    con = duckdb.connect(str(foreign), read_only=True)
    assert [row[0] for row in con.execute("SHOW TABLES").fetchall()] == ["invoices"]
    con.close()
    assert foreign.stat().st_size == size


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, cli: Cli) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("meeting notes\n" * 100)
    result = cli("summary", "--db", text)
    assert result.exit_code == 4 and "not a cpfr store" in result.output
    assert text.read_text() == "meeting notes\n" * 100


def test_a_store_opened_for_reading_refuses_writes(db_path: Path) -> None:
    with open_store(db_path, mode="read") as store:
        assert store.read_only
        with pytest.raises(Exception, match="read-only"):
            store.ingest(frame_source(pd.DataFrame({"partner_id": ["Z"], "name": ["Z"]}), "z"), "partners")


# -- spreadsheets ---------------------------------------------------------------------------------


def test_exported_csv_neutralises_formulas_unless_asked_not_to(
    db_path: Path, tmp_path: Path, write_file: WriteFile, cli: Cli
) -> None:
    partners = 'partner_id,name,name_local\nEVIL,"=HYPERLINK(""http://x"",""click"")",@SUM(A1)\nGOOD,-3 dB audio,+86\n'
    assert cli("ingest", write_file("p.csv", partners), "--table", "partners", "--db", db_path).exit_code == 0
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    assert cli("export", "partners", "-o", safe, "--db", db_path).exit_code == 0
    assert cli("export", "partners", "-o", raw, "--db", db_path, "--raw-csv").exit_code == 0
    exported = pd.read_csv(safe, keep_default_na=False).set_index("partner_id")
    assert exported.loc["EVIL", "name"] == '\'=HYPERLINK("http://x","click")'
    assert exported.loc["EVIL", "name_local"] == "'@SUM(A1)"
    assert exported.loc["GOOD", "name"] == "'-3 dB audio" and exported.loc["GOOD", "name_local"] == "'+86"
    assert pd.read_csv(raw, keep_default_na=False).set_index("partner_id").loc["EVIL", "name"].startswith("=")
    sales = tmp_path / "sales.csv"
    assert cli("export", "sales", "-o", sales, "--db", db_path).exit_code == 0
    assert sorted(pd.read_csv(sales)["units"].tolist()) == [1, 2, 3]  # numbers are untouched


# -- one exit-code table, no tracebacks -----------------------------------------------------------


def test_an_unexpected_failure_is_exit_5_with_a_log(
    db_path: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cpfr.cli.demo_commands as commands

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(commands, "alliance_summary", broken)
    monkeypatch.setenv("CPFR_LOG_DIR", str(tmp_path / "logs"))
    result = cli("summary", "--db", db_path)
    assert result.exit_code == 5 and "internal error (ZeroDivisionError: a bug)" in result.output
    logs = list((tmp_path / "logs").glob("cpfr-crash-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text() and "Traceback" not in result.output


def test_usage_errors_keep_exit_2(cli: Cli) -> None:
    assert cli("ingest").exit_code == 2
    assert cli("no-such-command").exit_code == 2
    assert cli("summary", "--wait", "-1").exit_code == 2


class _FailingConnection:
    """A connection whose write and whose ROLLBACK both fail, as on a disk that just filled up."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    def execute(self, sql: str, *args: object) -> object:
        if sql == "ROLLBACK":
            self._connection.execute(sql)
            raise duckdb.IOException("IO Error: could not truncate the write-ahead log")
        if sql.startswith("INSERT INTO ingest_log"):
            raise duckdb.IOException("IO Error: No space left on device")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


def test_a_failed_rollback_never_hides_the_original_error(db_path: Path, write_file: WriteFile) -> None:
    from cpfr.data.ingest import ingest_file
    from cpfr.exceptions import StoreError

    before = _digest(db_path)
    with open_store(db_path) as store:
        store._con = _FailingConnection(store._con)  # type: ignore[attr-defined]
        with pytest.raises(StoreError) as caught:
            ingest_file(store, write_file("p.csv", "partner_id,name\nLENOVO,Lenovo\n"), "partners")
    assert "No space left on device" in str(caught.value) and "nothing was written" in str(caught.value)
    assert any("rollback failed too" in note for note in getattr(caught.value.__cause__, "__notes__", []))
    assert _digest(db_path) == before


def test_a_sparse_file_or_a_tiny_frequency_is_refused_before_building_a_calendar(
    write_file: WriteFile, cli: Cli
) -> None:
    sparse = write_file("sparse.csv", "unique_id,ds,y\na,2024-01-01 00:00:00,1\na,2024-06-01 00:00:01,2\n")
    result = cli("forecast", sparse, "-h", "2", "-o", "out.csv", "--freq", "1ns")
    assert result.exit_code == 2 and "at most 1,000,000" in result.output


def test_replenish_db_refuses_a_review_period_of_zero(db_path: Path, cli: Cli) -> None:
    result = cli("replenish", "--db", db_path, "-o", "orders.csv", "--review-period", "0")
    assert result.exit_code == 2 and "--review-period 0" in result.output
    result = cli("replenish", "--db", db_path, "-o", "orders.csv", "--shortage-rate", "inf")
    assert result.exit_code == 2 and "--shortage-rate" in result.output
