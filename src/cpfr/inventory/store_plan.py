"""Today's orders for the whole network in the store: purchase orders to RDCs, transfers to FDCs and stores.

The platform's network is RDC -> FDC -> store / online zone (``warehouses``
with ``parent_warehouse_id``, ``locations.warehouse_id``). For every SKU each
stage orders up to an echelon base-stock level (Clark & Scarf 1960): a site's
echelon stock is everything at it, below it and on the way to them, and its
order covers the summed demand of the locations below it over its own lead
time, the lead times below it and the review period. The levels come from the
newsvendor heuristic of Shang & Song (2003), "Newsvendor bounds and heuristic
for optimal policies in serial supply chains", *Management Science* 49(5),
applied per (SKU, site) on the distribution tree as echelon order-up-to
heuristics do (Eppen & Schrage 1981; Axsäter 2015, *Inventory Control*,
ch. 10): stage j orders the average of the sample-average newsvendor
quantities with shortage cost ``p + (installation holding cost of its
supplier)`` and holding cost ``h_j`` (its echelon holding cost) or
``sum_{i<=j} h_i`` (the echelon costs of it and everything below).

Locations face customers, so their transfer is the exact lost-sales
sample-path order of :func:`cpfr.inventory.replenish.plan_orders`; warehouses
plan on backorder dynamics of their echelon. Demand is one forecast per SKU x
location, as joint sample paths (stockout days unconstrained); a warehouse's
echelon demand is the path-wise sum over its locations, so their dependence
is kept. When warehouse stock is known, transfers a warehouse cannot ship are
cut in proportion to what was asked (fair shares, largest remainder).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.apportion import apportion
from cpfr.bounds import Bound
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.inventory.limits import WHOLE_PERIODS
from cpfr.inventory.replenish import plan_orders

ORDER_COLUMNS = [
    "order_id",
    "kind",
    "sku_id",
    "from_site_id",
    "to_site_id",
    "order_date",
    "due_date",
    "quantity",
    "status",
    "stage",
    "position",
    "protection_demand_mean",
    "protection_demand_p95",
]
_DAYS_PER_YEAR = 365.0
_ECHELON_FLOOR = 0.1  # a site no dearer than its supplier still pays a tenth of its own holding cost


@dataclass(frozen=True)
class NetworkPlan:
    """Planned orders (:data:`ORDER_COLUMNS`, the store's ``orders`` columns first) and run figures."""

    orders: pd.DataFrame
    as_of: dt.date
    locations: int
    skus: int
    warehouse_stock_known: bool
    units_cut: int
    model: str


@dataclass(frozen=True)
class NetworkCosts:
    """Cost parameters of :func:`network_orders` (rates per yuan of list price)."""

    review_period: int = 1
    location_lead_time: int = 1
    location_holding_rate: float = 0.30
    shortage_rate: float = 0.30

    def check(self) -> None:
        """Reject parameters out of range, naming the parameter (the CLI says it again as its flag)."""
        for name, bound in COST_BOUNDS.items():
            bound.check(name, getattr(self, name))


COST_BOUNDS: dict[str, Bound] = {
    "review_period": Bound(1, WHOLE_PERIODS.maximum, whole=True, reason="days"),
    "location_lead_time": Bound(0, WHOLE_PERIODS.maximum, whole=True, reason="days"),
    "location_holding_rate": Bound(1e-6, 100.0, reason="a rate per yuan of list price"),
    "shortage_rate": Bound(1e-6, 100.0, reason="a rate per yuan of list price"),
}
"""The range of each :class:`NetworkCosts` parameter."""

HISTORY_DAYS = Bound(28, 3660, whole=True, reason="days of history: four weeks at least")
"""The range of :func:`plan_network`'s ``history_days``."""


def plan_network(
    store: Store,
    costs: NetworkCosts | None = None,
    *,
    history_days: int = 182,
    n_paths: int = 300,
    models: str | list[str] = "auto",
    partner_id: str | None = None,
    seed: int = 0,
    history: pd.DataFrame | None = None,
) -> NetworkPlan:
    """Forecast every SKU x location of the store and plan today's orders for the network.

    "Today" is the day after the last sales day; stock is read from the ``inventory`` rows
    of the last sales day (warehouses without rows start empty, and nothing is rationed).
    ``history`` is the store's daily SKU x location demand
    (:func:`cpfr.forecast.store_forecast.store_history` at ``sku/store``) when the caller has it.
    """
    from cpfr.forecast.auto import AutoForecaster
    from cpfr.forecast.direct import forecast_demand, panel_from_long
    from cpfr.forecast.store_forecast import store_history

    costs = costs or NetworkCosts()
    costs.check()
    HISTORY_DAYS.check("history_days", history_days)
    warehouses = store.read_table("warehouses").set_index("warehouse_id")
    locations = store.read_table("locations").set_index("location_id")
    products = store.read_table("products").set_index("sku_id")
    if warehouses.empty or locations["warehouse_id"].isna().all():
        raise InputError(f"{store.location}: no network (warehouses, locations.warehouse_id) to plan")
    if history is None:
        history, _ = store_history(store, "sku/store", partner_id=partner_id)
    elif partner_id is not None:
        owned = store.read_table("products", partner_id=partner_id)["sku_id"]
        history = history[history["sku_id"].isin(owned)]
    last = history["ds"].max()
    history = history[history["ds"] > last - pd.Timedelta(days=history_days)]
    history = history[history["location_id"].map(locations["warehouse_id"]).notna()]
    items = history.drop_duplicates("unique_id").set_index("unique_id")[["sku_id", "location_id"]]
    items["warehouse_id"] = items["location_id"].map(locations["warehouse_id"])
    horizon = max(_chain_lead(warehouses, w) for w in items["warehouse_id"].unique())
    horizon += costs.location_lead_time + costs.review_period
    if models == "auto":
        # The engine of `cpfr replenish`: global boosted demand model, negative-binomial spread.
        daily_holding = costs.location_holding_rate / 365
        demand = forecast_demand(
            panel_from_long(history[["unique_id", "ds", "y"]]),
            horizon=horizon,
            season=7,
            critical_ratio=costs.shortage_rate / (costs.shortage_rate + daily_holding),
        )
        ids, paths, chosen = demand.ids, demand.sample(n_paths, seed=seed), demand.model
    else:
        model = AutoForecaster(horizon=horizon, models=models, n_windows=2).fit(
            history[["unique_id", "ds", "y"]], freq="D"
        )
        ids, paths = model.sample_paths(model.predict(), n_paths=n_paths, seed=seed)
        chosen = model.chosen_.name
    items = items.loc[ids].reset_index(drop=True)
    items["price"] = items["sku_id"].map(products["list_price"]).astype(float).fillna(0.0)
    stock = latest_stock(store, last, partner_id=partner_id)
    known = bool(stock["site_id"].isin(warehouses.index).any())
    orders = network_orders(
        items,
        paths,
        warehouses,
        stock,
        as_of=last.date(),
        costs=costs,
        ration=known,
        served_by=locations["warehouse_id"],
    )
    return NetworkPlan(
        orders=orders,
        as_of=last.date(),
        locations=int(items["location_id"].nunique()),
        skus=int(items["sku_id"].nunique()),
        warehouse_stock_known=known,
        units_cut=int(orders.attrs.get("units_cut", 0)),
        model=chosen,
    )


def network_orders(
    items: pd.DataFrame,
    paths: np.ndarray,
    warehouses: pd.DataFrame,
    stock: pd.DataFrame,
    *,
    as_of: dt.date,
    costs: NetworkCosts,
    ration: bool = False,
    served_by: pd.Series | None = None,
) -> pd.DataFrame:
    """Plan the orders of one day from daily demand paths (see the module docstring).

    ``items``: one row per path set, ``sku_id, location_id, warehouse_id`` (serving
    warehouse) and ``price``; ``paths``: (items, paths, days) from day 1 = the day after
    ``as_of``; ``warehouses`` indexed by ``warehouse_id`` with ``parent_warehouse_id,
    lead_time_days, holding_cost_rate``; ``stock``: ``sku_id, site_id, on_hand, in_transit``.
    ``served_by`` maps every location to its warehouse (default: the items' locations), so
    stock at a location without a forecast still counts in its warehouses' echelons.
    Returns nonzero orders with :data:`ORDER_COLUMNS`; ``attrs['units_cut']`` counts
    units rationed away.
    """
    costs.check()
    lead = warehouses["lead_time_days"].fillna(0).astype(int)
    rate = warehouses["holding_cost_rate"].fillna(0.2).astype(float)
    parent = warehouses["parent_warehouse_id"].where(warehouses["parent_warehouse_id"].notna(), None)
    site_stock = _site_stock(stock)
    price = items["price"].to_numpy(dtype=float)
    per_day = price / _DAYS_PER_YEAR
    serving = items["warehouse_id"].to_numpy()
    h_location = per_day * costs.location_holding_rate
    h_serving = per_day * rate.reindex(serving).to_numpy()
    shortage = price * costs.shortage_rate
    on_hand, in_transit = (
        np.array(
            [
                site_stock.get((s, site), (0.0, 0.0))[k]
                for s, site in zip(items["sku_id"], items["location_id"], strict=True)
            ]
        )
        for k in (0, 1)
    )
    frames = [
        _location_orders(items, paths, on_hand, in_transit, h_location, h_serving, shortage, as_of, costs)
    ]
    chains = {w: _chain(parent, w) for w in warehouses.index}
    if served_by is None:
        served_by = items.drop_duplicates("location_id").set_index("location_id")["warehouse_id"]
    echelon_stock = _echelon_stock(site_stock, chains, served_by)
    for site in warehouses.index:
        below = [w for w in warehouses.index if site in chains[w]]
        members = np.flatnonzero(np.isin(serving, below))
        if len(members):
            frames.append(
                _echelon_orders(
                    site,
                    members,
                    items,
                    paths,
                    chains,
                    lead,
                    rate,
                    parent,
                    echelon_stock,
                    as_of,
                    costs,
                )
            )
    orders = pd.concat(
        [f for f in frames if not f.empty] or [pd.DataFrame(columns=ORDER_COLUMNS)], ignore_index=True
    )
    orders = orders[orders["quantity"] > 0]
    cut = 0
    if ration:
        orders, cut = _ration(orders, site_stock)
    orders = orders[orders["quantity"] > 0].reset_index(drop=True)[ORDER_COLUMNS]
    orders.attrs["units_cut"] = cut
    return orders


def latest_stock(store: Store, as_of: pd.Timestamp, *, partner_id: str | None = None) -> pd.DataFrame:
    """Stock of every (SKU, site) at the end of ``as_of``: ``sku_id, site_id, on_hand, in_transit``.

    Snapshots may be sparse (the demo keeps weekly ones and stockout days): each
    site's latest snapshot on or before ``as_of`` is taken, less the units a location
    sold after it (floored at zero; receipts after it are not known).
    """
    inventory = store.read_table("inventory", partner_id=partner_id)
    inventory["date"] = pd.to_datetime(inventory["date"])
    inventory = inventory[inventory["date"] <= as_of].sort_values("date")
    latest = inventory.groupby(["sku_id", "site_id"], as_index=False).last()
    # Only sales after the oldest of these snapshots can matter: read no further back.
    first = (latest["date"].min() + pd.Timedelta(days=1)).date() if len(latest) else as_of.date()
    sales = store.sales_cube(
        ["sku_id", "location_id", "date"], partner_id=partner_id, start=first, end=as_of.date()
    )
    sales["date"] = pd.to_datetime(sales["date"])
    later = latest[["sku_id", "site_id", "date"]].merge(
        sales.rename(columns={"location_id": "site_id", "date": "sold_on"}), on=["sku_id", "site_id"]
    )
    later = later[(later["sold_on"] > later["date"]) & (later["sold_on"] <= as_of)]
    sold = later.groupby(["sku_id", "site_id"])["units"].sum()
    keys = pd.MultiIndex.from_frame(latest[["sku_id", "site_id"]])
    latest["on_hand"] = np.maximum(
        latest["on_hand"].to_numpy(float) - sold.reindex(keys).fillna(0).to_numpy(), 0
    )
    latest["in_transit"] = latest["in_transit"].fillna(0).astype(float)
    return latest[["sku_id", "site_id", "on_hand", "in_transit"]].reset_index(drop=True)


def _chain(parent: pd.Series, warehouse: str) -> list[str]:
    """List the warehouse and its suppliers up to the one the brand supplies."""
    chain = [warehouse]
    while parent.get(chain[-1]) is not None and len(chain) <= len(parent):
        chain.append(str(parent[chain[-1]]))
    if len(chain) > len(parent):
        raise InputError(f"warehouses: parent_warehouse_id forms a cycle through {warehouse!r}")
    return chain


def _chain_lead(warehouses: pd.DataFrame, warehouse: str) -> int:
    """Days from the brand's shipment to the serving warehouse: the lead times along the chain."""
    parent = warehouses["parent_warehouse_id"].where(warehouses["parent_warehouse_id"].notna(), None)
    lead = warehouses["lead_time_days"].fillna(0).astype(int)
    return int(sum(lead[w] for w in _chain(parent, warehouse)))


def _site_stock(stock: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """(sku, site) -> (on hand, in transit)."""
    return {
        (str(sku), str(site)): (float(hand), 0.0 if pd.isna(transit) else float(transit))
        for sku, site, hand, transit in stock[["sku_id", "site_id", "on_hand", "in_transit"]].itertuples(
            index=False
        )
    }


def _echelon_stock(
    site_stock: dict[tuple[str, str], tuple[float, float]],
    chains: dict[str, list[str]],
    served_by: pd.Series,
) -> dict[tuple[str, str], float]:
    """(sku, warehouse) -> units on hand and in transit at the warehouse and every site below it."""
    total: dict[tuple[str, str], float] = {}
    for (sku, site), (on_hand, in_transit) in site_stock.items():
        home = site if site in chains else served_by.get(site)
        for warehouse in chains.get(str(home), []) if home is not None and not pd.isna(home) else []:
            total[(sku, warehouse)] = total.get((sku, warehouse), 0.0) + on_hand + in_transit
    return total


def _location_orders(
    items: pd.DataFrame,
    paths: np.ndarray,
    on_hand: np.ndarray,
    in_transit: np.ndarray,
    h_location: np.ndarray,
    h_serving: np.ndarray,
    shortage: np.ndarray,
    as_of: dt.date,
    costs: NetworkCosts,
) -> pd.DataFrame:
    """Stage 1: each location's lost-sales transfer from its serving warehouse."""
    lead, review = costs.location_lead_time, costs.review_period
    pipeline = np.zeros((len(items), lead))
    if lead:
        pipeline[:, 0] = in_transit  # the store keeps no due dates: assume tomorrow
    echelon_h = np.maximum(h_location - h_serving, _ECHELON_FLOOR * h_location)
    plan = plan_orders(
        [str(i) for i in range(len(items))],
        paths[:, :, : lead + review],
        on_hand,
        pipeline,
        lead_time=lead,
        review_period=review,
        holding_cost=np.maximum(echelon_h, 1e-9),
        shortage_cost=np.maximum(shortage + h_serving, 1e-9),
        lost_sales=True,
    ).orders
    return _rows(
        items["sku_id"].to_numpy(),
        items["warehouse_id"].to_numpy(),
        items["location_id"].to_numpy(),
        plan,
        "location",
        as_of,
        lead,
    )


def _echelon_orders(
    site: str,
    members: np.ndarray,
    items: pd.DataFrame,
    paths: np.ndarray,
    chains: dict[str, list[str]],
    lead: pd.Series,
    rate: pd.Series,
    parent: pd.Series,
    echelon_stock: dict[tuple[str, str], float],
    as_of: dt.date,
    costs: NetworkCosts,
) -> pd.DataFrame:
    """Order for a warehouse, per SKU: echelon order-up-to over its lead, the longest lead below and R."""
    frame = items.iloc[members]
    skus = sorted(frame["sku_id"].unique())
    below = max(
        sum(int(lead[w]) for w in chains[serving][: chains[serving].index(site)])
        for serving in frame["warehouse_id"].unique()
    )
    own = int(lead[site])
    span = own + below + costs.location_lead_time
    summed = np.stack([paths[members[frame["sku_id"].to_numpy() == sku]].sum(axis=0) for sku in skus])
    position = np.array([echelon_stock.get((str(sku), site), 0.0) for sku in skus])
    price = frame.drop_duplicates("sku_id").set_index("sku_id").loc[skus, "price"].to_numpy(dtype=float)
    per_day = price / _DAYS_PER_YEAR
    supplier = parent.get(site)
    h_site = per_day * float(rate[site])
    h_supplier = per_day * float(rate[supplier]) if supplier is not None else 0.0 * per_day
    h_echelon = np.maximum(h_site - h_supplier, _ECHELON_FLOOR * h_site)
    h_below = np.maximum(per_day * costs.location_holding_rate - h_supplier, h_echelon)
    quantities = []
    plans = []
    for holding in (h_echelon, h_below):
        plan = plan_orders(
            skus,
            summed[:, :, : span + costs.review_period],
            position,
            np.zeros((len(skus), span)),
            lead_time=span,
            review_period=costs.review_period,
            holding_cost=np.maximum(holding, 1e-9),
            shortage_cost=np.maximum(price * costs.shortage_rate + h_supplier, 1e-9),
        ).orders
        quantities.append(plan["order_qty"].to_numpy())
        plans.append(plan)
    plan = plans[1].assign(order_qty=np.rint((quantities[0] + quantities[1]) / 2).astype(int))
    return _rows(
        np.array(skus),
        np.array([supplier] * len(skus), dtype=object),
        np.array([site] * len(skus)),
        plan,
        "warehouse",
        as_of,
        own,
    )


def _rows(
    skus: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    plan: pd.DataFrame,
    stage: str,
    as_of: dt.date,
    lead: int,
) -> pd.DataFrame:
    """Orders in the store's ``orders`` layout: placed tomorrow, due after the lead time."""
    placed = as_of + dt.timedelta(days=1)
    kinds = np.where(pd.isna(sources), "purchase", "transfer")
    return pd.DataFrame(
        {
            "order_id": [
                f"{'PO' if kind == 'purchase' else 'TR'}-{placed:%Y%m%d}-{target}-{sku}"
                for kind, target, sku in zip(kinds, targets, skus, strict=True)
            ],
            "kind": kinds,
            "sku_id": skus,
            "from_site_id": [None if pd.isna(s) else s for s in sources],
            "to_site_id": targets,
            "order_date": placed,
            "due_date": placed + dt.timedelta(days=lead),
            "quantity": plan["order_qty"].to_numpy(dtype=np.int64),
            "status": "open",
            "stage": stage,
            "position": plan["inventory_position"].to_numpy(),
            "protection_demand_mean": plan["protection_demand_mean"].to_numpy(),
            "protection_demand_p95": plan["protection_demand_p95"].to_numpy(),
        }
    )


def _ration(
    orders: pd.DataFrame, site_stock: dict[tuple[str, str], tuple[float, float]]
) -> tuple[pd.DataFrame, int]:
    """Cut transfers a warehouse cannot ship from its stock on hand to fair shares (largest remainder)."""
    orders = orders.copy()
    cut = 0
    transfers = orders[orders["kind"] == "transfer"]
    for (sku, source), group in transfers.groupby(["sku_id", "from_site_id"], sort=False):
        available = int(max(site_stock.get((str(sku), str(source)), (0.0, 0.0))[0], 0.0))
        asked = group["quantity"].to_numpy(dtype=float)
        if asked.sum() <= available:
            continue
        orders.loc[group.index, "quantity"] = apportion(available, asked)
        cut += int(asked.sum() - available)
    return orders, cut
