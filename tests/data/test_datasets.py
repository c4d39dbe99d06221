"""Long-format datasets: reading and validating files, frequencies, gaps, M5, the shared datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpfr.data.datasets import (
    JD_SKU_COLUMNS,
    SHARED_DATA_ENV_VAR,
    SHARED_DATASETS,
    LongDataset,
    fill_gaps,
    infer_freq,
    load_jd_sku_master,
    load_shared,
    m5_to_long,
    read_long,
    read_m5,
    shared_data_root,
)
from cpfr.exceptions import InputError, SchemaError, ValidationError

DAILY_CSV = (
    "unique_id,ds,y,price,promo\n"
    "b,2024-01-02,5,1.5,none\n"
    "a,2024-01-01,1,2.0,tv\n"
    "b,2024-01-01,4,1.5,none\n"
    "a,2024-01-02,2.5,2.0,radio\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_long_csv_sorts_types_and_infers_daily(tmp_path: Path) -> None:
    dataset = read_long(write(tmp_path / "daily.csv", DAILY_CSV))
    frame = dataset.df
    assert dataset.freq == "D"
    assert dataset.name == "daily"
    assert frame["unique_id"].tolist() == ["a", "a", "b", "b"]
    assert frame["ds"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-02"] * 2
    assert frame["y"].tolist() == [1.0, 2.5, 4.0, 5.0]
    assert frame["price"].tolist() == [2.0, 2.0, 1.5, 1.5]
    assert frame["promo"].tolist() == ["tv", "radio", "none", "none"]
    assert pd.api.types.is_string_dtype(frame["unique_id"])
    assert frame["ds"].dtype == "datetime64[ns]"
    assert frame["y"].dtype == "float64"
    assert dataset.exogenous == ["price", "promo"]
    assert (dataset.n_series, len(dataset)) == (2, 4)
    assert dataset.static is None


def test_read_long_parquet_round_trip_weekly(tmp_path: Path) -> None:
    original = pd.DataFrame(
        {
            "unique_id": ["s2", "s1", "s1", "s2"],
            "ds": pd.to_datetime(["2024-01-07", "2024-01-14", "2024-01-07", "2024-01-14"]),
            "y": [3.0, -1.0, 2.0, 4.0],
            "deal": [0, 1, 0, 1],
        }
    )
    path = tmp_path / "weekly.parquet"
    original.to_parquet(path)
    dataset = read_long(path, name="wk")
    expected = original.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(dataset.df, expected.astype({"unique_id": "str", "ds": "datetime64[ns]"}))
    assert dataset.freq == "W-SUN"
    assert dataset.name == "wk"
    assert dataset.df["deal"].dtype == "int64"


def test_read_long_infers_month_start(tmp_path: Path) -> None:
    text = "unique_id,ds,y\nx,2024-01-01,1\nx,2024-02-01,2\nx,2024-03-01,3\nx,2024-05-01,5\n"
    dataset = read_long(write(tmp_path / "monthly.csv", text))
    assert dataset.freq == "MS"
    assert dataset.df["y"].tolist() == [1.0, 2.0, 3.0, 5.0]


def test_read_long_renames_columns(tmp_path: Path) -> None:
    text = "sku,week,units,store\nP1,2024-01-03,7,S1\nP1,2024-01-10,8,S1\n"
    dataset = read_long(
        write(tmp_path / "sales.csv", text), id_col="sku", time_col="week", target_col="units"
    )
    assert list(dataset.df.columns) == ["unique_id", "ds", "y", "store"]
    assert dataset.freq == "W-WED"
    assert dataset.df["y"].tolist() == [7.0, 8.0]


def test_missing_columns_are_named_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "nodate.csv", "sku,units\nP1,3\n")
    with pytest.raises(SchemaError) as caught:
        read_long(path, id_col="sku", target_col="units")
    assert str(caught.value) == f"{path}:1:ds: missing — expected a column 'ds' (the ds)"
    with pytest.raises(SchemaError, match=r"date.*\n.*:1:y:"):
        read_long(write(tmp_path / "none.csv", "unique_id,when\nP1,3\n"), time_col="date")


def test_bad_date_is_reported_at_its_line(tmp_path: Path) -> None:
    text = "unique_id,ds,y\na,2024-01-01,1\na,2024-13-01,2\na,2024-01-03,3\n"
    path = write(tmp_path / "dates.csv", text)
    with pytest.raises(ValidationError) as caught:
        read_long(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (str(path), 3, "ds", "2024-13-01")
    assert str(caught.value).startswith(f"{path}:3:ds: value '2024-13-01'")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("abc", "a number"), ("inf", "a finite number"), ("nan", "a finite number"), ("", "a number")],
)
def test_bad_target_is_reported_at_its_line(tmp_path: Path, cell: str, expected: str) -> None:
    text = f"unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-03,{cell}\n"
    path = write(tmp_path / "target.csv", text)
    with pytest.raises(ValidationError) as caught:
        read_long(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.expected) == (4, "y", expected)
    assert problem.value == (cell or None)
    assert f"{path}:4:y:" in caught.value.report()


def test_duplicate_pair_points_at_the_repeat(tmp_path: Path) -> None:
    text = "unique_id,ds,y\na,2024-01-01,1\nb,2024-01-01,1\na,2024-01-01,2\n"
    path = write(tmp_path / "dups.csv", text)
    with pytest.raises(ValidationError) as caught:
        read_long(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (4, "ds", "2024-01-01")
    assert str(problem).startswith(f"{path}:4:ds:")


def test_every_problem_is_collected_in_file_order(tmp_path: Path) -> None:
    text = "unique_id,ds,y\n,2024-01-01,x\na,someday,1\na,2024-01-01,-inf\n"
    with pytest.raises(ValidationError) as caught:
        read_long(write(tmp_path / "many.csv", text))
    located = [(p.row, p.column) for p in caught.value.problems]
    assert located == [(2, "unique_id"), (2, "y"), (3, "ds"), (4, "y")]
    assert caught.value.total == 4


def test_problems_are_capped_at_fifty(tmp_path: Path) -> None:
    rows = "".join(f"a,2024-01-{day:02d},bad\n" for day in range(1, 31))
    rows += "".join(f"b,2024-01-{day:02d},bad\n" for day in range(1, 31))
    with pytest.raises(ValidationError) as caught:
        read_long(write(tmp_path / "capped.csv", "unique_id,ds,y\n" + rows))
    assert len(caught.value.problems) == 50
    assert caught.value.total == 60
    assert caught.value.problems[-1].row == 51
    assert "10 more problems (60 in all)" in caught.value.report()


def test_parquet_rows_count_from_one(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"unique_id": ["a", "a", "a"], "ds": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])}
    )
    path = tmp_path / "nan.parquet"
    frame.assign(y=[1.0, np.inf, np.nan]).to_parquet(path)
    with pytest.raises(ValidationError) as caught:
        read_long(path)
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(2, "y", "inf"), (3, "y", None)]
    assert str(caught.value).startswith(f"{path}:2:y: value 'inf'")


def test_dates_off_the_given_frequency_are_reported(tmp_path: Path) -> None:
    text = "unique_id,ds,y\na,2024-01-07,1\na,2024-01-15,2\n"
    with pytest.raises(ValidationError) as caught:
        read_long(write(tmp_path / "grid.csv", text), freq="W-SUN")
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "ds", "2024-01-15")
    with pytest.raises(InputError, match="not a pandas frequency"):
        read_long(write(tmp_path / "alias.csv", text), freq="FORTNIGHT")


def test_unknown_extension_and_missing_file_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "sales.ods", "x")
    with pytest.raises(InputError, match=r"sales\.ods.*unknown file type"):
        read_long(path)
    with pytest.raises(InputError, match=r"absent\.csv: no such file"):
        read_long(tmp_path / "absent.csv")


def test_infer_freq() -> None:
    def dates(*values: str) -> pd.Series:
        return pd.Series(pd.to_datetime(list(values)))

    assert infer_freq(dates("2024-01-01", "2024-01-02", "2024-01-05", "2024-01-02")) == "D"
    assert infer_freq(dates("2024-01-03", "2024-01-10", "2024-01-24")) == "W-WED"
    assert infer_freq(dates("2024-01-31", "2024-02-29", "2024-03-31")) == "ME"
    assert infer_freq(dates("2023-12-01", "2024-01-01", "2024-02-01")) == "MS"
    with pytest.raises(InputError, match="different weekdays"):
        infer_freq(dates("2024-01-03", "2024-01-10", "2024-01-18"))
    with pytest.raises(InputError, match="step of 3 days"):
        infer_freq(dates("2024-01-01", "2024-01-04", "2024-01-07"))
    with pytest.raises(InputError, match="fewer than two"):
        infer_freq(dates("2024-01-01", "2024-01-01"))


def test_fill_gaps_inserts_zeros_and_keeps_values() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "a", "a", "b", "b"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-06", "2024-01-02", "2024-01-03"]),
            "y": [1.0, 3.0, 6.0, 2.0, 3.0],
            "deal": [1, 0, 1, 5, 6],
        }
    ).astype({"unique_id": "str", "ds": "datetime64[ns]"})
    static = pd.DataFrame({"unique_id": ["a", "b"], "store": [1, 2]})
    filled = fill_gaps(LongDataset(frame, freq="D", name="toy", static=static))
    days = filled.df.loc[filled.df["unique_id"] == "a", "ds"].dt.day.tolist()
    assert days == [1, 2, 3, 4, 5, 6]
    assert filled.df["y"].tolist() == [1.0, 0.0, 3.0, 0.0, 0.0, 6.0, 2.0, 3.0]
    assert filled.df["deal"].tolist() == [1, 1, 0, 0, 0, 1, 5, 6]
    assert filled.df["deal"].dtype == "int64"
    assert (filled.freq, filled.name) == ("D", "toy")
    assert filled.static is static
    with pytest.raises(InputError, match="not on its 'W-SUN' grid"):
        fill_gaps(LongDataset(frame, freq="W-SUN"))


def test_fill_gaps_weekly_with_a_chosen_value() -> None:
    frame = pd.DataFrame(
        {"unique_id": ["a", "a"], "ds": pd.to_datetime(["2024-01-07", "2024-01-28"]), "y": [7.0, 28.0]}
    ).astype({"unique_id": "str", "ds": "datetime64[ns]"})
    filled = fill_gaps(LongDataset(frame, freq="W-SUN"), value=-1.0)
    assert filled.df["ds"].dt.day.tolist() == [7, 14, 21, 28]
    assert filled.df["y"].tolist() == [7.0, -1.0, -1.0, 28.0]


def m5_fixture() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three items in two states over ten days; y = 100 * item + day."""
    items = pd.DataFrame(
        {
            "id": [
                "FOODS_1_002_CA_1_evaluation",
                "FOODS_1_001_CA_1_evaluation",
                "HOBBIES_1_001_TX_1_evaluation",
            ],
            "item_id": ["FOODS_1_002", "FOODS_1_001", "HOBBIES_1_001"],
            "dept_id": ["FOODS_1", "FOODS_1", "HOBBIES_1"],
            "cat_id": ["FOODS", "FOODS", "HOBBIES"],
            "store_id": ["CA_1", "CA_1", "TX_1"],
            "state_id": ["CA", "CA", "TX"],
        }
    )
    sales = pd.concat(
        [items, pd.DataFrame({f"d_{day}": [200 + day, 100 + day, 300 + day] for day in range(1, 11)})], axis=1
    )
    dates = pd.date_range("2011-01-29", periods=10, freq="D")
    calendar = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "wm_yr_wk": [11101] * 7 + [11102] * 3,
            "weekday": dates.day_name(),
            "d": [f"d_{day}" for day in range(1, 11)],
            "event_name_1": [None] * 8 + ["SuperBowl", None],
            "event_type_1": [None] * 8 + ["Sporting", None],
            "event_name_2": [None] * 10,
            "event_type_2": [None] * 10,
            "snap_CA": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            "snap_TX": [0, 0, 1, 1, 1, 0, 0, 0, 0, 0],
            "snap_WI": [0] * 10,
        }
    )
    prices = pd.DataFrame(
        {
            "store_id": ["CA_1", "CA_1", "CA_1", "TX_1"],
            "item_id": ["FOODS_1_001", "FOODS_1_001", "FOODS_1_002", "HOBBIES_1_001"],
            "wm_yr_wk": [11101, 11102, 11102, 11101],
            "sell_price": [2.0, 2.5, 3.0, 9.99],
        }
    )
    return sales, calendar, prices


