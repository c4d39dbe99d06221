"""``cpfr forecast`` and ``cpfr backtest``: probabilistic forecasts of long-format series."""

from __future__ import annotations

import warnings
from pathlib import Path
from time import perf_counter
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from cpfr.cli.common import (
    DEFAULT_WAIT_SECONDS,
    WaitOption,
    check_output,
    console,
    err_console,
    model_names,
    reported_errors,
    write_table,
)
from cpfr.cli.flags import check_flags, flag_names, partition_columns
from cpfr.exceptions import InputError
from cpfr.forecast.base import DEFAULT_QUANTILES
from cpfr.forecast.limits import HORIZON, STEP, WINDOWS, check_freq

QUANTILES_HELP = "Quantile levels, comma separated."
DEFAULT_QUANTILES_TEXT = ",".join(f"{level!r}" for level in DEFAULT_QUANTILES)
ALL_CORES = -1  # the orchestrator runs model fits on every core

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine", help="Where model fits run: local (this machine) or spark (same results, on Spark)."
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option("--spark-master", help="With --engine spark: the master URL (default local[*])."),
]


def check_engine_flags(engine: str, spark_master: str | None) -> None:
    """Refuse an unknown --engine, and --spark-master without --engine spark."""
    from cpfr.forecast.spark_engine import ENGINES

    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if spark_master is not None and engine != "spark":
        raise InputError("--spark-master needs --engine spark")


def forecast(
    input_path: Annotated[
        Path | None,
        typer.Argument(metavar="INPUT", help="Long-format history: unique_id, ds, y (+ covariates)."),
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", "-h", help="Periods to forecast.")] = 0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Forecast file (.parquet or .csv).")
    ] = None,
    future: Annotated[
        Path | None, typer.Option("--future", help="Covariates for the future periods: unique_id, ds, ...")
    ] = None,
    freq: Annotated[str | None, typer.Option("--freq", help="Pandas frequency (default: inferred).")] = None,
    quantiles: Annotated[str, typer.Option("--quantiles", help=QUANTILES_HELP)] = DEFAULT_QUANTILES_TEXT,
    model: Annotated[str, typer.Option("--model", help="'auto' or model names, comma separated.")] = "auto",
    windows: Annotated[
        int, typer.Option("--windows", help="Backtest windows used to choose and calibrate.")
    ] = 3,
    stockout: Annotated[
        str | None,
        typer.Option("--stockout", help="Column true/1 where stock ran out: those sales are censored."),
    ] = None,
    in_stock: Annotated[
        str | None, typer.Option("--in-stock", help="Column 0 where stock ran out (e.g. VN2's in_stock).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Forecast from the store instead of INPUT.")] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="With --db: sku, sku/store or sku/channel.")
    ] = None,
    reconcile_method: Annotated[
        str | None,
        typer.Option("--reconcile", help="With --db: bottom_up, ols, wls_struct, wls_var or mint_shrink."),
    ] = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by",
            help="Columns such as partner_id,category_id: each partition of a Parquet INPUT (a file or "
            "a folder from 'cpfr export --partition-by') chooses its models alone; --output is a new "
            "folder partitioned alike. Nothing passes through one process: the way to forecast "
            "millions of series.",
        ),
    ] = None,
) -> None:
    """Forecast every series of INPUT for --horizon periods: mean and quantiles per series and period."""
    from cpfr.cli.progress import ProgressLog
    from cpfr.forecast.auto import AutoForecaster, NegativeValuesWarning
    from cpfr.forecast.base import parse_quantiles
    from cpfr.forecast.inputs import load_forecast_input

    with reported_errors():
        if input_path is None and db is None and level is None:
            raise InputError(
                "INPUT is required: a long-format file with unique_id, ds, y (or --db and --level)"
            )
        check_flags(("--horizon", HORIZON, horizon), ("--windows", WINDOWS, windows))
        check_freq("--freq", freq)
        check_engine_flags(engine, spark_master)
        if partition_by is not None:
            if input_path is None or db is not None:
                raise InputError("--partition-by forecasts a Parquet INPUT (file or folder), not --db")
            extra = [
                flag
                for flag, value in (
                    ("--future", future),
                    ("--stockout", stockout),
                    ("--in-stock", in_stock),
                    ("--reconcile", reconcile_method),
                )
                if value is not None
            ]
            if extra:
                raise InputError(f"{extra[0]} is not available with --partition-by")
            _forecast_partitions(
                input_path,
                output,
                partition_by,
                horizon,
                freq,
                model,
                quantiles,
                windows,
                engine,
                spark_master,
            )
            return
        if input_path is None:
            _forecast_store(
                db,
                level or "sku/store",
                horizon,
                model,
                windows,
                output,
                reconcile_method,
                wait,
                (engine, spark_master),
            )
            return
        if reconcile_method is not None:
            raise InputError("--reconcile needs the store's hierarchy: use it with --db and --level")
        if output is None:
            raise InputError("--output is required: the forecast file (.parquet or .csv)")
        check_output(output)
        levels = parse_quantiles(quantiles)
        models: str | list[str] = model_names(model)
        started = perf_counter()
        with (
            console.status("reading the history…") as status,
            flag_names(horizon="--horizon", n_windows="--windows"),
        ):
            data = load_forecast_input(
                input_path,
                horizon=horizon,
                future_path=future,
                freq=freq,
                stockout_column=stockout,
                in_stock_column=in_stock,
            )
            series = data.history["unique_id"].nunique()
            if data.negative:
                err_console.print(
                    f"warning: {data.negative:,} periods have a negative y (returns exceeding sales); "
                    "kept as given, models that need non-negative data see them as 0",
                    highlight=False,
                    soft_wrap=True,
                )
            status.update(f"backtesting candidate models on {series:,} series…")
            forecaster = AutoForecaster(
                horizon=horizon,
                models=models,
                quantiles=levels,
                n_windows=windows,
                n_jobs=ALL_CORES,
                engine=engine,
                spark_master=spark_master,
                progress=ProgressLog("forecast"),
            )
            with warnings.catch_warnings():
                # Reported above with the count, in the command's own words.
                warnings.simplefilter("ignore", NegativeValuesWarning)
                forecaster.fit(data.history, freq=data.freq, covariates=data.covariates)
            status.update(f"forecasting with {forecaster.chosen_.name}…")
            result = forecaster.predict(future=data.future)
            write_table(result, output)
    notes = ""
    if forecaster.fallback_series_:
        notes += f"; {forecaster.fallback_series_:,} series too short to backtest"
    if data.censored:
        notes += f"; {data.censored:,} stockout periods unconstrained"
    if data.gaps_filled:
        notes += f"; {data.gaps_filled:,} missing periods taken as zero sales"
    if data.negative:
        notes += f"; {data.negative:,} negative periods kept"
    console.print(
        f"forecast {series:,} series x {horizon} periods ({data.freq}) with {forecaster.chosen_.name}, "
        f"chosen from {len(forecaster.leaderboard_):,} candidates{notes}, "
        f"in {perf_counter() - started:.1f} s "
        f"→ {output}",
        highlight=False,
        soft_wrap=True,
    )


