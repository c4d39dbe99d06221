"""One pass of the whole CPFR cycle over a store: what ``cpfr plan`` runs.

Forecasts (the platform's weekly SKU x channel view) -> target tracking and
attainment for every target running on the last sales day -> exceptions and
consensus with every partner -> the order forecast from the consensus and
today's network orders (purchase orders to RDCs, transfers to FDCs and
stores) -> KPIs. Each step is the library function a user could call alone;
this module only runs them in order, shares the one platform forecast
between them, and times them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpfr.collab.arrangement import arrangements
from cpfr.collab.compare import (
    WEEKLY_MODELS,
    PlatformForecast,
    daily_history,
    partner_record,
    platform_forecast,
)
from cpfr.collab.consensus import consensus_forecast, order_forecast
from cpfr.collab.exceptions import find_exceptions
from cpfr.collab.kpis import partner_kpis
from cpfr.collab.results import new_run_id, plan_tables, save_plan
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.inventory.store_plan import NetworkCosts, latest_stock, plan_network
from cpfr.network.store_placement import NetworkPlan, plan_placement
from cpfr.targets.attainment import target_attainment
from cpfr.targets.decompose import decompose_target
from cpfr.targets.rankings import price_band_rankings
from cpfr.targets.tracking import track_target


@dataclass(frozen=True)
class Names:
    """Display names of the codes a plan's tables hold, so people read names beside codes.

    Each attribute maps a code to its name: ``partners`` (partner_id), ``skus`` (sku_id),
    ``channels`` (channel_id), ``categories`` (category_id), ``locations`` (location_id and
    warehouse_id), ``targets`` (target_id to the target as signed).
    """

    partners: dict[str, str] = field(default_factory=dict)
    skus: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, store: Store, partner_id: str | None = None) -> Names:
        """Read the names from ``store`` (only ``partner_id``'s and shared rows when given)."""

        def pairs(table: str, key: str, value: str) -> dict[str, str]:
            frame = store.read_table(table, partner_id=partner_id)
            return {str(k): str(v) for k, v in zip(frame[key], frame[value], strict=True) if pd.notna(v)}

        return cls(
            partners=pairs("partners", "partner_id", "name"),
            skus=pairs("products", "sku_id", "name"),
            channels=pairs("channels", "channel_id", "name"),
            categories=pairs("categories", "category_id", "name"),
            locations={
                **pairs("locations", "location_id", "name"),
                **pairs("warehouses", "warehouse_id", "name"),
            },
            targets=pairs("targets", "target_id", "description"),
        )


@dataclass(frozen=True)
class CycleResult:
    """Everything one cycle produced (tables are what ``cpfr plan`` writes as Parquet).

    Attributes
    ----------
    as_of : datetime.date
        The last day of sales.
    platform : PlatformForecast
    targets : pandas.DataFrame
        One row per running target: tracking summary and attainment.
    gaps : pandas.DataFrame
        ``target_id, dimension, member, target_to_date, actual, gap``.
    finals : dict of str to numpy.ndarray
        Sampled final totals per target.
    exceptions, consensus, order_forecast, kpis : pandas.DataFrame
        All partners stacked (``partner_id`` column).
    network_orders : pandas.DataFrame or None
        Today's network orders (None when skipped).
    rankings : pandas.DataFrame
        Brands ranked within price bands over the latest promotion that has ended (``event_id`` column).
    seconds : dict of str to float
        Time per step.
    notes : list of str
        What could not be done and why.
    run_id : str or None
        The plan run the results were saved under in the store (None when not saved).
    placement : NetworkPlan or None
        Which SKUs each FDC should stock, and the daily cost against today's placement
        (:func:`cpfr.network.store_placement.plan_placement`); None where the store has no FDCs
        or parcel rates, or the network step was skipped.
    names : Names
        Display names of the codes in the tables.
    owners : dict of str to str
        The partner owning each SKU (``products.partner_id``): what cuts the SKU-level tables
        without a ``partner_id`` column (network orders, the platform forecast) by partner.
    """

    as_of: dt.date
    platform: PlatformForecast
    targets: pd.DataFrame
    gaps: pd.DataFrame
    finals: dict[str, np.ndarray]
    exceptions: pd.DataFrame
    consensus: pd.DataFrame
    order_forecast: pd.DataFrame
    kpis: pd.DataFrame
    network_orders: pd.DataFrame | None
    rankings: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_id: str | None = None
    names: Names = field(default_factory=Names)
    owners: dict[str, str] = field(default_factory=dict)
    placement: NetworkPlan | None = None


def run_cycle(
    store: Store,
    *,
    weeks: int = 8,
    models: str | list[str] | tuple[str, ...] = WEEKLY_MODELS,
    network: bool = True,
    network_models: str | list[str] = "auto",
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> CycleResult:
    """Run forecasts, targets, exceptions, consensus, orders and KPIs over ``store`` (module docstring).

    With ``now`` (the run's time, UTC), the results are saved in the store under a new plan run
    (:mod:`cpfr.collab.results`), in one transaction; without it nothing is written.
    """
    say = progress or (lambda message: None)
    seconds: dict[str, float] = {}
    notes: list[str] = []
    clock = time.perf_counter()

    def lap(step: str, done: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now
        say(f"{step}: {done} in {seconds[step]:.1f} s")

    say("history: daily sales per SKU x location, stockout days unconstrained")
    daily = daily_history(store)
    lap("history", f"{daily['unique_id'].nunique():,} SKU x location series, {len(daily):,} days")
    say("forecast: every SKU x channel, weekly")
    platform = platform_forecast(store, weeks=weeks, models=models, daily=daily)
    series = platform.weekly[["sku_id", "channel_id"]].drop_duplicates().shape[0]
    lap("forecast", f"{series:,} SKU x channel series, {weeks} weeks ahead ({platform.model})")
    say("targets: tracking and attainment probability")
    targets, gaps, finals = _targets(store, platform.as_of, notes)
    lap("targets", f"{len(targets):,} running targets")
    partners = sorted(arrangements(store).items())
    say(f"collaboration: exceptions and consensus with {len(partners)} partners")
    records = {partner_id: partner_record(store, partner_id, platform.as_of) for partner_id, _ in partners}
    every_stock = latest_stock(store, pd.Timestamp(platform.as_of))  # read once, cut per partner
    owner = store.read_table("products").set_index("sku_id")["partner_id"]
    found, agreed, planned, kpis = [], [], [], []
    for partner_id, arrangement in partners:
        record = records[partner_id]
        stock = every_stock[every_stock["sku_id"].map(owner).eq(partner_id)].reset_index(drop=True)
        found.append(find_exceptions(store, arrangement, platform, record, stock))
        table = consensus_forecast(store, arrangement, platform, record).assign(partner_id=partner_id)
        agreed.append(table)
        planned.append(order_forecast(table, stock).assign(partner_id=partner_id))
        say(f"collaboration: {partner_id}: {len(found[-1]):,} exceptions, {len(table):,} consensus rows")
    lap("collaboration", f"{sum(len(frame) for frame in found):,} exceptions")
    network_orders = None
    if network:
        say("network orders: forecasting every SKU x location and planning tomorrow's orders")
        planned_network = plan_network(
            store, NetworkCosts(), models=network_models, n_paths=200, history=daily
        )
        network_orders = planned_network.orders
        if not planned_network.warehouse_stock_known:
            notes.append(
                "The store holds no warehouse stock: warehouses were taken as empty, so purchase orders "
                "cover every store's need and no transfer was cut to what a warehouse holds."
            )
        lap("network orders", f"{len(network_orders):,} orders")
    placement = None
    if network:
        say("placement: which SKUs each front warehouse should stock")
        try:
            placement = plan_placement(store)
        except InputError as error:
            notes.append(f"No FDC placement: {error}")
        else:
            lap("placement", f"{int(placement.cells['stocked'].sum()):,} SKU x FDC placements")
    rankings = _latest_promotion_rankings(store, platform.as_of)
    say("KPIs: accuracy, bias, service and stock per partner")
    for partner_id, _ in partners:
        kpis.append(partner_kpis(store, partner_id, platform, record=records[partner_id], daily=daily))
    lap("kpis", f"{sum(len(frame) for frame in kpis):,} KPIs")
    result = CycleResult(
        as_of=platform.as_of,
        platform=platform,
        targets=targets,
        gaps=gaps,
        finals=finals,
        exceptions=_stack(found),
        consensus=_stack(agreed),
        order_forecast=_stack(planned),
        kpis=_stack(kpis),
        network_orders=network_orders,
        rankings=rankings,
        seconds=seconds,
        notes=notes,
        names=Names.of(store),
        owners={str(sku): str(partner) for sku, partner in owner.dropna().items()},
        placement=placement,
    )
    if now is None:
        return result
    say("saving the plan's results in the store")
    saved = save_cycle(store, result, weeks=weeks, now=now)
    lap("save", f"plan run {saved.run_id} saved")
    return saved


def save_cycle(store: Store, result: CycleResult, *, weeks: int, now: dt.datetime) -> CycleResult:
    """Save a cycle's results in the store under a new plan run, in one transaction; return it with its id.

    :func:`run_cycle` calls it when given ``now``; a server calls it itself, holding its write lock
    only for the save, not for the whole cycle.
    """
    run_id = new_run_id("P", now)
    tables = plan_tables(
        run_id,
        now,
        as_of=result.as_of,
        weeks=weeks,
        platform=result.platform,
        targets=result.targets,
        gaps=result.gaps,
        exceptions=result.exceptions,
        consensus=result.consensus,
        order_forecast=result.order_forecast,
        network_orders=result.network_orders,
        kpis=result.kpis,
        stage_seconds=result.seconds,
        notes=result.notes,
    )
    save_plan(store, tables)
    return dataclasses.replace(result, run_id=run_id)


def _targets(
    store: Store, as_of: dt.date, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Track and forecast every target whose period holds ``as_of``."""
    running = store.read_table("targets")
    starts, ends = (
        pd.to_datetime(running["period_start"]).dt.date,
        pd.to_datetime(running["period_end"]).dt.date,
    )
    running = running[(starts <= as_of) & (ends >= as_of)]
    rows, gaps, finals = [], [], {}
    for target_id in running["target_id"]:
        tracking = track_target(store, decompose_target(store, target_id, as_of=as_of), as_of=as_of)
        row: dict[str, object] = {
            "target_id": target_id,
            "partner_id": tracking.plan.scope.partner_id,
            "metric": tracking.plan.scope.metric,
            "description": tracking.plan.scope.description,
            **tracking.summary,
        }
        try:
            chance = target_attainment(store, target_id, as_of=as_of)
        except InputError as error:
            notes.append(f"{target_id}: no attainment probability — {error}")
        else:
            finals[target_id] = chance.totals
            row.update(
                probability=chance.probability,
                expected_total=chance.expected_total,
                reachable_50=chance.reachable_total.get(0.5),
                reachable_80=chance.reachable_total.get(0.8),
                final_q10=chance.quantiles[0.1],
                final_q50=chance.quantiles[0.5],
                final_q90=chance.quantiles[0.9],
                uplift_for_50=chance.uplift_needed[0.5],
                uplift_for_80=chance.uplift_needed[0.8],
            )
        rows.append(row)
        for dimension in ("category_id", "channel_id", "city_tier", "month"):
            gap = tracking.gap_by(dimension).rename(columns={dimension: "member"})
            gaps.append(
                gap.assign(target_id=target_id, dimension=dimension, member=gap["member"].astype(str))
            )
    gap_columns = [
        "target_id",
        "dimension",
        "member",
        "target",
        "target_to_date",
        "actual",
        "gap",
        "share_of_gap",
    ]
    gap_table = pd.concat(gaps, ignore_index=True)[gap_columns] if gaps else pd.DataFrame(columns=gap_columns)
    return pd.DataFrame(rows), gap_table, finals


def _latest_promotion_rankings(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Rank brands within price bands over the latest promotion that ended by ``as_of``."""
    events = store.read_table("events")
    over = events[(events["kind"] == "promotion") & (pd.to_datetime(events["end_date"]).dt.date <= as_of)]
    if over.empty:
        return pd.DataFrame()
    latest = over.sort_values("end_date").iloc[-1]
    start, end = pd.Timestamp(latest["start_date"]).date(), pd.Timestamp(latest["end_date"]).date()
    ranked = price_band_rankings(store, start=start, end=end, by_channel=False, label=str(latest["event_id"]))
    return ranked.brands.assign(event_id=latest["event_id"])


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
