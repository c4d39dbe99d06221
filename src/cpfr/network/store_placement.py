"""Placement of every SKU across the store's front warehouses (FDCs): today's against the optimised one.

:func:`plan_placement` builds a :class:`~cpfr.network.placement_problem.PlacementProblem` from the
store and solves it with :func:`~cpfr.network.placement.place_skus`:

- demand per SKU x FDC: the online sales of the FDC's zones (``locations.warehouse_id``) per day over
  the last ``weeks`` weeks, with the days without sales as zeros: its mean and standard deviation;
- parcel and handling costs per SKU x FDC from the logistics model (:mod:`cpfr.network.cost`): a
  local parcel of the SKU's size class from the FDC plus FDC handling, against a long-haul parcel
  from the FDC's parent RDC plus RDC handling; one parcel per unit (small items that share a
  parcel make both legs cheaper alike);
- holding: each warehouse's annual ``holding_cost_rate`` x the SKU's list price / 365, per unit a day;
- capacity: the FDC's volume (litres, products' ``volume_l``) where both are known, else units;
- co-purchases: pairs of SKUs in the same basket (``baskets``), their joint orders a day per region,
  scaled from the basket sample to the online units sold;
- today's placement: the SKUs the FDC held stock of on the last inventory day (all of them when
  the store has no FDC stock, as the demo's daily sales assume).

Only parcel-shipped SKUs are placed (a car is not); a partner's plan places its own SKUs in the whole
capacity of each FDC (what the FDC could give that brand), so the figures of two partners' plans do
not add up.

References
----------
Chopra, S., & Meindl, P. (2016). Supply Chain Management (6th ed.), ch. 4 and 14.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.network.cost import NOT_PARCEL, logistics_costs, size_class
from cpfr.network.placement import place_skus
from cpfr.network.placement_problem import CostBreakdown, PlacementProblem, placement_cost

DEFAULT_WEEKS = 8


@dataclass(frozen=True)
class NetworkPlan:
    """A placement plan: every SKU x FDC cell today and planned, and the daily cost of both.

    Attributes
    ----------
    as_of : datetime.date
        Last sales day the demand was measured to.
    cells : pandas.DataFrame
        One row per SKU x FDC: ``sku_id, product, partner_id, fdc_id, fdc, region, mean_daily,
        sd_daily, base_stock, stocked_now, stocked``.
    by_region : pandas.DataFrame
        One row per FDC: ``region, fdc_id, fdc, skus_now, skus_planned, local_share_now,
        local_share_planned, capacity_used, cost_now_yuan, cost_planned_yuan, saving_yuan``.
    cost_now, cost_planned : CostBreakdown
        Daily cost (local, long haul, split, holding) of today's and of the planned placement.
    greedy_cost : float
        Daily cost of the planner's rule (fastest SKUs first until the FDC is full).
    gap, bound : float
        The solver's proven relative gap and lower bound.
    method : str
        ``milp`` or ``lagrangian``.
    seconds : float
        Solve time.
    notes : list of str
        What the plan assumed where the store was silent.
    """

    as_of: dt.date
    cells: pd.DataFrame
    by_region: pd.DataFrame
    cost_now: CostBreakdown
    cost_planned: CostBreakdown
    greedy_cost: float
    gap: float
    bound: float
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)


def plan_placement(
    store: Store,
    *,
    weeks: int = DEFAULT_WEEKS,
    partner_id: str | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 0.01,
    progress: Callable[[str], None] | None = None,
) -> NetworkPlan:
    """Place every parcel-shipped SKU (of ``partner_id`` if given) across the store's FDCs (see above)."""
    say = progress or (lambda message: None)
    notes: list[str] = []
    _, last = store.date_range("sales")
    if last is None:
        raise InputError("no sales in the store: nothing to measure demand on")
    as_of = pd.Timestamp(last).date()
    start = as_of - dt.timedelta(days=7 * weeks - 1)
    warehouses = store.read_table("warehouses").set_index("warehouse_id")
    fdcs = warehouses[warehouses["tier"] == "FDC"]
    if fdcs.empty:
        raise InputError("the store has no FDC (warehouses with tier FDC): nothing to place")
    zones = store.read_table("locations")
    zones = zones[zones["warehouse_id"].isin(fdcs.index) & (zones["kind"] == "online_zone")]
    products = store.read_table("products", partner_id=partner_id)
    if partner_id is not None:
        products = products[products["partner_id"] == partner_id]
    sizes = size_class(
        products["weight_kg"].to_numpy(dtype=float), products["volume_l"].to_numpy(dtype=float)
    )
    products = products.assign(size_class=sizes)[sizes != NOT_PARCEL].reset_index(drop=True)
    if products.empty:
        raise InputError(f"no parcel-shipped SKUs{f' of {partner_id}' if partner_id else ''} to place")
    say(f"demand: online sales of {len(products):,} SKUs in {len(fdcs)} FDC regions, {start} .. {as_of}")
    sales = store.read_table(
        "sales",
        where={"location_id": list(zones["location_id"]), "sku_id": list(products["sku_id"])},
        start=start,
        end=as_of,
    )
    fdc_ids = [str(name) for name in fdcs.index]
    sku_ids = [str(name) for name in products["sku_id"]]
    mean, sd = _daily_moments(sales, zones, sku_ids, fdc_ids, days=7 * weeks)
    costs = logistics_costs(store)
    local, far = _leg_costs(costs, products, fdcs, as_of)
    holding = _holding(products, fdcs)
    volume, capacity, unit = _space(products, fdcs)
    notes.append(f"capacity in {unit}")
    pairs, pair_orders = _copurchases(store, products, zones, fdc_ids, sales, start, as_of)
    split = float(np.mean(costs.split_surcharge(np.asarray([partner_id]), as_of)))
    problem = PlacementProblem(
        tuple(sku_ids),
        tuple(fdc_ids),
        mean,
        sd,
        volume,
        capacity,
        local_parcel_cost=local,
        long_haul_parcel_cost=far,
        split_penalty=split,
        holding_cost=holding,
        cover_days=7.0,
        lead_time_days=float(np.nanmedian(fdcs["lead_time_days"].to_numpy(dtype=float))) or 1.0,
        pairs=pairs,
        pair_orders=pair_orders,
    )
    say(f"solve: {len(sku_ids):,} SKUs x {len(fdc_ids)} FDCs, {len(pairs):,} co-purchased pairs")
    result = place_skus(problem, time_limit=time_limit, mip_gap=mip_gap)
    now = _stocked_now(store, sku_ids, fdc_ids, as_of, notes)
    cells = _cells(problem, products, fdcs, now, result.stocked)
    by_region = _by_region(problem, fdcs, now, result.stocked)
    return NetworkPlan(
        as_of,
        cells,
        by_region,
        placement_cost(problem, now),
        result.cost,
        result.greedy_cost,
        result.gap,
        result.bound,
        result.method,
        result.seconds,
        notes,
    )


