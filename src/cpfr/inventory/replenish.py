"""Replenishment orders from probabilistic forecasts: the cost-optimal order for each item, today.

Periodic review with review period R and lead time L: an order placed now
arrives at the start of period L+1 and must serve periods L+1 .. L+R; what is
on hand and in transit (``in_transit_k`` arriving at the start of period k)
serves periods 1 .. L first. For each item, joint sample paths of demand over
periods 1 .. L+R (whole backtest error paths around the forecast, see
:meth:`cpfr.forecast.auto.AutoForecaster.sample_paths`) are pushed through the
inventory dynamics — backorders, or lost sales when demand that finds no stock
is gone — and the order quantity minimising the expected holding and shortage
cost of periods L+1 .. L+R over the sampled paths is chosen among the
quantities allowed by the minimum order quantity and the pack size. The cost
is convex in the order quantity under both dynamics, so a bisection on its
differences along the allowed quantities is exact over the paths.

This is the sample-average approximation of the periodic-review newsvendor:
Shapiro, Dentcheva & Ruszczynski (2014), *Lectures on Stochastic Programming*, ch. 5;
Zipkin (2000), *Foundations of Inventory Management*, ch. 9 (periodic review, lost sales).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpfr.bounds import Bound, number_text
from cpfr.exceptions import InputError, LimitError
from cpfr.forecast.direct import DemandForecast, Panel, forecast_demand
from cpfr.inventory.limits import MAX_QUANTITY, POSITIVE_COST, WHOLE_PERIODS

if TYPE_CHECKING:
    from cpfr.forecast.spark_engine import SparkEngine

MAX_PATHS = 100_000
"""Most demand sample paths per item: beyond it the sample average moves by less than 0.3 %."""

PATHS = Bound(1, MAX_PATHS, whole=True, reason="sample paths per item")

MAX_PATH_CELLS = 50_000_000
"""Most sampled demands held at once, items x paths x (L + R) (400 MB as float64)."""

MAX_ORDER = 1e12
"""Largest order quantity searched for one item, in units: beyond it the int64 grid is near its end."""

POLICY_BOUNDS: dict[str, Bound] = {
    "lead_time": WHOLE_PERIODS,
    "review_period": Bound(1, WHOLE_PERIODS.maximum, whole=True, reason=WHOLE_PERIODS.reason),
    "holding_cost": POSITIVE_COST,
    "shortage_cost": POSITIVE_COST,
    "moq": Bound(0, MAX_QUANTITY, whole=True, reason="units"),
    "pack_size": Bound(1, MAX_QUANTITY, whole=True, reason="units"),
}
"""The range of each policy parameter of :func:`plan_orders` and of `simulate`."""

STOCK = Bound(-MAX_QUANTITY, MAX_QUANTITY, reason="units")
"""The range of a STATE's ``on_hand`` (negative: a backlog); ``in_transit_k`` are the same but >= 0."""