def _forecast_partitions(
    input_path: Path,
    output: Path | None,
    partition_by: str,
    horizon: int,
    freq: str | None,
    model: str,
    quantiles: str,
    windows: int,
    engine: str,
    spark_master: str | None,
) -> None:
    from cpfr.cli.progress import ProgressLog
    from cpfr.forecast.base import parse_quantiles
    from cpfr.forecast.partitioned import PartitionPlan, forecast_dataset

    by = partition_columns(partition_by)
    if output is None:
        raise InputError("--output is required: a new folder for the partitioned forecast")
    plan = PartitionPlan(
        horizon=horizon,
        freq=freq,
        models=model_names(model),
        quantiles=tuple(parse_quantiles(quantiles)),
        n_windows=windows,
    )
    started = perf_counter()
    with flag_names(horizon="--horizon", n_windows="--windows"):
        count = forecast_dataset(
            input_path,
            output,
            by=by,
            plan=plan,
            engine=engine,
            spark_master=spark_master,
            n_jobs=ALL_CORES,
            progress=ProgressLog("forecast"),
        )
    console.print(
        f"forecast {count:,} partitions of {input_path} (by {', '.join(by)}) x {horizon} periods "
        f"on the {engine} engine in {perf_counter() - started:.1f} s → {output}",
        highlight=False,
        soft_wrap=True,
    )


