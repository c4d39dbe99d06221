"""`cpfr forecast` and `cpfr backtest`: the file contract, and bad input named by file, row and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from tests.forecast.conftest import make_series

Cli = Callable[..., Result]


@pytest.fixture
def history_csv(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    make_series(n_series=6, days=84).drop(columns="promo").to_csv(path, index=False)
    return path


def test_forecast_writes_the_contract_columns(history_csv: Path, tmp_path: Path, cli: Cli) -> None:
    output = tmp_path / "forecast.parquet"
    result = cli(
        "forecast",
        history_csv,
        "--horizon",
        "7",
        "--output",
        output,
        "--model",
        "seasonal_naive,window_average",
    )
    assert result.exit_code == 0, result.output
    assert "forecast 6 series x 7 periods (D)" in result.output
    frame = pd.read_parquet(output)
    assert list(frame.columns) == [
        "unique_id",
        "ds",
        "mean",
        "q0.05",
        "q0.1",
        "q0.25",
        "q0.5",
        "q0.75",
        "q0.9",
        "q0.95",
    ]
    assert len(frame) == 42
    assert frame.groupby("unique_id").size().eq(7).all()


def test_forecast_csv_output_and_custom_quantiles(history_csv: Path, tmp_path: Path, cli: Cli) -> None:
    output = tmp_path / "forecast.csv"
    result = cli(
        "forecast",
        history_csv,
        "-h",
        "3",
        "-o",
        output,
        "--quantiles",
        "0.1,0.5,0.9",
        "--model",
        "window_average",
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["unique_id", "ds", "mean", "q0.1", "q0.5", "q0.9"]


def test_forecast_uses_future_covariates(tmp_path: Path, cli: Cli) -> None:
    history = make_series(n_series=8, days=120, promo=True)
    history.to_parquet(tmp_path / "history.parquet")
    last = history["ds"].max()
    future = pd.DataFrame(
        [
            (uid, last + pd.Timedelta(days=step), 1.0)
            for uid in history["unique_id"].unique()
            for step in range(1, 6)
        ],
        columns=["unique_id", "ds", "promo"],
    )
    future.to_parquet(tmp_path / "future.parquet")
    output = tmp_path / "out.parquet"
    result = cli(
        "forecast",
        tmp_path / "history.parquet",
        "--horizon",
        "5",
        "--output",
        output,
        "--future",
        tmp_path / "future.parquet",
        "--model",
        "lightgbm",
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(output)) == 40


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-03,3\n"
BAD_INPUTS = [
    ("no_y.csv", "unique_id,ds\na,2024-01-01\n", "1:y"),
    ("duplicate.csv", GOOD + "a,2024-01-02,5\n", "5:ds"),
    ("text_y.csv", GOOD + "a,2024-01-04,lots\n", "5:y"),
    ("nan_y.csv", GOOD + "a,2024-01-04,nan\n", "5:y"),
    ("bad_date.csv", GOOD + "a,2024-02-30,1\n", "5:ds"),
    ("off_grid.csv", GOOD + "a,2024-01-04,1\na,2024-01-04 12:00,1\n", "6:ds"),
    ("text_covariate.csv", "unique_id,ds,y,colour\na,2024-01-01,1,red\na,2024-01-02,2,blue\n", "1:colour"),
]


@pytest.mark.parametrize(("name", "text", "where"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_history_is_named_and_nothing_written(
    name: str, text: str, where: str, tmp_path: Path, cli: Cli
) -> None:
    path = _write(tmp_path, name, text)
    output = tmp_path / "out.parquet"
    result = cli("forecast", path, "--horizon", "2", "--output", output)
    assert result.exit_code != 0
    assert f"{path}:{where}" in result.output, result.output
    assert "Traceback" not in result.output
    assert not output.exists()


def test_negative_sales_are_accepted_with_a_warning_and_a_count(tmp_path: Path, cli: Cli) -> None:
    history = make_series(n_series=3, days=60).drop(columns="promo")
    history.loc[history.index[[5, 17, 80]], "y"] = [-2.0, -1.0, -4.0]  # returns exceed sales
    path = tmp_path / "net.csv"
    history.to_csv(path, index=False)
    output = tmp_path / "out.csv"
    result = cli(
        "forecast", path, "-h", "5", "-o", output, "--model", "window_average,lightgbm_direct_tweedie"
    )
    assert result.exit_code == 0, result.output
    assert "warning: 3 periods have a negative y" in result.stderr
    assert "3 negative periods kept" in result.stdout
    assert len(pd.read_csv(output)) == 15


def test_future_missing_rows_are_listed(tmp_path: Path, cli: Cli) -> None:
    history = _write(
        tmp_path,
        "h.csv",
        "unique_id,ds,y,price\n" + "".join(f"a,2024-01-{d:02d},{d},9\n" for d in range(1, 20)),
    )
    future = _write(tmp_path, "f.csv", "unique_id,ds,price\na,2024-01-20,9\n")
    output = tmp_path / "out.parquet"
    result = cli("forecast", history, "--horizon", "2", "--output", output, "--future", future)
    assert result.exit_code == 1
    assert f"{future}:0:unique_id, ds: value 'a, 2024-01-21'" in result.output
    assert not output.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "0"], "--horizon 0"),
        (["--horizon", "2", "--quantiles", "0.5,2"], "strictly between 0 and 1"),
        (["--horizon", "2", "--model", "prophet"], "unknown model 'prophet'"),
    ],
)
def test_bad_options_exit_2(
    args: list[str], message: str, history_csv: Path, tmp_path: Path, cli: Cli
) -> None:
    result = cli("forecast", history_csv, "--output", tmp_path / "o.parquet", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_bad_output_type_empty_store_and_unknown_level_are_refused(
    history_csv: Path, tmp_path: Path, cli: Cli
) -> None:
    assert (
        "expected .parquet or .csv"
        in cli("forecast", history_csv, "-h", "2", "-o", tmp_path / "o.xlsx").output
    )
    assert cli("db", "init", "--db", tmp_path / "empty.duckdb").exit_code == 0
    store = cli("forecast", "--db", tmp_path / "empty.duckdb", "--level", "sku/store", "-h", "2")
    assert store.exit_code == 2
    assert "no sales to forecast" in store.output
    level = cli("forecast", "--db", tmp_path / "empty.duckdb", "--level", "region", "-h", "2")
    assert level.exit_code == 2
    assert "--level 'region'" in level.output


def test_backtest_prints_and_saves_the_leaderboard(history_csv: Path, tmp_path: Path, cli: Cli) -> None:
    output = tmp_path / "board.csv"
    result = cli(
        "backtest",
        history_csv,
        "--horizon",
        "7",
        "--windows",
        "2",
        "--model",
        "naive,seasonal_naive",
        "-o",
        output,
    )
    assert result.exit_code == 0, result.output
    board = pd.read_csv(output)
    assert {"naive", "seasonal_naive"} <= set(board["candidate"])
    # Besides the singles, at most the greedy ensemble of them.
    assert all(
        name.startswith(("ensemble(", "mean("))
        for name in set(board["candidate"]) - {"naive", "seasonal_naive"}
    )
    assert board["wrmsse"].is_monotonic_increasing  # best first
    assert "seasonal_naive" in result.output
    singles = board.set_index("candidate").loc[["naive", "seasonal_naive"]]
    assert {"wrmsse", "rmsse", "mase", "bias", "mae"} <= set(board.columns)
    assert (singles["mase"] > 0).all() and singles["rmsse"].notna().all()
    # Weekly-patterned data: last week's same day beats yesterday.
    assert singles.loc["seasonal_naive", "mase"] < singles.loc["naive", "mase"]


def test_stockout_flags_unconstrain_the_history(tmp_path: Path, cli: Cli) -> None:
    rows = "".join(
        f"a,2024-01-{day:02d},{2 if day % 5 == 0 else 10},{1 if day % 5 == 0 else 0}\n"
        for day in range(1, 29)
    )
    history = _write(tmp_path, "h.csv", "unique_id,ds,y,stockout\n" + rows)
    censored, plain = tmp_path / "censored.parquet", tmp_path / "plain.parquet"
    first = cli(
        "forecast",
        history,
        "-h",
        "3",
        "-o",
        censored,
        "--stockout",
        "stockout",
        "--model",
        "historic_average",
    )
    assert first.exit_code == 0, first.output
    assert "5 stockout periods unconstrained" in first.output
    cli("forecast", history, "-h", "3", "-o", plain, "--model", "historic_average")
    # Stockout days sold 2 of a demand of 10: unconstrained, the average is 10, not 8.6.
    assert pd.read_parquet(censored)["mean"].iloc[0] == pytest.approx(10.0)
    assert pd.read_parquet(plain)["mean"].iloc[0] == pytest.approx((23 * 10 + 5 * 2) / 28)
    missing = cli("forecast", history, "-h", "3", "-o", plain, "--in-stock", "in_stock")
    assert missing.exit_code != 0
    assert f"{history}:1:in_stock" in missing.output


def test_backtest_scores_the_winner_by_hierarchy_level(tmp_path: Path, cli: Cli) -> None:
    history = make_series(n_series=6, days=84).drop(columns="promo")
    history["store"] = history["unique_id"].map(lambda uid: "north" if uid < "S03" else "south")
    path = tmp_path / "h.csv"
    history.to_csv(path, index=False)
    result = cli(
        "backtest", path, "--horizon", "7", "--windows", "2", "--model", "seasonal_naive", "--levels", "store"
    )
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[1]: line
        for line in result.output.splitlines()
        if line.startswith("│ ") and line.split()[1] in {"total", "store", "series"}
    }
    assert set(lines) == {"total", "store", "series"}
    assert lines["store"].split()[3] == "2"  # two stores
    assert lines["series"].split()[3] == "6"
    missing = cli("backtest", path, "--horizon", "7", "--levels", "region")
    assert missing.exit_code != 0
    assert f"{path}:1:region" in missing.output


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        (
            "forecast",
            ["--horizon", "2", "--windows", "0"],
            "--windows 0: expected a whole number >= 1 and <= 100",
        ),
        ("forecast", ["--horizon", "2", "--windows", "-1"], "--windows -1: expected"),
        ("forecast", ["--horizon", "2", "--windows", "1000"], "--windows 1000: .*each window refits"),
        ("forecast", ["--horizon", "100000"], "--horizon 100000: expected a whole number >= 1 and <= 10,000"),
        ("forecast", ["--horizon", "-3"], "--horizon -3: expected"),
        ("forecast", ["--horizon", "841"], "--horizon 841: .*<= 840 .*10 x the longest series \\(84\\)"),
        ("backtest", ["--horizon", "2", "--windows", "0"], "--windows 0: expected"),
        ("backtest", ["--horizon", "100000"], "--horizon 100000: expected"),
        ("backtest", ["--horizon", "900"], "--horizon 900: .*<= 840"),
        ("backtest", ["--horizon", "2", "--step", "0"], "--step 0: expected a whole number >= 1"),
    ],
)
def test_work_beyond_the_bounds_is_refused_naming_the_flag(
    command: str, args: list[str], message: str, history_csv: Path, tmp_path: Path, cli: Cli
) -> None:
    import re

    output = tmp_path / "o.csv"
    result = cli(command, history_csv, "--output", output, "--model", "naive", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert re.search(message, result.stderr), result.stderr
    assert not output.exists()


def test_a_history_that_would_not_fit_or_overflow_is_refused(tmp_path: Path, cli: Cli) -> None:
    sparse = _write(tmp_path, "sparse.csv", "unique_id,ds,y\na,1990-01-01,1\na,2100-01-01,2\n")
    result = cli("forecast", sparse, "--freq", "h", "--horizon", "2", "--output", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert "with gaps filled the history has 964,249 periods of 'h'" in result.stderr
    huge = _write(tmp_path, "huge.csv", GOOD + "a,2024-01-04,1e300\n")
    result = cli("forecast", huge, "--horizon", "2", "--output", tmp_path / "o.csv")
    assert result.exit_code == 1
    assert f"{huge}:0:y: value '1e+300' — expected a number <= 1e12 (series 'a', 2024-01-04)" in result.stderr
    late = _write(
        tmp_path, "late.csv", "unique_id,ds,y\n" + "".join(f"a,2262-0{m}-01,1\n" for m in range(1, 4))
    )
    result = cli("forecast", late, "--horizon", "12", "--output", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert "--horizon 12: expected a whole number >= 1 and <= 1 " in result.stderr  # 2262-04-01, no later
    assert "the calendar pandas can hold ends on 2262-04-11" in result.stderr


def test_more_hostile_options_end_in_one_line(tmp_path: Path, cli: Cli) -> None:
    short = _write(tmp_path, "short.csv", GOOD)
    twelve = _write(
        tmp_path,
        "twelve.csv",
        "unique_id,ds,y\n" + "".join(f"a,2024-01-{day:02d},{day % 7}\n" for day in range(1, 13)),
    )
    output = tmp_path / "o.csv"
    cases = [
        (
            ["forecast", short, "-h", "2", "-o", output, "--freq", "0D"],
            "--freq '0D': expected a frequency with a positive step",
        ),
        (["forecast", short, "-h", "2", "-o", output, "--freq", "-1D"], "--freq '-1D': expected"),
        (
            ["forecast", short, "-h", "2", "-o", output, "--model", "lightgbm"],
            "lightgbm needs a series of",
        ),
        (
            ["backtest", twelve, "-h", "2", "--windows", "2", "--model", "lightgbm"],
            "before the first backtest origin",
        ),
        (
            ["backtest", short, "-h", "1", "--levels", "y"],
            "--levels 'y': 'y' is not an attribute of a series",
        ),
        (["backtest", short, "-h", "1", "--levels", "store;ds"], "'ds' is not an attribute of a series"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert message in result.stderr, result.stderr
    twice = cli("forecast", short, "-h", "2", "-o", output, "--model", "naive,naive")  # was a ValueError
    assert twice.exit_code == 0, twice.output
    assert "with naive, chosen from 1 candidates" in twice.output