def paths_bound(items: int, periods: int) -> Bound:
    """Return the range of sample paths per item for ``items`` items over ``periods`` (L + R) periods.

    At least 1, at most ``MAX_PATHS`` and at most ``MAX_PATH_CELLS`` / (items x periods).
    """
    most = min(MAX_PATHS, MAX_PATH_CELLS // max(items * periods, 1))
    return Bound(
        1,
        max(most, 1),
        whole=True,
        reason=f"{MAX_PATH_CELLS:,} sampled demands at most: {items:,} items x {periods:,} periods x paths",
    )


@dataclass(frozen=True)
class OrderPlan:
    """Orders and what they were computed from, one row per item (see :func:`plan_orders`)."""

    orders: pd.DataFrame


def replenish_panel(
    panel: Panel,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    *,
    lead_time: int,
    review_period: int,
    holding_cost: float,
    shortage_cost: float,
    season: int,
    lost_sales: bool = False,
    moq: int = 0,
    pack_size: int = 1,
    n_paths: int = 1000,
    seed: int = 0,
    n_jobs: int = 2,
    engine: str = "local",
    spark_master: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[OrderPlan, DemandForecast]:
    """Order for every series of ``panel`` today: its demand distribution, then the cost-optimal order.

    The demand of periods 1 .. L+R comes from :func:`cpfr.forecast.direct.forecast_demand`
    (censored periods left out, candidates chosen by the newsvendor cost of the critical
    fractile ``shortage / (shortage + holding)`` over past origins); ``on_hand`` and
    ``in_transit`` (items x L) are aligned with ``panel.ids``. One engine for ``cpfr replenish``
    and the benchmarks. With ``engine='spark'`` the per-item order optimisation runs on Spark
    (:func:`plan_orders`); the demand forecast stays here.
    """
    demand = forecast_demand(
        panel,
        horizon=lead_time + review_period,
        season=season,
        critical_ratio=shortage_cost / (shortage_cost + holding_cost),
        n_jobs=n_jobs,
    )
    plan = plan_orders(
        demand.ids,
        demand.sample(n_paths, seed=seed),
        on_hand,
        in_transit,
        lead_time=lead_time,
        review_period=review_period,
        holding_cost=holding_cost,
        shortage_cost=shortage_cost,
        lost_sales=lost_sales,
        moq=moq,
        pack_size=pack_size,
        engine=engine,
        spark_master=spark_master,
        progress=progress,
    )
    return plan, demand


def plan_orders(
    ids: list[str],
    paths: np.ndarray,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    *,
    lead_time: int,
    review_period: int,
    holding_cost: float | np.ndarray,
    shortage_cost: float | np.ndarray,
    lost_sales: bool = False,
    moq: int = 0,
    pack_size: int = 1,
    engine: str = "local",
    spark_master: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> OrderPlan:
    """Choose each item's order quantity from demand sample paths of shape (items, paths, L+R).

    ``holding_cost`` and ``shortage_cost`` are one number for all items or one per item.

    Returns ``unique_id, order_qty`` and the quantities used: ``inventory_position``,
    ``lead_demand_mean`` (periods 1..L), ``protection_demand_mean`` and its
    ``_p05 / _p50 / _p95`` (periods L+1..L+R), ``expected_on_hand_at_arrival``,
    ``expected_shortage`` (units lost or backordered in L+1..L+R), ``expected_fill_rate``
    and ``expected_cost`` of those periods.

    Each item's order depends on that item only: with ``engine='spark'`` the items are split
    into buckets solved as Spark tasks (``spark_master``, default ``local[*]``; progress lines
    to ``progress``), with the same result.
    """
    from cpfr.forecast.spark_engine import DEFAULT_MASTER, SparkEngine, check_engine

    check_engine(engine)
    holding = np.broadcast_to(np.asarray(holding_cost, dtype=float), (len(ids),))
    shortage_price = np.broadcast_to(np.asarray(shortage_cost, dtype=float), (len(ids),))
    _check(paths, on_hand, in_transit, lead_time, review_period, holding, shortage_price, moq, pack_size)
    policy = _Policy(lead_time, review_period, lost_sales, moq, pack_size)
    if engine == "spark" and len(ids):
        spark = SparkEngine(spark_master or DEFAULT_MASTER, progress)
        return OrderPlan(
            _plan_on_spark(spark, ids, paths, on_hand, in_transit, holding, shortage_price, policy)
        )
    return OrderPlan(_plan_items(ids, paths, on_hand, in_transit, holding, shortage_price, policy))


@dataclass(frozen=True)
class _Policy:
    """The policy parameters shared by every item (see :func:`plan_orders`)."""

    lead_time: int
    review_period: int
    lost_sales: bool
    moq: int
    pack_size: int


def _plan_items(
    ids: list[str],
    paths: np.ndarray,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    holding: np.ndarray,
    shortage_price: np.ndarray,
    policy: _Policy,
) -> pd.DataFrame:
    """Each item's order and its figures, one row per item in the order of ``ids``."""
    lead_time, review_period, lost_sales = policy.lead_time, policy.review_period, policy.lost_sales
    moq, pack_size = policy.moq, policy.pack_size
    rows = []
    for item, uid in enumerate(ids):
        demand = paths[item]
        arriving = in_transit[item]
        start = _stock_at_arrival(float(on_hand[item]), arriving, demand[:, :lead_time], lost_sales)
        protect = demand[:, lead_time : lead_time + review_period]
        quantity, cost, shortage = _best_quantity(
            start, protect, float(holding[item]), float(shortage_price[item]), lost_sales, moq, pack_size
        )
        total = protect.sum(axis=1)
        rows.append(
            {
                "unique_id": uid,
                "order_qty": int(quantity),
                "inventory_position": float(on_hand[item] + arriving.sum()),
                "lead_demand_mean": float(demand[:, :lead_time].sum(axis=1).mean()) if lead_time else 0.0,
                "protection_demand_mean": float(total.mean()),
                "protection_demand_p05": float(np.quantile(total, 0.05)),
                "protection_demand_p50": float(np.quantile(total, 0.5)),
                "protection_demand_p95": float(np.quantile(total, 0.95)),
                "expected_on_hand_at_arrival": float(np.maximum(start, 0).mean()),
                "expected_shortage": shortage,
                "expected_fill_rate": float(1 - shortage / total.mean()) if total.mean() > 0 else 1.0,
                "expected_cost": cost,
            }
        )
    return pd.DataFrame(rows)


_ORDER_SCHEMA = (
    "item long, unique_id string, order_qty long, inventory_position double, lead_demand_mean double, "
    "protection_demand_mean double, protection_demand_p05 double, protection_demand_p50 double, "
    "protection_demand_p95 double, expected_on_hand_at_arrival double, expected_shortage double, "
    "expected_fill_rate double, expected_cost double"
)


def _plan_on_spark(
    spark: SparkEngine,
    ids: list[str],
    paths: np.ndarray,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    holding: np.ndarray,
    shortage_price: np.ndarray,
    policy: _Policy,
) -> pd.DataFrame:
    """:func:`_plan_items` with the items spread over Spark tasks; rows back in the order of ``ids``."""
    from cpfr.forecast.spark_engine import TASKS_PER_CORE

    items = len(ids)
    buckets = min(items, TASKS_PER_CORE * spark.parallelism())
    frame = pd.DataFrame(
        {
            "item": np.arange(items, dtype=np.int64),
            "bucket": np.arange(items, dtype=np.int64) % buckets,
            "unique_id": [str(uid) for uid in ids],
            "on_hand": np.asarray(on_hand, dtype=float),
            "holding": holding.astype(float),
            "shortage": shortage_price.astype(float),
            # Each item's sample paths and arrivals travel as raw float64 bytes (exact, compact).
            "paths": [np.ascontiguousarray(paths[item], dtype=float).tobytes() for item in range(items)],
            "in_transit": [
                np.ascontiguousarray(in_transit[item], dtype=float).tobytes() for item in range(items)
            ],
        }
    )
    task = _PlanTask(policy, paths.shape[1], paths.shape[2])
    found = spark.map_groups(frame, ["bucket"], task, _ORDER_SCHEMA, job=f"replenish: {items} items")
    ordered = found.sort_values("item").drop(columns="item").reset_index(drop=True)
    return ordered.astype({"order_qty": int})


class _PlanTask:
    """One Spark task of :func:`_plan_on_spark`: a bucket of items through :func:`_plan_items`."""

    def __init__(self, policy: _Policy, n_paths: int, periods: int) -> None:
        self.policy = policy
        self.shape = (n_paths, periods)

    def __call__(self, rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values("item")
        paths = np.stack([np.frombuffer(raw, dtype=float).reshape(self.shape) for raw in rows["paths"]])
        transit = np.stack([np.frombuffer(raw, dtype=float) for raw in rows["in_transit"]]).reshape(
            len(rows), self.policy.lead_time
        )
        plan = _plan_items(
            rows["unique_id"].tolist(),
            paths,
            rows["on_hand"].to_numpy(dtype=float),
            transit,
            rows["holding"].to_numpy(dtype=float),
            rows["shortage"].to_numpy(dtype=float),
            self.policy,
        )
        return plan.assign(item=rows["item"].to_numpy()).astype({"order_qty": np.int64})


def _stock_at_arrival(
    on_hand: float, arriving: np.ndarray, lead_demand: np.ndarray, lost_sales: bool
) -> np.ndarray:
    """Net stock at the start of period L+1 per path, before the new order arrives."""
    if not lost_sales:
        return on_hand + arriving.sum() - lead_demand.sum(axis=1)
    stock = np.full(len(lead_demand), max(on_hand, 0.0))
    for period in range(lead_demand.shape[1]):
        stock = np.maximum(stock + arriving[period] - lead_demand[:, period], 0.0)
    return stock


def _best_quantity(
    start: np.ndarray,
    protect: np.ndarray,
    holding: float,
    shortage: float,
    lost_sales: bool,
    moq: int,
    pack: int,
) -> tuple[int, float, float]:
    """Return the allowed order quantity of lowest sample-average cost, its cost and expected shortage."""
    cumulative = np.cumsum(protect, axis=1)
    need = float(
        np.max(cumulative[:, -1] - np.minimum(start, 0.0) * (not lost_sales) - np.maximum(start, 0.0))
    )
    if not need <= MAX_ORDER:
        raise LimitError(
            f"an order of about {need:.3g} units would be needed, "
            f"at most {number_text(MAX_ORDER)} are supported"
        )
    top = max(int(np.ceil(max(need, 0.0))) + pack, moq)
    allowed = _Allowed(top, moq, pack)
    # The cost is convex in the quantity, so along the allowed quantities it falls, then rises:
    # the first position whose successor costs no less is the best (bisection, about 40 steps
    # for a billion allowed quantities instead of evaluating a grid of them).
    low, high = 0, allowed.count - 1
    while low < high:
        middle = (low + high) // 2
        pair, _ = _costs(
            allowed.at(np.array([middle, middle + 1])), start, cumulative, holding, shortage, lost_sales
        )
        if pair[1] >= pair[0]:
            high = middle
        else:
            low = middle + 1
    quantity = allowed.at(np.array([low]))
    costs, shortages = _costs(quantity, start, cumulative, holding, shortage, lost_sales)
    return int(quantity[0]), float(costs[0]), float(shortages[0])


class _Allowed:
    """The order quantities allowed, in order: 0, then multiples of the pack size from the MOQ to ``top``.

    Held as arithmetic, not as an array: a large order with a pack size of 1 has billions of them.
    """

    def __init__(self, top: int, moq: int, pack: int) -> None:
        self.first = int(np.ceil(max(moq, pack) / pack) * pack)
        self.pack = pack
        self.count = 1 + (max(top, self.first) - self.first) // pack + 1

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Return the quantities at ``positions`` (0: no order)."""
        positions = np.asarray(positions, dtype=np.int64)
        return np.where(positions == 0, 0, self.first + (positions - 1) * self.pack).astype(np.int64)


def _costs(
    grid: np.ndarray,
    start: np.ndarray,
    cumulative: np.ndarray,
    holding: float,
    shortage: float,
    lost_sales: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample-average cost over periods L+1..L+R for each order quantity in ``grid``; and shortage units."""
    costs = np.empty(len(grid))
    shortages = np.empty(len(grid))
    for position, quantity in enumerate(grid):
        level = start[:, None] + quantity - cumulative  # net stock at the end of each protected period
        if lost_sales:
            on_hand = np.maximum(level, 0.0)
            short = np.maximum(-level[:, -1], 0.0)  # demand beyond the stock available, lost
            cost = holding * on_hand.sum(axis=1) + shortage * short
        else:
            backlog = np.maximum(-level, 0.0)
            cost = holding * np.maximum(level, 0.0).sum(axis=1) + shortage * backlog.sum(axis=1)
            short = backlog[:, -1] - np.maximum(-start, 0.0)  # backorders created in the protected periods
            short = np.maximum(short, 0.0)
        costs[position] = cost.mean()
        shortages[position] = short.mean()
    return costs, shortages


def check_policy(
    lead_time: int, review_period: int, holding_cost: float, shortage_cost: float, moq: int, pack_size: int
) -> None:
    """Reject policy parameters out of their range (``POLICY_BOUNDS``), naming the parameter.

    Raises
    ------
    InputError
        A value that is not a finite number, not whole where it must be, or below its minimum.
    LimitError
        A value above its maximum.
    """
    values = {
        "lead_time": lead_time,
        "review_period": review_period,
        "holding_cost": holding_cost,
        "shortage_cost": shortage_cost,
        "moq": moq,
        "pack_size": pack_size,
    }
    for name, value in values.items():
        POLICY_BOUNDS[name].check(name, value)


def _check(
    paths: np.ndarray,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    lead_time: int,
    review_period: int,
    holding_cost: np.ndarray,
    shortage_cost: np.ndarray,
    moq: int,
    pack_size: int,
) -> None:
    check_policy(lead_time, review_period, 1.0, 1.0, moq, pack_size)
    for name, costs in (("holding_cost", holding_cost), ("shortage_cost", shortage_cost)):
        for value in (float(costs.min()), float(costs.max())) if len(costs) else ():
            POLICY_BOUNDS[name].check(name, value)
    if paths.ndim != 3 or paths.shape[2] < lead_time + review_period:
        raise InputError("demand paths must cover periods 1 .. lead time + review period")
    if in_transit.shape != (paths.shape[0], lead_time) or on_hand.shape != (paths.shape[0],):
        raise InputError("state: one on_hand and lead-time in_transit values per item")
    if not (np.isfinite(paths).all() and (paths >= 0).all()):
        raise InputError("demand paths: expected finite numbers >= 0")


def read_state(path: str, lead_time: int) -> pd.DataFrame:
    """Read STATE (``unique_id, on_hand, in_transit_1 .. in_transit_L``); errors name file, row and column.

    Rows are numbered as a person sees them (CSV: header line 1; Parquet: first row 1).
    ``on_hand`` may be negative (a backlog) with backorders; ``in_transit_k`` must be >= 0; both within
    ``STOCK``. A file without rows is invalid (an empty plan is surely a mistake).

    Raises
    ------
    InputError
        No such file, or not a .csv or .parquet file.
    SchemaError
        A column is missing.
    ValidationError
        No rows, blank or repeated ids, values that are not finite numbers within ``STOCK``.
    """
    from cpfr.data.sources import open_source
    from cpfr.exceptions import Problem, SchemaError, ValidationError

    source = open_source(path)
    label = source.label
    columns = ["unique_id", "on_hand", *(f"in_transit_{k}" for k in range(1, lead_time + 1))]
    for column in columns:
        if column not in source.columns:
            raise SchemaError(
                f"{label}:{source.header_row}:{column}: missing — STATE needs unique_id, on_hand"
                + (f", in_transit_1 .. in_transit_{lead_time}" if lead_time else "")
            )
    frame, rows = source.read_frame()
    problems = []
    ids = frame["unique_id"].astype("string").str.strip()
    blank = ids.isna() | ids.eq("")
    repeated = ids.duplicated() & ~blank
    for position in np.flatnonzero((blank | repeated).to_numpy())[:50]:
        shown = None if pd.isna(frame["unique_id"].iloc[position]) else str(frame["unique_id"].iloc[position])
        problems.append(
            Problem(label, int(rows[position]), "unique_id", shown, "a unique, non-empty item id")
        )
    for column in columns[1:]:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        lowest = STOCK.minimum if column == "on_hand" else 0.0
        bad = (
            values.isna()
            | ~np.isfinite(values.fillna(0.0))
            | (values.abs() > STOCK.maximum)
            | (values < lowest)
        )
        for position in np.flatnonzero(bad.to_numpy())[:50]:
            raw = frame[column].iloc[position]
            problems.append(
                Problem(
                    label,
                    int(rows[position]),
                    column,
                    None if pd.isna(raw) or raw == "" else str(raw),
                    f"a finite number >= {number_text(lowest)} and <= {number_text(STOCK.maximum)}",
                )
            )
        frame[column] = values
    if problems:
        raise ValidationError(problems[:50], total=len(problems))
    frame["unique_id"] = ids.astype(str)
    return frame[columns].reset_index(drop=True)
