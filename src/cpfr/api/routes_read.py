"""Read routes: everything cpfr stores and computes, through the caller's partner-bound store.

A route never filters by partner: ``ctx.store`` is already bound to the caller's partner (see
:mod:`cpfr.data.store.scoped`), so another partner's object reads as missing and answers 404.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Response

from cpfr.api.app import Context, Ctx
from cpfr.api.service import download, one, page_json, page_of, records
from cpfr.collab.consensus import latest_overrides
from cpfr.data.store import CUBE_DIMENSIONS, Store
from cpfr.exceptions import InputError, NotFoundError

router = APIRouter()
Page = Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=1000, description="rows per page (at most 1,000)")]
Code = Annotated[str | None, Query(max_length=100, pattern=r"^[\w.:@/+\-]+$")]
Format = Annotated[Literal["json", "csv", "parquet"], Query(description="json, or a csv/parquet download")]


def latest_run(store: Store, run_id: str | None = None) -> pd.Series:
    """Return the plan run ``run_id`` (default: the newest the caller sees); NotFoundError if none."""
    runs = store.read_table("plan_runs")
    if run_id is not None:
        runs = runs[runs["run_id"] == run_id]
    if runs.empty:
        raise NotFoundError("no plan run found: run `cpfr plan` or POST /api/v1/plan-runs")
    return runs.sort_values("created_at").iloc[-1]


def _plan_rows(store: Store, table: str, run_id: str | None, **where: object) -> pd.DataFrame:
    run = latest_run(store, run_id)
    filters = {"run_id": run["run_id"], **{name: value for name, value in where.items() if value is not None}}
    return store.read_table(table, where=filters)


def as_json(text: str) -> Response:
    """Return JSON text built by :func:`cpfr.api.service.page_json` as the response."""
    return Response(text, media_type="application/json")


def cached(ctx: Context, name: str, compute: Callable[[], pd.DataFrame], *args: object) -> pd.DataFrame:
    """Return a derived frame for the caller's partner scope, reused until the next write (read-only!)."""
    return ctx.service.cached((name, ctx.principal.partner_id, *args), compute)


def plan_frame(ctx: Context, table: str, run_id: str | None) -> pd.DataFrame:
    """Return a table of the plan run ``run_id`` (default: the newest) as the caller sees it, cached."""
    return cached(ctx, table, lambda: _plan_rows(ctx.store, table, run_id), run_id)


def _filtered(rows: pd.DataFrame, **equal: object) -> pd.DataFrame:
    for column, value in equal.items():
        if value is not None:
            rows = rows[rows[column] == value]
    return rows


@router.get("/me", tags=["access"])
def me(ctx: Ctx) -> dict[str, object]:
    """Return the caller: ``{"user", "partner_id", "role"}`` (partner_id null for the platform)."""
    principal = ctx.principal
    return {
        "user": principal.name,
        "user_id": principal.user_id,
        "partner_id": principal.partner_id,
        "role": principal.role,
    }


@router.get("/partners", tags=["alliance"])
def partners(ctx: Ctx) -> Response:
    """Return the partners the caller sees (a brand: itself)."""
    rows = ctx.store.read_table("partners")
    if ctx.principal.partner_id is not None:
        rows = rows[rows["partner_id"] == ctx.principal.partner_id]
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/partners/{partner_id}", tags=["alliance"])
def partner(ctx: Ctx, partner_id: str) -> dict[str, object]:
    """Return one partner with its agreements and targets."""
    rows = ctx.store.read_table("partners", partner_id=partner_id, where={"partner_id": partner_id})
    found = one(rows, f"partner {partner_id!r}")
    found["agreements"] = records(ctx.store.read_table("agreements", partner_id=partner_id))
    return found


