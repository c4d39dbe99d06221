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
is convex in the order quantity under both dynamics, so the grid search is
exact over the paths.

This is the sample-average approximation of the periodic-review newsvendor:
Shapiro, Dentcheva & Ruszczynski (2014), *Lectures on Stochastic Programming*, ch. 5;
Zipkin (2000), *Foundations of Inventory Management*, ch. 9 (periodic review, lost sales).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError

_GRID_LIMIT = 1_000  # order quantities evaluated at once; a wider range is searched coarse to fine


@dataclass(frozen=True)
class OrderPlan:
    """Orders and what they were computed from, one row per item (see :func:`plan_orders`)."""

    orders: pd.DataFrame


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
) -> OrderPlan:
    """Choose each item's order quantity from demand sample paths of shape (items, paths, L+R).

    ``holding_cost`` and ``shortage_cost`` are one number for all items or one per item.

    Returns ``unique_id, order_qty`` and the quantities used: ``inventory_position``,
    ``lead_demand_mean`` (periods 1..L), ``protection_demand_mean`` and its
    ``_p05 / _p50 / _p95`` (periods L+1..L+R), ``expected_on_hand_at_arrival``,
    ``expected_shortage`` (units lost or backordered in L+1..L+R), ``expected_fill_rate``
    and ``expected_cost`` of those periods.
    """
    holding = np.broadcast_to(np.asarray(holding_cost, dtype=float), (len(ids),))
    shortage_price = np.broadcast_to(np.asarray(shortage_cost, dtype=float), (len(ids),))
    _check(paths, on_hand, in_transit, lead_time, review_period, holding, shortage_price, moq, pack_size)
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
    return OrderPlan(pd.DataFrame(rows))


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
    top = max(int(np.ceil(max(need, 0.0))) + pack, moq)
    allowed = _allowed(top, moq, pack)
    while True:
        stride = max(1, len(allowed) // _GRID_LIMIT)
        grid = allowed[::stride]
        costs, shortages = _costs(grid, start, cumulative, holding, shortage, lost_sales)
        best = int(np.argmin(costs))
        if stride == 1:
            return int(grid[best]), float(costs[best]), float(shortages[best])
        low = allowed.searchsorted(grid[max(best - 1, 0)])
        high = allowed.searchsorted(grid[min(best + 1, len(grid) - 1)], side="right")
        allowed = allowed[low:high]


def _allowed(top: int, moq: int, pack: int) -> np.ndarray:
    """Order quantities allowed: 0, and multiples of the pack size from the minimum order quantity on."""
    first = max(moq, pack)
    first = int(np.ceil(first / pack) * pack)
    return np.concatenate([[0], np.arange(first, max(top, first) + 1, pack)]).astype(np.int64)


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
    """Reject policy parameters out of range, naming the CLI flag."""
    if lead_time < 0:
        raise InputError(f"--lead-time {lead_time}: expected a whole number of periods >= 0")
    if review_period < 1:
        raise InputError(f"--review-period {review_period}: expected a whole number of periods >= 1")
    if not holding_cost > 0:
        raise InputError(f"--holding-cost {holding_cost}: expected a number > 0")
    if not shortage_cost > 0:
        raise InputError(f"--shortage-cost {shortage_cost}: expected a number > 0")
    if moq < 0:
        raise InputError(f"--moq {moq}: expected a whole number >= 0")
    if pack_size < 1:
        raise InputError(f"--pack-size {pack_size}: expected a whole number >= 1")


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
    lowest = (float(holding_cost.min()), float(shortage_cost.min())) if len(holding_cost) else (1.0, 1.0)
    check_policy(lead_time, review_period, *lowest, moq, pack_size)
    if paths.ndim != 3 or paths.shape[2] < lead_time + review_period:
        raise InputError("demand paths must cover periods 1 .. lead time + review period")
    if in_transit.shape != (paths.shape[0], lead_time) or on_hand.shape != (paths.shape[0],):
        raise InputError("state: one on_hand and lead-time in_transit values per item")


def read_state(path: str, lead_time: int) -> pd.DataFrame:
    """Read STATE (``unique_id, on_hand, in_transit_1 .. in_transit_L``); errors name file, row and column.

    Rows are numbered as a person sees them (CSV: header line 1; Parquet: first row 1).
    ``on_hand`` may be negative (a backlog) with backorders; ``in_transit_k`` must be >= 0.
    """
    from cpfr.exceptions import Problem, SchemaError, ValidationError

    label = str(path)
    suffix = label.lower().rsplit(".", 1)[-1]
    try:
        frame = (
            pd.read_csv(path) if suffix == "csv" else pd.read_parquet(path) if suffix == "parquet" else None
        )
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except (ValueError, OSError) as error:
        raise InputError(f"{label}: cannot be read: {error}") from None
    if frame is None:
        raise InputError(f"{label}: unknown file type — expected .csv or .parquet")
    columns = ["unique_id", "on_hand", *(f"in_transit_{k}" for k in range(1, lead_time + 1))]
    for column in columns:
        if column not in frame.columns:
            raise SchemaError(f"{label}:1:{column}: missing — STATE needs {', '.join(columns)}")
    first_row = 2 if suffix == "csv" else 1
    problems = []
    ids = frame["unique_id"]
    for position in np.flatnonzero(ids.isna().to_numpy() | ids.astype(str).duplicated().to_numpy()):
        shown = None if pd.isna(ids.iloc[position]) else str(ids.iloc[position])
        problems.append(
            Problem(label, int(position) + first_row, "unique_id", shown, "a unique, non-empty item id")
        )
    for column in columns[1:]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.fillna(0.0))
        if column != "on_hand":
            bad |= values < 0
        for position in np.flatnonzero(bad.to_numpy())[:50]:
            raw = frame[column].iloc[position]
            problems.append(
                Problem(
                    label,
                    int(position) + first_row,
                    column,
                    None if pd.isna(raw) else str(raw),
                    "a finite number" + ("" if column == "on_hand" else " >= 0"),
                )
            )
        frame[column] = values
    if problems:
        raise ValidationError(problems[:50], total=len(problems))
    frame["unique_id"] = frame["unique_id"].astype(str)
    return frame[columns].reset_index(drop=True)
