"""Partner forecast submissions: the arrangement's rules, errors by file, row and column, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from cpfr.collab.arrangement import arrangement_for, arrangements
from cpfr.collab.submit import submit_partner_forecast
from cpfr.data.store import Store
from cpfr.exceptions import InputError, ValidationError

from .conftest import write


def _skus(store: Store, partner: str) -> list[str]:
    return sorted(store.read_table("products", partner_id=partner)["sku_id"])


def test_arrangements_come_from_the_store_and_a_config_overrides_them(
    collab_store: Store, tmp_path: Path
) -> None:
    found = arrangements(collab_store)
    xiaomi = found["XIAOMI"]
    assert set(found) == {"XIAOMI", "LENOVO", "MIDEA", "JOMOO", "BYD"}
    assert "XIAOMI_HOME" in xiaomi.channels and "MIDEA_STORE" not in xiaomi.channels
    assert "JD_ONLINE" in xiaomi.channels and xiaomi.categories == ("3C", "HA", "WEAR")
    config = write(tmp_path, "arrangement.json", json.dumps({"XIAOMI": {"thresholds": {"z_score": 3.0}}}))
    assert arrangement_for(collab_store, "XIAOMI", config).thresholds.z_score == 3.0
    bad = write(tmp_path, "bad.json", json.dumps({"XIAOMI": {"thresholds": {"colour": 1}}}))
    with pytest.raises(InputError, match="colour"):
        arrangements(collab_store, bad)
    for text, message in (
        ('{"XIAOMI": {"thresholds": {"relative": -1}}}', "XIAOMI.thresholds.relative"),
        ('{"XIAOMI": {"thresholds": {"relative": "high"}}}', "XIAOMI.thresholds.relative"),
        ('{"XIAOMI": {"thresholds": {"value_yuan": 1e400}}}', "XIAOMI.thresholds.value_yuan"),
        ('{"XIAOMI": {"roles": {"boss": "me"}}}', "XIAOMI.roles.boss"),
        ('{"XIAOMI": ["not", "an", "object"]}', "XIAOMI: expected an object"),
        ("[1, 2]", "expected"),
        ('{"XIAOMI": {"thresholds": ', "not valid JSON"),
    ):
        with pytest.raises(InputError, match=message):
            arrangements(collab_store, write(tmp_path, "hostile.json", text))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"XIAOMI:\n  roles:\n    order_generation: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        arrangements(collab_store, latin)
    with pytest.raises(InputError, match="NOKIA"):
        arrangement_for(collab_store, "NOKIA")


def test_a_good_submission_is_stored(collab_store: Store, tmp_path: Path) -> None:
    sku = _skus(collab_store, "LENOVO")[0]
    path = write(
        tmp_path,
        "lenovo.csv",
        f"unique_id,ds,y\n{sku}@JD_ONLINE,2025-07-07,120\n{sku}@JD_ONLINE,2025-07-14,80.5\n",
    )
    result = submit_partner_forecast(collab_store, path, arrangement_for(collab_store, "LENOVO"))
    assert (result.rows, result.weeks, result.skus) == (2, 2, 1) and result.replaced == 2  # the demo had them
    stored = collab_store.read_table("partner_forecasts", partner_id="LENOVO")
    row = stored[(stored["sku_id"] == sku) & (stored["channel_id"] == "JD_ONLINE")]
    assert row.set_index(pd.to_datetime(row["ds"]))["units"].loc["2025-07-14"] == 80.5


def test_bad_rows_are_named_and_nothing_is_stored(collab_store: Store, tmp_path: Path) -> None:
    lenovo = _skus(collab_store, "LENOVO")[0]
    xiaomi = _skus(collab_store, "XIAOMI")[0]
    before = collab_store.read_table("partner_forecasts")
    text = (
        "sku_id,channel_id,ds,units\n"
        f"{lenovo},JD_ONLINE,2025-07-21,10\n"  # line 2: fine
        f"{xiaomi},JD_ONLINE,2025-07-21,10\n"  # line 3: not Lenovo's SKU
        f"{lenovo},XIAOMI_HOME,2025-07-21,10\n"  # line 4: another brand's stores
        f"{lenovo},JD_ONLINE,2027-03-01,10\n"  # line 5: after the agreement
        f"{lenovo},JD_ONLINE,2025-07-22,10\n"  # line 6: not a Monday
        f"{lenovo},JD_ONLINE,2025-07-28,-3\n"  # line 7: negative
        "NOPE,JD_ONLINE,2025-07-28,1\n"  # line 8: unknown SKU
    )
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValidationError) as caught:
        submit_partner_forecast(collab_store, path, arrangement_for(collab_store, "LENOVO"))
    found = {(problem.row, problem.column) for problem in caught.value.problems}
    assert found == {(3, "sku_id"), (4, "channel_id"), (5, "ds"), (6, "ds"), (7, "units"), (8, "sku_id")}
    assert all(problem.file == str(path) for problem in caught.value.problems)
    after = collab_store.read_table("partner_forecasts")
    pd.testing.assert_frame_equal(before, after)


def test_a_file_without_the_columns_is_refused(collab_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "wrong.csv", "sku,week,qty\nA,2025-07-07,1\n")
    with pytest.raises(InputError, match=r"wrong\.csv:1:sku_id"):
        submit_partner_forecast(collab_store, path, arrangement_for(collab_store, "LENOVO"))


def test_a_workbook_submission_names_sheet_and_excel_rows(collab_store: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook

    lenovo = _skus(collab_store, "LENOVO")[0]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "partner_forecasts"
    sheet.append(["sku_id", "channel_id", "ds", "units"])
    sheet.append([lenovo, "JD_ONLINE", dt.datetime(2025, 7, 21), 10.0])  # row 2: fine
    sheet.append([None, None, None, None])  # row 3: empty, skipped
    sheet.append([lenovo, "JD_ONLINE", dt.datetime(2025, 7, 22), 10])  # row 4: not a Monday
    sheet.append([lenovo, "JD_ONLINE", dt.datetime(2025, 7, 28), "lots"])  # row 5: not a number
    path = tmp_path / "lenovo.xlsx"
    book.save(path)
    before = collab_store.read_table("partner_forecasts")
    with pytest.raises(ValidationError) as caught:
        submit_partner_forecast(collab_store, path, arrangement_for(collab_store, "LENOVO"))
    found = {(problem.file, problem.row, problem.column) for problem in caught.value.problems}
    assert found == {(f"{path}[partner_forecasts]", 4, "ds"), (f"{path}[partner_forecasts]", 5, "units")}
    pd.testing.assert_frame_equal(before, collab_store.read_table("partner_forecasts"))
    sheet.delete_rows(4, 2)
    book.save(path)
    result = submit_partner_forecast(collab_store, path, arrangement_for(collab_store, "LENOVO"))
    assert (result.rows, result.first_week) == (1, dt.date(2025, 7, 21))
    stored = collab_store.read_table("partner_forecasts", partner_id="LENOVO")
    row = stored[(stored["sku_id"] == lenovo) & (pd.to_datetime(stored["ds"]) == "2025-07-21")]
    assert row["units"].tolist() == [10.0]