def cell(frame: pd.DataFrame, unique_id: str, date: str, column: str) -> object:
    row = frame[(frame["unique_id"] == unique_id) & (frame["ds"] == pd.Timestamp(date))]
    assert len(row) == 1
    return row[column].iloc[0]


def test_m5_to_long_on_a_tiny_fixture() -> None:
    sales, calendar, prices = m5_fixture()
    long = m5_to_long(sales, calendar, prices)
    assert len(long) == 3 * 10
    assert long["unique_id"].unique().tolist() == [
        "FOODS_1_001_CA_1",
        "FOODS_1_002_CA_1",
        "HOBBIES_1_001_TX_1",
    ]
    assert bool(long.groupby("unique_id")["ds"].is_monotonic_increasing.all())
    assert cell(long, "FOODS_1_001_CA_1", "2011-01-29", "y") == 101.0
    assert cell(long, "FOODS_1_002_CA_1", "2011-02-07", "y") == 210.0
    assert cell(long, "HOBBIES_1_001_TX_1", "2011-02-02", "y") == 305.0
    assert cell(long, "FOODS_1_001_CA_1", "2011-02-04", "sell_price") == 2.0
    assert cell(long, "FOODS_1_001_CA_1", "2011-02-05", "sell_price") == 2.5
    assert pd.isna(cell(long, "FOODS_1_002_CA_1", "2011-01-30", "sell_price"))
    assert cell(long, "FOODS_1_002_CA_1", "2011-02-06", "sell_price") == 3.0
    assert pd.isna(cell(long, "HOBBIES_1_001_TX_1", "2011-02-06", "sell_price"))
    assert long.loc[long["unique_id"] == "FOODS_1_001_CA_1", "snap"].tolist() == [1, 1] + [0] * 8
    assert long.loc[long["unique_id"] == "HOBBIES_1_001_TX_1", "snap"].tolist() == [0, 0, 1, 1, 1] + [0] * 5
    assert cell(long, "HOBBIES_1_001_TX_1", "2011-02-06", "event_name_1") == "SuperBowl"
    assert cell(long, "HOBBIES_1_001_TX_1", "2011-02-06", "event_type_1") == "Sporting"
    assert cell(long, "HOBBIES_1_001_TX_1", "2011-02-06", "state_id") == "TX"
    assert list(long.columns[:3]) == ["unique_id", "ds", "y"]
    assert {"item_id", "dept_id", "cat_id", "store_id"} <= set(long.columns)
    assert "sell_price" not in m5_to_long(sales, calendar).columns