@router.get("/agreements", tags=["alliance"])
def agreements(ctx: Ctx) -> Response:
    """Return the alliance agreements the caller sees."""
    rows = ctx.store.read_table("agreements")
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/targets", tags=["alliance"])
def targets(ctx: Ctx, run_id: Code = None) -> Response:
    """Return each target's tracking of the latest plan: progress, pace, gap and attainment probability."""
    rows = plan_frame(ctx, "plan_targets", run_id)
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/targets/{target_id}", tags=["alliance"])
def target(ctx: Ctx, target_id: str, run_id: Code = None) -> dict[str, object]:
    """Return one target: its terms, its tracking and its gap attribution by dimension."""
    terms = one(ctx.store.read_table("targets", where={"target_id": target_id}), f"target {target_id!r}")
    tracking = _filtered(plan_frame(ctx, "plan_targets", run_id), target_id=target_id)
    gaps = _filtered(plan_frame(ctx, "plan_target_gaps", run_id), target_id=target_id)
    return {**terms, "tracking": records(tracking), "gaps": records(gaps)}


@router.get("/targets/{target_id}/gaps", tags=["alliance"])
def target_gaps(ctx: Ctx, target_id: str, dimension: Code = None, run_id: Code = None) -> Response:
    """Return a target's gap attribution (category, channel, city tier, month) of the latest plan."""
    one(ctx.store.read_table("targets", where={"target_id": target_id}), f"target {target_id!r}")
    rows = _filtered(plan_frame(ctx, "plan_target_gaps", run_id), target_id=target_id, dimension=dimension)
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/products", tags=["alliance"])
def products(ctx: Ctx, page: Page = 1, page_size: PageSize = 100, category_id: Code = None) -> Response:
    """Return the products the caller sees, with names, categories, prices and price bands."""
    where = {"category_id": category_id} if category_id else None
    total = ctx.store.count_rows("products", where=where)
    rows = ctx.store.read_table("products", where=where, limit=page_size, offset=(page - 1) * page_size)
    return as_json(page_json(rows, page, page_size, total))


@router.get("/products/{sku_id}", tags=["alliance"])
def product(ctx: Ctx, sku_id: str) -> dict[str, object]:
    """Return one product."""
    return one(ctx.store.read_table("products", where={"sku_id": sku_id}), f"SKU {sku_id!r}")


@router.get("/channels", tags=["alliance"])
def channels(ctx: Ctx) -> Response:
    """Return the sales channels the caller sees (the platform's, and a brand's own stores), with names."""
    rows = ctx.store.read_table("channels")
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/categories", tags=["alliance"])
def categories(ctx: Ctx) -> Response:
    """Return the category tree (code, name, parent, level)."""
    rows = ctx.store.read_table("categories")
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/price-bands", tags=["alliance"])
def price_bands(ctx: Ctx, event_id: Code = None) -> dict[str, object]:
    """Rank brands within price bands over a promotion (default: the latest that ended).

    A brand's user sees only its own brand's rows: the shares are of its own sales.
    """
    from cpfr.targets.rankings import event_window, price_band_rankings

    events = ctx.store.read_table("events")
    if event_id is None:
        over = events[events["kind"] == "promotion"]
        _, last = ctx.store.date_range("sales")
        if last is not None:
            over = over[pd.to_datetime(over["end_date"]) <= pd.Timestamp(last)]
        if over.empty:
            raise NotFoundError("no promotion has ended yet")
        event_id = str(over.sort_values("end_date").iloc[-1]["event_id"])
    elif events[events["event_id"] == event_id].empty:
        raise NotFoundError(f"event {event_id!r} not found")
    start, end = event_window(ctx.store, event_id)
    ranked = price_band_rankings(ctx.store, start=start, end=end, by_channel=False, label=event_id)
    return {
        "event_id": event_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        **page_of(ranked.brands, 1, 10**6),
    }


@router.get("/events", tags=["alliance"])
def events(ctx: Ctx) -> Response:
    """Return the events (618, Double 11, subsidies, launches) the caller sees."""
    rows = ctx.store.read_table("events")
    return as_json(page_json(rows, 1, max(len(rows), 1)))


