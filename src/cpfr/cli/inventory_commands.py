"""``cpfr inventory solve``: solve an inventory instance file and print the result."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
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
from cpfr.cli.flags import check_flags, flag_names
from cpfr.cli.forecast_commands import EngineOption, SparkMasterOption, check_engine_flags
from cpfr.cli.render import solve_result_table
from cpfr.exceptions import InputError
from cpfr.inventory.limits import DEFAULT_TIME_LIMIT_SECONDS

if TYPE_CHECKING:
    from cpfr.inventory.store_plan import NetworkCosts

inventory_app = typer.Typer(
    help="Inventory policies: solve textbook and network instances.", no_args_is_help=True
)


@inventory_app.command("solve")
def solve(
    instance: Annotated[Path, typer.Argument(metavar="INSTANCE", help="Instance file (.json or .yaml).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", help="Seconds an iterative solver may search before it gives up."),
    ] = DEFAULT_TIME_LIMIT_SECONDS,
) -> None:
    """Solve an INSTANCE file of any kind (newsvendor, base_stock, s_S, r_Q, eoq, serial, gsm_tree, ...)."""
    from cpfr.inventory.instances import read_instance, solve_instance
    from cpfr.inventory.limits import TIME_LIMIT

    with reported_errors():
        TIME_LIMIT.check("--time-limit", time_limit)
        started = perf_counter()
        result = solve_instance(read_instance(instance), label=str(instance), time_limit_seconds=time_limit)
        seconds = perf_counter() - started
        text = json.dumps(result, sort_keys=False, allow_nan=False)  # results are finite: strict JSON
    if as_json:
        typer.echo(text)
        return
    console.print(solve_result_table(f"{instance.name}: {result['kind']}", result))
    err_console.print(f"solved in {seconds * 1000:.1f} ms", highlight=False)


def replenish(
    sales: Annotated[
        Path | None, typer.Argument(metavar="SALES", help="History: unique_id, ds, y (long format).")
    ] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="unique_id, on_hand, in_transit_1 .. in_transit_L.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Orders file (.parquet or .csv).")
    ] = None,
    lead_time: Annotated[
        int | None, typer.Option("--lead-time", help="Periods until an order placed now arrives (L).")
    ] = None,
    review_period: Annotated[
        int | None, typer.Option("--review-period", help="Periods until the next order (R; --db: 1 day).")
    ] = None,
    holding_cost: Annotated[
        float | None, typer.Option("--holding-cost", help="Per unit left at a period's end.")
    ] = None,
    shortage_cost: Annotated[
        float | None, typer.Option("--shortage-cost", help="Per unit short (lost or backordered).")
    ] = None,
    lost_sales: Annotated[
        bool, typer.Option("--lost-sales", help="Unmet demand is lost, not backordered.")
    ] = False,
    moq: Annotated[int, typer.Option("--moq", help="Minimum order quantity (0: none).")] = 0,
    pack_size: Annotated[int, typer.Option("--pack-size", help="Orders are multiples of this.")] = 1,
    freq: Annotated[str | None, typer.Option("--freq", help="Pandas frequency (default: inferred).")] = None,
    in_stock: Annotated[
        str | None,
        typer.Option("--in-stock", help="Column of SALES, 0 where stock ran out (demand unseen; left out)."),
    ] = None,
    stockout: Annotated[
        str | None, typer.Option("--stockout", help="Column of SALES, 1 where stock ran out (left out).")
    ] = None,
    paths: Annotated[
        int | None, typer.Option("--paths", help="Demand sample paths per item (default 1000; --db: 300).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the sample paths.")] = 0,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Plan the store's whole network today instead of SALES and STATE."),
    ] = None,
    location_lead_time: Annotated[
        int, typer.Option("--location-lead-time", help="With --db: days from a warehouse to its stores.")
    ] = 1,
    location_holding_rate: Annotated[
        float,
        typer.Option("--location-holding-rate", help="With --db: store holding cost per yuan per year."),
    ] = 0.30,
    shortage_rate: Annotated[
        float, typer.Option("--shortage-rate", help="With --db: a lost sale costs this share of list price.")
    ] = 0.30,
    partner: Annotated[str | None, typer.Option("--partner", help="With --db: one partner's SKUs.")] = None,
    model: Annotated[
        str, typer.Option("--model", help="With --db: 'auto' or model names, comma separated.")
    ] = "auto",
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
) -> None:
    """Order quantities for today from probabilistic forecasts of periods 1 .. L+R (cost-optimal per item).

    With --db instead of SALES and STATE: today's purchase orders to the RDCs and transfers to the
    FDCs, stores and online zones of the store's network (echelon base-stock levels per SKU).
    """
    from cpfr.forecast.limits import SEED, check_freq
    from cpfr.inventory.replenish import PATHS

    with reported_errors():
        if output is None:
            raise InputError("--output is required: the orders file (.parquet or .csv)")
        check_output(output)
        check_flags(("--paths", PATHS, paths), ("--seed", SEED, seed))
        check_freq("--freq", freq)
        check_engine_flags(engine, spark_master)
        if db is not None or sales is None:
            if sales is not None or db is None:
                raise InputError("give either SALES with --state (one level) or --db (the store's network)")
            if engine != "local":
                raise InputError(
                    "--engine spark plans SALES with --state; the --db network plan runs locally"
                )
            from cpfr.inventory.store_plan import COST_BOUNDS, NetworkCosts

            check_flags(
                ("--review-period", COST_BOUNDS["review_period"], review_period),
                ("--location-lead-time", COST_BOUNDS["location_lead_time"], location_lead_time),
                ("--location-holding-rate", COST_BOUNDS["location_holding_rate"], location_holding_rate),
                ("--shortage-rate", COST_BOUNDS["shortage_rate"], shortage_rate),
            )
            _replenish_network(
                db,
                output,
                NetworkCosts(
                    1 if review_period is None else review_period,
                    location_lead_time,
                    location_holding_rate,
                    shortage_rate,
                ),
                paths=300 if paths is None else paths,
                seed=seed,
                partner=partner,
                model=model,
                wait=wait,
            )
            return
        missing = [
            flag
            for flag, value in (
                ("--state", state),
                ("--lead-time", lead_time),
                ("--review-period", review_period),
                ("--holding-cost", holding_cost),
                ("--shortage-cost", shortage_cost),
            )
            if value is None
        ]
        if missing:
            raise InputError(
                f"{', '.join(missing)} required with SALES (or use --db for the store's network)"
            )
        assert state is not None and lead_time is not None and review_period is not None
        assert holding_cost is not None and shortage_cost is not None
        _replenish_file(
            sales,
            state,
            output,
            (lead_time, review_period, holding_cost, shortage_cost, moq, pack_size),
            lost_sales=lost_sales,
            freq=freq,
            paths=1000 if paths is None else paths,
            seed=seed,
            stockout=stockout,
            in_stock=in_stock,
            engine=(engine, spark_master),
        )


# The flag that gives each parameter of a replenishment policy.
POLICY_FLAGS = {
    "lead_time": "--lead-time",
    "review_period": "--review-period",
    "holding_cost": "--holding-cost",
    "shortage_cost": "--shortage-cost",
    "moq": "--moq",
    "pack_size": "--pack-size",
}


def _replenish_file(
    sales: Path,
    state: Path,
    output: Path,
    policy: tuple[int, int, float, float, int, int],
    *,
    lost_sales: bool,
    freq: str | None,
    paths: int,
    seed: int,
    stockout: str | None = None,
    in_stock: str | None = None,
    engine: tuple[str, str | None] = ("local", None),
) -> None:
    from cpfr.cli.progress import ProgressLog
    from cpfr.forecast.base import season_length
    from cpfr.forecast.direct import panel_from_long
    from cpfr.forecast.inputs import load_forecast_input
    from cpfr.inventory.replenish import check_policy, paths_bound, read_state, replenish_panel

    lead_time, review_period, holding_cost, shortage_cost, moq, pack_size = policy
    started = perf_counter()
    horizon = lead_time + review_period
    with flag_names(**POLICY_FLAGS):
        check_policy(*policy)
    positions = read_state(str(state), lead_time)
    paths_bound(len(positions), horizon).check("--paths", paths)
    with flag_names(horizon="--lead-time + --review-period"):
        data = load_forecast_input(
            sales,
            horizon=horizon,
            freq=freq,
            stockout_column=stockout,
            in_stock_column=in_stock,
            unconstrain=False,
        )
    known = set(data.history["unique_id"].astype(str))
    unknown = [uid for uid in positions["unique_id"] if uid not in known]
    if unknown:
        row = int(positions.index[positions["unique_id"] == unknown[0]][0]) + (
            2 if state.suffix.lower() == ".csv" else 1
        )
        raise InputError(f"{state}:{row}:unique_id: {unknown[0]!r} has no sales history in {sales}")
    history = data.history[data.history["unique_id"].isin(set(positions["unique_id"]))]
    censored = history["censored"].to_numpy(dtype=bool) if "censored" in history else None
    history = history[["unique_id", "ds", "y"]].assign(y=history["y"].clip(lower=0.0))
    log = ProgressLog("replenish")
    panel = panel_from_long(history, censored)
    log(
        f"read {len(panel.ids):,} series x {panel.values.shape[1]:,} periods "
        f"({data.censored:,} out of stock, left out)"
    )
    aligned = positions.set_index("unique_id").loc[panel.ids]
    transit = aligned[[f"in_transit_{k}" for k in range(1, lead_time + 1)]].to_numpy(dtype=float)
    plan, demand = replenish_panel(
        panel,
        aligned["on_hand"].to_numpy(dtype=float),
        transit.reshape(len(panel.ids), lead_time),
        lead_time=lead_time,
        review_period=review_period,
        holding_cost=holding_cost,
        shortage_cost=shortage_cost,
        season=season_length(data.freq),
        lost_sales=lost_sales,
        moq=moq,
        pack_size=pack_size,
        n_paths=paths,
        seed=seed,
        engine=engine[0],
        spark_master=engine[1],
        progress=log,
    )
    log(f"forecast demand over {horizon} periods ({demand.model}) and chose the orders")
    orders = plan.orders.assign(model=demand.model)
    write_table(orders, output)
    err_console.print(
        f"ordered {int(orders['order_qty'].sum()):,} units for {int((orders['order_qty'] > 0).sum()):,} of "
        f"{len(orders):,} items ({'lost sales' if lost_sales else 'backorders'}, "
        f"L={lead_time}, R={review_period}) "
        f"in {perf_counter() - started:.1f} s",
        highlight=False,
    )


def _replenish_network(
    db: str,
    output: Path,
    costs: NetworkCosts,
    *,
    paths: int,
    seed: int,
    partner: str | None,
    model: str,
    wait: float,
) -> None:
    from cpfr.data.store import open_store
    from cpfr.inventory.store_plan import plan_network

    started = perf_counter()
    models: str | list[str] = model_names(model)
    with (
        open_store(db, mode="read", wait_seconds=wait) as store,
        console.status("forecasting every SKU x location and planning orders…"),
    ):
        plan = plan_network(store, costs, n_paths=paths, seed=seed, partner_id=partner, models=models)
    write_table(plan.orders, output)
    orders = plan.orders
    summary = orders.groupby(["kind", "stage"])["quantity"].agg(["count", "sum"])
    table = Table(title=f"orders for {plan.as_of + dt.timedelta(days=1)}", title_justify="left")
    for column in ("kind", "stage", "orders", "units"):
        table.add_column(column, justify="left" if column in ("kind", "stage") else "right")
    for kind, stage, count, units in summary.reset_index().itertuples(index=False):
        table.add_row(str(kind), str(stage), f"{int(count):,}", f"{int(units):,}")
    console.print(table)
    stock_note = (
        f"{plan.units_cut:,} units cut to warehouse stock"
        if plan.warehouse_stock_known
        else "no warehouse stock in the store: warehouses start empty, nothing rationed"
    )
    err_console.print(
        f"planned {len(orders):,} orders for {plan.skus:,} SKUs x {plan.locations:,} locations "
        f"with {plan.model} ({stock_note}) in {perf_counter() - started:.1f} s → {output}",
        highlight=False,
        soft_wrap=True,
    )


def simulate_command(
    demand_path: Annotated[Path, typer.Argument(metavar="DEMAND", help="Demand trace: unique_id, ds, y.")],
    policy: Annotated[
        Path, typer.Option("--policy", help="unique_id, order_up_to [, reorder_point]: base-stock or (s,S).")
    ],
    lead_time: Annotated[int, typer.Option("--lead-time", help="Periods from order to arrival (L).")],
    holding_cost: Annotated[float, typer.Option("--holding-cost", help="Per unit left at a period's end.")],
    shortage_cost: Annotated[
        float, typer.Option("--shortage-cost", help="Per unit lost (or per unit-period owed).")
    ],
    review_period: Annotated[int, typer.Option("--review-period", help="Periods between orders (R).")] = 1,
    lost_sales: Annotated[
        bool, typer.Option("--lost-sales", help="Unmet demand is lost, not backordered.")
    ] = False,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Start: unique_id, on_hand, in_transit_1..L (default: at level)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Per-item metrics (.parquet/.csv).")
    ] = None,
) -> None:
    """Replay a base-stock or (s,S) policy on a demand trace: cost, fill rate, service, stock, turnover."""
    from cpfr.data.datasets import read_long
    from cpfr.inventory.replenish import check_policy, read_state
    from cpfr.inventory.simulate import check_trace, order_up_to, reorder_point, simulate

    with reported_errors():
        check_output(output)
        with flag_names(**POLICY_FLAGS):
            check_policy(lead_time, review_period, holding_cost, shortage_cost, 0, 1)
        started = perf_counter()
        trace = read_long(demand_path, nonnegative=True).df
        check_trace(trace["unique_id"].nunique(), trace["ds"].nunique(), lead_time)
        wide = trace.pivot_table(index="unique_id", columns="ds", values="y", fill_value=0.0).sort_index(
            axis=1
        )
        levels = _read_policy(policy, list(wide.index.astype(str)))
        ids = list(wide.index.astype(str))
        top = levels["order_up_to"].to_numpy(dtype=float)
        rule = (
            reorder_point(top, levels["reorder_point"].to_numpy(dtype=float))
            if "reorder_point" in levels
            else order_up_to(top)
        )
        if state is not None:
            start = read_state(str(state), lead_time).set_index("unique_id").reindex(ids)
            if start["on_hand"].isna().any():
                missing = start.index[start["on_hand"].isna()][0]
                raise InputError(f"{state}: no row for item {missing!r} of {demand_path}")
            on_hand = start["on_hand"].to_numpy(dtype=float)
            pipeline = start[[f"in_transit_{k}" for k in range(1, lead_time + 1)]].to_numpy(dtype=float)
        else:
            on_hand, pipeline = top.copy(), np.zeros((len(ids), lead_time))
        result = simulate(
            wide.to_numpy(dtype=float),
            rule,
            lead_time=lead_time,
            review_period=review_period,
            holding_cost=holding_cost,
            shortage_cost=shortage_cost,
            lost_sales=lost_sales,
            on_hand=on_hand,
            pipeline=pipeline,
            ids=ids,
        )
        if output is not None:
            write_table(result.per_item, output)
    table = Table(title=f"{len(ids):,} items x {wide.shape[1]:,} periods", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.summary.items():
        table.add_row(key, f"{value:,.0f}" if key in ("items", "periods") else f"{value:,.4f}")
    console.print(table)
    err_console.print(f"simulated in {perf_counter() - started:.1f} s", highlight=False)


def _read_policy(path: Path, ids: list[str]) -> Any:
    """Read POLICY (unique_id, order_up_to [, reorder_point]) aligned to ``ids``; name what is wrong.

    ``order_up_to`` is a stock level, >= 0; ``reorder_point`` may be negative (order on a
    backlog) but not above ``order_up_to``; both within the inventory bound of quantities.
    """
    import pandas as pd

    from cpfr.bounds import number_text
    from cpfr.data.sources import open_source
    from cpfr.exceptions import Problem, SchemaError, ValidationError
    from cpfr.inventory.limits import MAX_QUANTITY

    source = open_source(path)
    label = source.label
    for column in ("unique_id", "order_up_to"):
        if column not in source.columns:
            raise SchemaError(
                f"{label}:{source.header_row}:{column}: missing — POLICY needs unique_id, order_up_to "
                "[, reorder_point]"
            )
    frame, rows = source.read_frame()
    frame["unique_id"] = frame["unique_id"].astype(str).str.strip()
    problems: list[Problem] = []
    lowest = {"order_up_to": 0.0, "reorder_point": -MAX_QUANTITY}
    for column in [name for name in ("order_up_to", "reorder_point") if name in frame.columns]:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        numbers = values.fillna(np.inf).to_numpy()
        bad = ~np.isfinite(numbers) | (numbers < lowest[column]) | (numbers > MAX_QUANTITY)
        problems += [
            Problem(
                label,
                int(rows[position]),
                column,
                str(frame[column].iloc[position]),
                f"a finite number >= {number_text(lowest[column])} and <= {number_text(MAX_QUANTITY)}",
            )
            for position in np.flatnonzero(bad)[:50]
        ]
        frame[column] = values
    if "reorder_point" in frame.columns and not problems:
        above = (frame["reorder_point"] > frame["order_up_to"]).to_numpy()
        problems += [
            Problem(
                label,
                int(rows[position]),
                "reorder_point",
                str(frame["reorder_point"].iloc[position]),
                "a reorder point no higher than the order_up_to level",
            )
            for position in np.flatnonzero(above)[:50]
        ]
    if problems:
        raise ValidationError(problems[:50], total=len(problems))
    aligned = frame.drop_duplicates("unique_id").set_index("unique_id").reindex(ids)
    if aligned["order_up_to"].isna().any():
        missing = aligned.index[aligned["order_up_to"].isna()][0]
        raise InputError(f"{path}: no policy for item {missing!r}")
    return aligned