def test_read_m5_splits_static(tmp_path: Path) -> None:
    sales, calendar, prices = m5_fixture()
    sales.to_csv(tmp_path / "sales_train_validation.csv", index=False)
    calendar.to_csv(tmp_path / "calendar.csv", index=False)
    prices.to_csv(tmp_path / "sell_prices.csv", index=False)
    dataset = read_m5(tmp_path)
    assert (dataset.freq, dataset.n_series, len(dataset)) == ("D", 3, 30)
    assert dataset.exogenous == ["sell_price", "event_name_1", "event_type_1", "snap"]
    assert dataset.static is not None
    assert dataset.static["unique_id"].tolist() == [
        "FOODS_1_001_CA_1",
        "FOODS_1_002_CA_1",
        "HOBBIES_1_001_TX_1",
    ]
    assert dataset.static["state_id"].tolist() == ["CA", "CA", "TX"]
    assert dataset.with_static()["dept_id"].iloc[-1] == "HOBBIES_1"
    (tmp_path / "calendar.csv").unlink()
    with pytest.raises(InputError, match=r"calendar\.csv: no such file"):
        read_m5(tmp_path)
    with pytest.raises(InputError, match=r"no sales_train_evaluation\.csv"):
        read_m5(tmp_path / "elsewhere")