def _locations(store: Store, channel_id: str | None, city_tier: int | None) -> list[str] | None:
    if channel_id is None and city_tier is None:
        return None
    places = store.read_table("locations")
    if channel_id is not None:
        places = places[places["channel_id"] == channel_id]
    if city_tier is not None:
        places = places[places["city_tier"] == city_tier]
    return [str(value) for value in places["location_id"]]


@router.get("/sales", tags=["data"])
def sales(
    ctx: Ctx,
    sku_id: Code = None,
    channel_id: Code = None,
    city_tier: Annotated[int | None, Query(ge=1, le=5)] = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    page: Page = 1,
    page_size: PageSize = 100,
    format: Format = "json",
) -> object:
    """Return daily sales rows, filtered by SKU, channel, city tier and date range; paged, or a download.

    A download (``format=csv`` or ``parquet``) holds every matching row, up to 1,000,000.
    """
    where: dict[str, object] = {}
    if sku_id:
        where["sku_id"] = sku_id
    places = _locations(ctx.store, channel_id, city_tier)
    if places is not None:
        where["location_id"] = places
    if format != "json":
        count = ctx.store.count_rows("sales", where=where, start=start, end=end)
        if count > 1_000_000:
            raise InputError(f"{count:,} rows match: narrow the filters to at most 1,000,000 for a download")
        rows = ctx.store.read_table("sales", where=where, start=start, end=end)
        body, media = download(rows, format)
        name = f"sales.{format}"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    total = ctx.store.count_rows("sales", where=where, start=start, end=end)
    rows = ctx.store.read_table(
        "sales", where=where, start=start, end=end, limit=page_size, offset=(page - 1) * page_size
    )
    return as_json(page_json(rows, page, page_size, total))