def _forecast_store(
    db: str | None,
    level: str,
    horizon: int,
    model: str,
    windows: int,
    output: Path | None,
    method: str | None,
    wait: float,
    engine: tuple[str, str | None],
) -> None:
    from cpfr.cli.progress import ProgressLog
    from cpfr.data.store import open_store
    from cpfr.forecast.store_forecast import forecast_store

    check_output(output)
    models: str | list[str] = model_names(model)
    started = perf_counter()
    log = ProgressLog("forecast")
    with open_store(db, mode="write", wait_seconds=wait) as store, flag_names(level="--level"):
        result = forecast_store(
            store,
            level=level,
            horizon=horizon,
            models=models,
            n_windows=windows,
            reconcile_method=method,
            progress=log,
            engine=engine[0],
            spark_master=engine[1],
        )
        location = store.location
    if output is not None:
        write_table(result.forecast, output)
    series = result.forecast["unique_id"].nunique()
    console.print(
        f"forecast {series:,} {level} series x {horizon} days with {result.forecaster.chosen_.name} "
        f"({result.censored:,} stockout days unconstrained"
        f"{', reconciled by ' + result.reconciliation if result.reconciliation else ''}) "
        f"in {perf_counter() - started:.1f} s "
        f"→ run {result.run_id} in {location}",
        highlight=False,
        soft_wrap=True,
    )


def backtest(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Long-format history: unique_id, ds, y.")
    ],
    horizon: Annotated[int, typer.Option("--horizon", "-h", help="Periods forecast from each origin.")],
    windows: Annotated[int, typer.Option("--windows", help="Rolling origins.")] = 3,
    step: Annotated[
        int | None, typer.Option("--step", help="Periods between origins (default: horizon).")
    ] = None,
    freq: Annotated[str | None, typer.Option("--freq", help="Pandas frequency (default: inferred).")] = None,
    model: Annotated[str, typer.Option("--model", help="'auto' or model names, comma separated.")] = "auto",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Save the metrics table.")] = None,
    levels: Annotated[
        str | None,
        typer.Option(
            "--levels",
            help="Levels to score the winner at: attribute columns of INPUT, e.g. 'store;brand;store,brand'.",
        ),
    ] = None,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
) -> None:
    """Rolling-origin backtest: accuracy of each candidate model and combination (and by level)."""
    from cpfr.cli.progress import ProgressLog
    from cpfr.forecast.auto import AutoForecaster, NegativeValuesWarning, backtest_metrics
    from cpfr.forecast.inputs import load_forecast_input

    with reported_errors():
        check_output(output)
        check_flags(("--horizon", HORIZON, horizon), ("--windows", WINDOWS, windows), ("--step", STEP, step))
        check_freq("--freq", freq)
        check_engine_flags(engine, spark_master)
        started = perf_counter()
        models: str | list[str] = model_names(model)
        spec = _level_spec(levels)
        attributes = sorted({column for columns in spec.values() for column in columns} - {"unique_id"})
        with (
            console.status("backtesting…"),
            flag_names(horizon="--horizon", n_windows="--windows", step="--step"),
        ):
            data = load_forecast_input(input_path, horizon=horizon, freq=freq, attribute_columns=attributes)
            if data.negative:
                err_console.print(
                    f"warning: {data.negative:,} periods have a negative y (returns exceeding sales); kept",
                    highlight=False,
                )
            forecaster = AutoForecaster(
                horizon=horizon,
                models=models,
                n_windows=windows,
                step=step,
                n_jobs=ALL_CORES,
                engine=engine,
                spark_master=spark_master,
                progress=ProgressLog("backtest"),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NegativeValuesWarning)
                forecaster.fit(data.history.drop(columns=attributes), freq=data.freq)
        board = forecaster.leaderboard_
        metrics = backtest_metrics(forecaster, data.history) if len(forecaster.backtest_) else None
        view = Table(
            title=f"Backtest: {windows} windows of {horizon} periods ({data.freq})", title_justify="left"
        )
        for column in ("candidate", "WRMSSE", "RMSSE", "MASE", "WSPL", "cover 90", "bias", "MAE"):
            view.add_column(column, justify="left" if column == "candidate" else "right")
        single = metrics.set_index("model") if metrics is not None else None
        for record in board.to_dict("records"):
            name = str(record["candidate"])
            extra = ["", "", "", "", "", ""]
            if single is not None and name in single.index:
                found = single.loc[name]
                extra = [
                    f"{found['rmsse']:.3f}",
                    f"{found['mase']:.3f}",
                    f"{found['wspl']:.3f}",
                    f"{found['coverage_90']:.3f}",
                    f"{found['bias']:+.3f}",
                    f"{found['mae']:.3g}",
                ]
            view.add_row(name, f"{record['wrmsse']:.4f}", *extra)
        console.print(view)
        console.print(
            "WRMSSE over all windows ranks the candidates; the other columns average each window "
            "(quantiles of each window calibrated on the other windows' errors).",
            style="dim",
        )
        if levels is not None and len(forecaster.backtest_):
            _print_levels(forecaster, data.history, spec)
        if output is not None:
            saved = board
            if metrics is not None:
                renamed = metrics.rename(columns={"model": "candidate", "wrmsse": "wrmsse_by_window"})
                saved = board.merge(renamed, on="candidate", how="left")
            write_table(saved, output)
    err_console.print(
        f"backtested {len(board):,} candidates in {perf_counter() - started:.1f} s", highlight=False
    )