def _daily_moments(
    sales: pd.DataFrame, zones: pd.DataFrame, skus: list[str], fdcs: list[str], *, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of daily units per SKU x FDC, days without sales counted as zero."""
    fdc_of = zones.set_index("location_id")["warehouse_id"]
    daily = (
        sales.assign(fdc=sales["location_id"].map(fdc_of))
        .groupby(["sku_id", "fdc", "date"], observed=True)["units"]
        .sum()
        .reset_index()
    )
    rows = pd.Index(skus).get_indexer(pd.Index(daily["sku_id"]))
    columns = pd.Index(fdcs).get_indexer(pd.Index(daily["fdc"]))
    units = daily["units"].to_numpy(dtype=float)
    total = np.zeros((len(skus), len(fdcs)))
    squares = np.zeros_like(total)
    np.add.at(total, (rows, columns), units)
    np.add.at(squares, (rows, columns), units**2)
    mean = total / days
    sd = np.sqrt(np.maximum(squares / days - mean**2, 0.0))
    return mean, sd


def _leg_costs(
    costs: object, products: pd.DataFrame, fdcs: pd.DataFrame, on: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Cost of a unit shipped from the FDC (parcel + FDC handling) and from its RDC, per SKU x FDC."""
    from cpfr.network.cost import LogisticsCosts

    assert isinstance(costs, LogisticsCosts)
    skus, count = len(products), len(fdcs)
    size = np.repeat(products["size_class"].to_numpy(dtype=object), count)
    region = np.tile(fdcs["region"].to_numpy(dtype=object), skus)
    fdc = np.tile(fdcs.index.to_numpy(dtype=object), skus)
    rdc = np.tile(fdcs["parent_warehouse_id"].to_numpy(dtype=object), skus)
    partners = np.repeat(products["partner_id"].to_numpy(dtype=object), count)
    local = costs.parcel_cost(fdc, region, size) + costs.handling_per_unit(fdc, partners, on)
    far = costs.parcel_cost(rdc, region, size) + costs.handling_per_unit(rdc, partners, on)
    return local.reshape(skus, count), far.reshape(skus, count)


def _holding(products: pd.DataFrame, fdcs: pd.DataFrame) -> np.ndarray:
    """Yuan a unit of stock costs a day at each FDC: annual rate x list price / 365."""
    price = products["list_price"].fillna(products["list_price"].median()).to_numpy(dtype=float)
    rate = fdcs["holding_cost_rate"].fillna(0.25).to_numpy(dtype=float)
    return price[:, None] * rate[None, :] / 365.0


def _space(products: pd.DataFrame, fdcs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Space per unit and FDC capacities: litres where every SKU and FDC has a volume, else units."""
    volume = products["volume_l"].to_numpy(dtype=float)
    litres = fdcs["capacity_volume_l"].to_numpy(dtype=float)
    if np.all(np.isfinite(volume)) and np.all(np.isfinite(litres)):
        return volume, litres, "litres"
    return np.ones(len(products)), fdcs["capacity_units"].fillna(0).to_numpy(dtype=float), "units"


def _copurchases(
    store: Store,
    products: pd.DataFrame,
    zones: pd.DataFrame,
    fdcs: list[str],
    sales: pd.DataFrame,
    start: dt.date,
    end: dt.date,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of SKUs bought together and their joint orders a day per FDC region (scaled to all sales)."""
    lines = store.read_table("baskets", where={"sku_id": list(products["sku_id"])}, start=start, end=end)
    empty = (np.zeros((0, 2), dtype=np.int64), np.zeros((0, len(fdcs))))
    if lines.empty:
        return empty
    fdc_of = zones.set_index("location_id")["warehouse_id"]
    lines = lines.assign(fdc=lines["location_id"].map(fdc_of)).dropna(subset=["fdc"])
    if lines.empty:
        return empty
    scale = float(sales["units"].sum()) / max(float(lines["units"].sum()), 1.0)  # basket sample -> all
    days = max((end - start).days + 1, 1)
    baskets = lines[["basket_id", "sku_id", "fdc"]].drop_duplicates()
    joined = baskets.merge(baskets, on=["basket_id", "fdc"])
    joined = joined[joined["sku_id_x"] < joined["sku_id_y"]]
    if joined.empty:
        return empty
    counts = joined.groupby(["sku_id_x", "sku_id_y", "fdc"]).size().rename("orders").reset_index()
    index = pd.Index(products["sku_id"])
    keys = counts[["sku_id_x", "sku_id_y"]].drop_duplicates().reset_index(drop=True)
    pair_row = pd.MultiIndex.from_frame(keys).get_indexer(
        pd.MultiIndex.from_frame(counts[["sku_id_x", "sku_id_y"]])
    )
    orders = np.zeros((len(keys), len(fdcs)))
    np.add.at(
        orders,
        (pair_row, pd.Index(fdcs).get_indexer(pd.Index(counts["fdc"]))),
        counts["orders"].to_numpy() * scale / days,
    )
    pairs = np.column_stack(
        [index.get_indexer(pd.Index(keys["sku_id_x"])), index.get_indexer(pd.Index(keys["sku_id_y"]))]
    )
    return pairs.astype(np.int64), orders


def _stocked_now(
    store: Store, skus: list[str], fdcs: list[str], as_of: dt.date, notes: list[str]
) -> np.ndarray:
    """Which SKUs each FDC holds on the last inventory day (all, when the store has no FDC stock)."""
    stock = store.read_table("inventory", where={"site_id": fdcs, "sku_id": skus}, end=as_of)
    if stock.empty:
        notes.append("the store holds no FDC stock: today's placement taken as every SKU at every FDC")
        return np.ones((len(skus), len(fdcs)), dtype=bool)
    latest = stock[stock["date"] == stock["date"].max()]
    held = latest[(latest["on_hand"] + latest["in_transit"].fillna(0)) > 0]
    now = np.zeros((len(skus), len(fdcs)), dtype=bool)
    now[
        pd.Index(skus).get_indexer(pd.Index(held["sku_id"])),
        pd.Index(fdcs).get_indexer(pd.Index(held["site_id"])),
    ] = True
    return now


def _cells(
    problem: PlacementProblem,
    products: pd.DataFrame,
    fdcs: pd.DataFrame,
    now: np.ndarray,
    planned: np.ndarray,
) -> pd.DataFrame:
    skus, count = problem.shape
    return pd.DataFrame(
        {
            "sku_id": np.repeat(products["sku_id"].to_numpy(), count),
            "product": np.repeat(products["name"].to_numpy(), count),
            "partner_id": np.repeat(products["partner_id"].to_numpy(), count),
            "fdc_id": np.tile(fdcs.index.to_numpy(), skus),
            "fdc": np.tile(fdcs["name"].to_numpy(), skus),
            "region": np.tile(fdcs["region"].to_numpy(), skus),
            "mean_daily": problem.demand_mean.ravel(),
            "sd_daily": problem.demand_sd.ravel(),
            "base_stock": problem.base_stock.ravel(),
            "stocked_now": now.ravel(),
            "stocked": np.asarray(planned, dtype=bool).ravel(),
        }
    )


def _by_region(
    problem: PlacementProblem, fdcs: pd.DataFrame, now: np.ndarray, planned: np.ndarray
) -> pd.DataFrame:
    """Per FDC: SKUs stocked, share of orders shipped locally, capacity used, daily cost now and planned."""
    planned = np.asarray(planned, dtype=bool)
    demand = problem.demand_mean.sum(axis=0)

    def daily_cost(stocked: np.ndarray) -> np.ndarray:
        parcels = np.where(stocked, problem.local_parcel_cost, problem.long_haul_parcel_cost)
        return (problem.demand_mean * parcels).sum(axis=0) + (
            problem.holding_cost * problem.base_stock * stocked
        ).sum(axis=0)

    def local_share(stocked: np.ndarray) -> np.ndarray:
        return np.divide(
            (problem.demand_mean * stocked).sum(axis=0), demand, out=np.zeros_like(demand), where=demand > 0
        )

    now_cost, planned_cost = daily_cost(now), daily_cost(planned)
    return pd.DataFrame(
        {
            "region": fdcs["region"].to_numpy(),
            "fdc_id": fdcs.index.to_numpy(),
            "fdc": fdcs["name"].to_numpy(),
            "skus_now": now.sum(axis=0),
            "skus_planned": planned.sum(axis=0),
            "local_share_now": local_share(now),
            "local_share_planned": local_share(planned),
            "capacity_used": (problem.space * planned).sum(axis=0) / np.maximum(problem.capacity, 1e-9),
            "cost_now_yuan": now_cost,
            "cost_planned_yuan": planned_cost,
            "saving_yuan": now_cost - planned_cost,
        }
    )