def test_shared_data_root_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV_VAR, str(tmp_path))
    assert shared_data_root() == tmp_path
    monkeypatch.setenv(SHARED_DATA_ENV_VAR, str(tmp_path / "absent"))
    assert shared_data_root() is None
    with pytest.raises(InputError, match="shared data not found"):
        load_shared("vn2")
    with pytest.raises(InputError, match=r"nowhere.*vn2.*sales\.parquet: no such file"):
        load_shared("vn2", root=tmp_path / "nowhere")
    with pytest.raises(InputError, match="unknown shared dataset 'm4'"):
        load_shared("m4", root=tmp_path)


SHARED_ROOT = shared_data_root()
needs_shared = pytest.mark.skipif(SHARED_ROOT is None, reason="../shared/data is absent")

# (series, rows, freq, static columns) measured on the shared files.
SHARED_EXPECTED = {
    "dominicks_oj": (913, 106_139, "W-THU", {"store", "brand", "age60", "income", "cpwvol5"}),
    "stallion": (350, 21_000, "MS", {"agency", "sku", "avg_population_2017"}),
    "vn2": (599, 94_043, "W-MON", {"store", "product", "product_group", "store_format", "format"}),
}


@needs_shared
@pytest.mark.parametrize("name", SHARED_DATASETS)
def test_load_shared_counts(name: str) -> None:
    assert SHARED_ROOT is not None
    if not (SHARED_ROOT / name / "sales.parquet").is_file():
        pytest.skip(f"{name}/sales.parquet is absent")
    n_series, n_rows, freq, static_columns = SHARED_EXPECTED[name]
    dataset = load_shared(name)
    assert (dataset.n_series, len(dataset), dataset.freq, dataset.name) == (n_series, n_rows, freq, name)
    assert not bool(dataset.df.duplicated(["unique_id", "ds"]).any())
    assert dataset.static is not None
    assert len(dataset.static) == n_series
    assert static_columns <= set(dataset.static.columns)
    assert not static_columns & set(dataset.exogenous)
    assert dataset.df["y"].dtype == "float64"


@needs_shared
def test_fill_gaps_on_dominicks_fills_only_the_missing_weeks() -> None:
    assert SHARED_ROOT is not None
    if not (SHARED_ROOT / "dominicks_oj" / "sales.parquet").is_file():
        pytest.skip("dominicks_oj/sales.parquet is absent")
    dataset = load_shared("dominicks_oj")
    filled = fill_gaps(dataset)
    assert len(filled) == 109_758  # 3,619 missing store x brand weeks inside the series' spans
    kept = filled.df.merge(dataset.df, on=["unique_id", "ds"], suffixes=("", "_source"))
    assert len(kept) == len(dataset)
    assert (kept["y"] == kept["y_source"]).all()
    assert filled.df["ds"].dt.day_of_week.eq(3).all()


@needs_shared
def test_load_jd_sku_master() -> None:
    assert SHARED_ROOT is not None
    if not (SHARED_ROOT / "jd_msom" / "raw" / "JD_sku_data.parquet").is_file():
        pytest.skip("the JD SKU table is absent")
    frame = load_jd_sku_master()
    assert tuple(frame.columns) == JD_SKU_COLUMNS
    assert len(frame) == 31_868
    assert frame["type"].value_counts().to_dict() == {2: 30_701, 1: 1_167}