def _level_spec(levels: str | None) -> dict[str, list[str]]:
    """Parse 'store;brand;store,brand' into levels: total, each group, and the series."""
    if levels is None:
        return {}
    spec: dict[str, list[str]] = {"total": []}
    for group in levels.split(";"):
        columns = [column.strip() for column in group.split(",") if column.strip()]
        for column in columns:
            if column in ("ds", "y"):
                raise InputError(
                    f"--levels {levels[:60]!r}: {column!r} is not an attribute of a series "
                    "(levels group series by columns such as store or brand)"
                )
        if columns:
            spec["/".join(columns)] = columns
    spec["series"] = ["unique_id"]
    return spec


def _print_levels(forecaster: object, history: pd.DataFrame, spec: dict[str, list[str]]) -> None:
    from cpfr.forecast.auto import AutoForecaster
    from cpfr.forecast.metrics import score_by_level

    assert isinstance(forecaster, AutoForecaster)
    backtest = forecaster.backtest_
    chosen = list(forecaster.chosen_.models)
    tables = []
    for cutoff, window in backtest.groupby("cutoff", sort=True):
        train = history[(history["ds"] <= cutoff) & history["unique_id"].isin(window["unique_id"].unique())]
        forecast = window[["unique_id", "ds"]].assign(mean=window[chosen].mean(axis=1).to_numpy())
        tables.append(
            score_by_level(train, window[["unique_id", "ds", "y"]], forecast, spec, season=forecaster.season_)
        )
    table = pd.concat(tables).groupby(level=0, sort=False).mean(numeric_only=True)
    view = Table(
        title=f"{forecaster.chosen_.name} by hierarchy level (mean over windows)", title_justify="left"
    )
    for column in ("level", "series", "WRMSSE", "MASE", "bias"):
        view.add_column(column, justify="left" if column == "level" else "right")
    for name in spec:
        if name in table.index:
            row = table.loc[name]
            view.add_row(
                name,
                f"{row['series']:.0f}",
                f"{row['wrmsse']:.3f}",
                f"{row['mase']:.3f}",
                f"{row['bias']:+.3f}",
            )
    console.print(view)


def uplift(
    db: Annotated[
        str | None, typer.Option("--db", help="Store (default: $CPFR_DB, else cpfr.duckdb).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Group columns of the sales cube, comma separated.")] = (
        "partner_id,category_l1"
    ),
    kind: Annotated[
        str, typer.Option("--kind", help="Event kinds to measure, comma separated.")
    ] = "promotion",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Save the table (.parquet or .csv).")
    ] = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Uplift of each calendar event over its baseline, per group, from the store's sales."""
    from cpfr.data.store import open_store
    from cpfr.forecast.uplift import event_uplift

    with reported_errors():
        check_output(output)
        groups = [name.strip() for name in by.split(",") if name.strip()]
        with open_store(db, mode="read", wait_seconds=wait) as store:
            cube = store.sales_cube([*groups, "date"]).rename(columns={"date": "ds"})
            events = store.read_table("events")
        events = events[events["kind"].isin([name.strip() for name in kind.split(",")])]
        table = event_uplift(cube, events, by=groups, value="units")
        table = table[table["baseline_per_day"] > 0]
        view = Table(
            title=f"Event uplift over the 4-week baseline, by {', '.join(groups)}", title_justify="left"
        )
        for column in (
            "event",
            *groups,
            "base/day",
            "peak x",
            "window",
            "extra units",
            "dip before",
            "dip after",
        ):
            view.add_column(column, justify="left" if column in ("event", *groups) else "right")
        for record in table.to_dict("records"):
            view.add_row(
                str(record["event_id"]),
                *(str(record[group]) for group in groups),
                f"{record['baseline_per_day']:,.0f}",
                f"{record['peak_multiplier']:.2f}",
                f"{record['window_uplift']:+.0%}",
                f"{record['incremental_units']:,.0f}",
                f"{record['dip_before']:+.0%}",
                f"{record['dip_after']:+.0%}",
            )
        console.print(view)
        if output is not None:
            write_table(table, output)