@router.get("/sales/cube", tags=["data"])
def sales_cube(
    ctx: Ctx,
    by: Annotated[str, Query(max_length=200, description="dimensions, comma separated")] = "month",
    sku_id: Code = None,
    channel_id: Code = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Response:
    """Return units and GMV grouped by dimensions (e.g. ``week,channel_id``), optionally of one SKU."""
    dims = [name.strip() for name in by.split(",") if name.strip()]
    unknown = [name for name in dims if name not in CUBE_DIMENSIONS]
    if unknown:
        raise InputError(f"unknown dimension {unknown[0]!r}; expected one of {', '.join(CUBE_DIMENSIONS)}")
    extra = [
        name for name, value in (("sku_id", sku_id), ("channel_id", channel_id)) if value and name not in dims
    ]
    cube = ctx.store.sales_cube([*dims, *extra], start=start, end=end)
    if sku_id:
        cube = cube[cube["sku_id"] == sku_id]
    if channel_id:
        cube = cube[cube["channel_id"] == channel_id]
    if extra:
        cube = cube.groupby(dims, as_index=False)[["units", "gmv_yuan"]].sum() if dims else cube
    return as_json(page_json(cube, 1, max(len(cube), 1)))


def _paged_table(
    store: Store,
    table: str,
    where: Mapping[str, object],
    page: int,
    page_size: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Response:
    kept = {name: value for name, value in where.items() if value is not None}
    total = store.count_rows(table, where=kept, start=start, end=end)
    rows = store.read_table(
        table, where=kept, start=start, end=end, limit=page_size, offset=(page - 1) * page_size
    )
    return as_json(page_json(rows, page, page_size, total))


@router.get("/inventory", tags=["data"])
def inventory(
    ctx: Ctx,
    sku_id: Code = None,
    site_id: Code = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """Return stock snapshots (on hand, in transit, stock-outs) by SKU and site."""
    where = {"sku_id": sku_id, "site_id": site_id}
    return _paged_table(ctx.store, "inventory", where, page, page_size, start=start, end=end)


@router.get("/orders", tags=["data"])
def orders(ctx: Ctx, sku_id: Code = None, page: Page = 1, page_size: PageSize = 100) -> Response:
    """Return purchase orders and transfers."""
    return _paged_table(ctx.store, "orders", {"sku_id": sku_id}, page, page_size)


@router.get("/forecast-runs", tags=["forecasts"])
def forecast_runs(ctx: Ctx) -> Response:
    """Return the forecast runs the caller sees."""
    rows = ctx.store.read_table("forecast_runs")
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/forecasts", tags=["forecasts"])
def forecasts(
    ctx: Ctx,
    sku_id: Code = None,
    channel_id: Code = None,
    run_id: Code = None,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """Return the platform's forecast with quantiles (default: the latest plan's weekly forecast run)."""
    if run_id is None:
        runs = cached(ctx, "plan_runs", lambda: latest_run(ctx.store).to_frame().T)
        run_id = str(runs["forecast_run_id"].iloc[0])
    elif ctx.store.read_table("forecast_runs", where={"run_id": run_id}).empty:
        raise NotFoundError(f"forecast run {run_id!r} not found")
    where = {"run_id": run_id, "sku_id": sku_id, "channel_id": channel_id}
    return _paged_table(ctx.store, "forecasts", where, page, page_size)


@router.get("/partner-forecasts", tags=["forecasts"])
def partner_forecasts(
    ctx: Ctx, sku_id: Code = None, channel_id: Code = None, page: Page = 1, page_size: PageSize = 100
) -> Response:
    """Return the forecasts the partners submitted (a brand: its own)."""
    where = {"sku_id": sku_id, "channel_id": channel_id}
    return _paged_table(ctx.store, "partner_forecasts", where, page, page_size)


def exception_rows(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """Return the plan's exceptions with their id (``RUN:PARTNER:RANK``), status and latest note."""
    rows = _plan_rows(store, "plan_exceptions", run_id)
    ids = rows["run_id"] + ":" + rows["partner_id"] + ":" + rows["rank"].astype(str)
    rows.insert(0, "exception_id", ids)
    notes = store.read_table("exception_notes", where={"exception_id": list(ids)}) if len(ids) else None
    status = pd.Series("open", index=rows.index)
    if notes is not None and not notes.empty:
        last = (
            notes[notes["kind"] != "comment"].sort_values("at").drop_duplicates("exception_id", keep="last")
        )
        resolved = set(last.loc[last["kind"] == "resolve", "exception_id"])
        status[ids.isin(resolved)] = "resolved"
        counts = notes.groupby("exception_id").size()
        rows["notes"] = ids.map(counts).fillna(0).astype(int)
    else:
        rows["notes"] = 0
    rows["status"] = status
    return rows


@router.get("/exceptions", tags=["collaboration"])
def exceptions(
    ctx: Ctx,
    reason: Code = None,
    sku_id: Code = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    run_id: Code = None,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """Return the ranked exception queue of the latest plan (filters: reason, SKU, status)."""

    def queue() -> pd.DataFrame:
        rows = exception_rows(ctx.store, run_id)
        names = ctx.store.read_table("products")[["sku_id", "name"]].rename(columns={"name": "product"})
        return rows.merge(names, on="sku_id", how="left").sort_values(["partner_id", "rank"])

    rows = _filtered(cached(ctx, "exceptions", queue, run_id), reason=reason, sku_id=sku_id, status=status)
    return as_json(page_json(rows, page, page_size))


def find_exception(store: Store, exception_id: str) -> dict[str, object]:
    """Return one exception the caller sees, or raise NotFoundError."""
    parts = exception_id.split(":")
    if len(parts) != 3:
        raise NotFoundError(f"exception {exception_id!r} not found")
    rows = exception_rows(store, parts[0])
    return one(rows[rows["exception_id"] == exception_id], f"exception {exception_id!r}")


@router.get("/exceptions/{exception_id}", tags=["collaboration"])
def exception(ctx: Ctx, exception_id: str) -> dict[str, object]:
    """Return one exception with its evidence (both forecasts, the difference) and its notes."""
    found = find_exception(ctx.store, exception_id)
    notes = ctx.store.read_table("exception_notes", where={"exception_id": exception_id})
    found["notes"] = records(notes.sort_values("at"))
    return found


def consensus_rows(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """Return the latest plan's consensus with every override recorded since applied."""
    rows = _plan_rows(store, "plan_consensus", run_id)
    rows["ds"] = pd.to_datetime(rows["ds"])
    for partner_id in rows["partner_id"].dropna().unique():
        changes = latest_overrides(store, str(partner_id))
        if changes.empty:
            continue
        keyed = rows.merge(changes, on=["sku_id", "channel_id", "ds"], how="left")["new_units"]
        hit = keyed.notna().to_numpy() & (rows["partner_id"] == partner_id).to_numpy()
        rows.loc[hit, "consensus"] = keyed[hit].to_numpy()
        rows.loc[hit, "overridden"] = True
    return rows


@router.get("/consensus", tags=["collaboration"])
def consensus(
    ctx: Ctx,
    sku_id: Code = None,
    channel_id: Code = None,
    run_id: Code = None,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """Return the latest plan's consensus forecast (platform, partner, weights, consensus, overridden)."""
    rows = cached(ctx, "consensus", lambda: consensus_rows(ctx.store, run_id), run_id)
    return as_json(page_json(_filtered(rows, sku_id=sku_id, channel_id=channel_id), page, page_size))


@router.get("/consensus/overrides", tags=["collaboration"])
def overrides(ctx: Ctx, sku_id: Code = None, page: Page = 1, page_size: PageSize = 100) -> Response:
    """Return the override trail: who changed which consensus value, when and why."""
    return _paged_table(ctx.store, "consensus_overrides", {"sku_id": sku_id}, page, page_size)


@router.get("/consensus/proposals", tags=["collaboration"])
def proposals(ctx: Ctx, sku_id: Code = None, page: Page = 1, page_size: PageSize = 100) -> Response:
    """Return the consensus values partners proposed."""
    return _paged_table(ctx.store, "consensus_proposals", {"sku_id": sku_id}, page, page_size)


@router.get("/order-forecast", tags=["orders"])
def order_forecast(
    ctx: Ctx, sku_id: Code = None, run_id: Code = None, page: Page = 1, page_size: PageSize = 100
) -> Response:
    """Return the order forecast of the latest plan: demand, order-up-to level, position, order per week."""
    rows = _filtered(plan_frame(ctx, "plan_order_forecast", run_id), sku_id=sku_id)
    return as_json(page_json(rows, page, page_size))


def network_order_rows(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """Return the plan's proposed network orders with planners' edits applied (quantity, released)."""
    rows = _plan_rows(store, "plan_network_orders", run_id)
    rows["proposed_quantity"] = rows["quantity"]
    rows["released"] = False
    if rows.empty:
        return rows
    edits = store.read_table("order_edits", where={"run_id": str(rows["run_id"].iloc[0])})
    if not edits.empty:
        last = edits.sort_values("at").drop_duplicates("order_id", keep="last").set_index("order_id")
        hit = rows["order_id"].isin(last.index)
        rows.loc[hit, "quantity"] = rows.loc[hit, "order_id"].map(last["quantity"])
        rows.loc[hit, "released"] = rows.loc[hit, "order_id"].map(last["released"]).fillna(False).astype(bool)
    return rows


@router.get("/network-orders", tags=["orders"])
def network_orders(
    ctx: Ctx,
    sku_id: Code = None,
    kind: Code = None,
    run_id: Code = None,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """Return today's proposed purchase orders and transfers of the latest plan, edits applied."""
    rows = cached(ctx, "network_orders", lambda: network_order_rows(ctx.store, run_id), run_id)
    return as_json(page_json(_filtered(rows, sku_id=sku_id, kind=kind), page, page_size))


@router.get("/kpis", tags=["collaboration"])
def kpis(ctx: Ctx, run_id: Code = None) -> Response:
    """Return the collaboration KPIs of the latest plan: each side's accuracy and bias, service, turns."""
    rows = plan_frame(ctx, "plan_kpis", run_id)
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/plan-runs", tags=["jobs"])
def plan_runs(ctx: Ctx) -> Response:
    """Return the plan runs the caller sees, newest first."""
    rows = ctx.store.read_table("plan_runs").sort_values("created_at", ascending=False)
    rows["stage_seconds"] = [
        json.loads(text) if isinstance(text, str) else None for text in rows["stage_seconds"]
    ]
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/plan-runs/{run_id}", tags=["jobs"])
def plan_run(ctx: Ctx, run_id: str) -> dict[str, object]:
    """Return one plan run."""
    return records(latest_run(ctx.store, run_id).to_frame().T)[0]


@router.get("/jobs", tags=["jobs"])
def jobs(ctx: Ctx) -> Response:
    """Return the background jobs the caller sees, newest first (a brand: its own, not the platform's)."""
    rows = ctx.store.read_table("jobs").sort_values("created_at", ascending=False)
    if ctx.principal.partner_id is not None:  # a platform job's progress lines name every partner
        rows = rows[rows["partner_id"] == ctx.principal.partner_id]
    return as_json(page_json(rows, 1, max(len(rows), 1)))


@router.get("/jobs/{job_id}", tags=["jobs"])
def job(ctx: Ctx, job_id: str) -> dict[str, object]:
    """Return a job's state, progress, result or error (a brand: only its own jobs)."""
    found = ctx.service.job(ctx.store, job_id)
    if ctx.principal.partner_id is not None and found["partner_id"] != ctx.principal.partner_id:
        raise NotFoundError(f"job {job_id!r} not found")
    return found


@router.get("/audit", tags=["access"])
def audit(ctx: Ctx, action: Code = None, page: Page = 1, page_size: PageSize = 100) -> Response:
    """Return the audit trail, newest first (a brand: the writes on its own data)."""
    rows = ctx.store.read_table("audit_log", where={"action": action} if action else None)
    if ctx.principal.partner_id is not None:
        rows = rows[rows["partner_id"] == ctx.principal.partner_id]
    return as_json(page_json(rows.sort_values("at", ascending=False), page, page_size))


@router.get("/network/placement", tags=["network"])
def network_placement(ctx: Ctx, weeks: Annotated[int, Query(ge=1, le=104)] = 8) -> dict[str, object]:
    """Place the caller's SKUs (a brand: its own; the platform: every brand's) across the FDCs.

    Returns the daily cost today and planned, the solver's gap, and one row per FDC region.
    """
    from cpfr.network.store_placement import plan_placement

    def by_region() -> pd.DataFrame:
        plan = plan_placement(ctx.store, weeks=weeks, partner_id=ctx.principal.partner_id)
        totals: dict[str, Any] = {
            "cost_now_yuan": plan.cost_now.total,
            "cost_planned_yuan": plan.cost_planned.total,
            "greedy_cost_yuan": plan.greedy_cost,
            "gap": plan.gap,
            "method": plan.method,
            "as_of": plan.as_of,
        }
        return plan.by_region.assign(**{f"total_{name}": value for name, value in totals.items()})

    rows = cached(ctx, "network_placement", by_region, weeks)
    totals = {column[6:]: rows[column].iloc[0] for column in rows.columns if column.startswith("total_")}
    regions = rows[[column for column in rows.columns if not column.startswith("total_")]]
    return {**records(pd.DataFrame([totals]))[0], "regions": records(regions)}


@router.get("/network/cost", tags=["network"])
def network_cost(ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None) -> Response:
    """Return the fulfilment cost of online sales by partner, region and warehouse (a brand: its own)."""
    from cpfr.network.cost import fulfilment_cost

    result = fulfilment_cost(ctx.store, start=start, end=end, partner_id=ctx.principal.partner_id)
    return as_json(page_json(result.rows, 1, max(len(result.rows), 1), start=result.start, end=result.end))
