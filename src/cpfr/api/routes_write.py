"""Write routes: uploads, submissions, comments, overrides, proposals, order edits, jobs and users.

Every write goes through the caller's partner-bound store (a brand cannot write another's rows)
and :meth:`cpfr.api.service.Service.write`, which records it in the audit trail in the same
transaction. Request bodies are pydantic models that forbid unknown fields (no mass assignment).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cpfr.api.app import Ctx
from cpfr.api.keys import add_user, list_users, now_text, require, revoke_user
from cpfr.api.routes_read import consensus_rows, find_exception, network_order_rows, one
from cpfr.api.service import page_of, records
from cpfr.data.schema_types import MAX_UNITS
from cpfr.data.store import Store
from cpfr.exceptions import AccessError, InputError, NotFoundError, ValidationError

router = APIRouter()
FileName = Annotated[
    str, Query(max_length=200, pattern=r"^[\w\-. ]+\.(csv|parquet|xlsx)$", description="the file's name")
]


class Body(BaseModel):
    """A request body: unknown fields are refused (OWASP API6, mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class NoteIn(Body):
    """A comment on, or the resolution of, an exception."""

    text: str = Field(min_length=1, max_length=4000)


class ConsensusIn(Body):
    """A consensus value for one SKU, channel and week, with the reason (audited)."""

    sku_id: str = Field(min_length=1, max_length=100)
    channel_id: str = Field(min_length=1, max_length=100)
    ds: dt.date
    units: float = Field(ge=0, le=MAX_UNITS)
    why: str = Field(min_length=1, max_length=2000)


class OrderEditIn(Body):
    """A change to a proposed order before release."""

    quantity: float | None = Field(default=None, ge=0, le=MAX_UNITS)
    released: bool | None = None


class PlanIn(Body):
    """A plan run's settings."""

    weeks: int = Field(default=8, ge=1, le=52)
    network: bool = True


class ForecastIn(Body):
    """A forecast run over the store."""

    level: str = Field(default="sku/channel", max_length=40)
    horizon: int = Field(default=28, ge=1, le=366)


class AllocationIn(Body):
    """A hot launch to split: the SKU, the units that will sell out, the pack size."""

    sku_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(ge=1, le=10_000_000)
    pack: int = Field(default=1, ge=1, le=10_000)


class UserIn(Body):
    """A new user: its side, role and name."""

    partner_id: str | None = Field(default=None, max_length=100)
    role: Literal["platform_admin", "platform_planner", "partner_planner", "partner_viewer"]
    name: str | None = Field(default=None, max_length=200)


def _staged(body: bytes, filename: str, folder: str) -> Path:
    path = Path(folder) / Path(filename).name
    path.write_bytes(body)
    return path


def _uploaded(
    work: Callable[[], dict[str, object]], folder: str, filename: str
) -> Callable[[], dict[str, object]]:
    """Wrap ``work`` so its problems name the file as the caller sent it, not the server's staging path."""

    def named() -> dict[str, object]:
        try:
            return work()
        except ValidationError as error:
            problems = [
                dataclasses.replace(problem, file=filename) if problem.file.startswith(folder) else problem
                for problem in error.problems
            ]
            raise ValidationError(problems, total=error.total) from None

    return named


@router.post("/ingest/{table}", tags=["data"])
async def ingest(ctx: Ctx, request: Request, table: str, filename: FileName) -> dict[str, object]:
    """Validate an uploaded CSV, Parquet or Excel file and upsert it into ``table`` in one transaction.

    A bad file answers 422 with every problem (file, row, column, value, expected) and writes
    nothing; sending the same file again changes nothing. A brand may load only its own facts.
    """
    from cpfr.data.sources import open_source

    require(ctx.principal, "ingest")
    body = await request.body()
    with tempfile.TemporaryDirectory() as folder:
        path = _staged(body, filename, folder)

        def work() -> dict[str, object]:
            result = ctx.store.ingest(open_source(path), table)
            return {**dataclasses.asdict(result), "file": filename}

        named = _uploaded(work, folder, filename)
        return dict(ctx.service.audited(ctx.store, ctx.principal, "ingest", table, named))  # type: ignore[call-overload]


@router.post("/partner-forecasts", tags=["forecasts"])
async def submit_forecast(
    ctx: Ctx,
    request: Request,
    filename: FileName,
    partner_id: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, object]:
    """Submit the partner's forecast file (``sku_id, channel_id, ds, units``); 422 lists every problem."""
    from cpfr.collab.arrangement import arrangement_for
    from cpfr.collab.submit import submit_partner_forecast

    require(ctx.principal, "submit_forecast")
    partner = ctx.principal.partner_id or partner_id
    if partner is None:
        raise InputError("partner_id: the platform submits for a partner named in the query")
    if ctx.store.read_table("partners", where={"partner_id": partner}).empty:
        raise NotFoundError(f"partner {partner!r} not found")
    body = await request.body()
    with tempfile.TemporaryDirectory() as folder:
        path = _staged(body, filename, folder)

        def work() -> dict[str, object]:
            arrangement = arrangement_for(ctx.store, partner)
            submission = submit_partner_forecast(ctx.store, path, arrangement, submitted_on=dt.date.today())
            return {**dataclasses.asdict(submission), "file": filename}

        named = _uploaded(work, folder, filename)
        return dict(ctx.service.audited(ctx.store, ctx.principal, "forecast.submit", partner, named))  # type: ignore[call-overload]


def _note(ctx: Ctx, exception_id: str, kind: str, text: str) -> dict[str, object]:
    require(ctx.principal, "comment")
    found = find_exception(ctx.store, exception_id)
    row = {
        "note_id": f"N{uuid.uuid4().hex[:12]}",
        "exception_id": exception_id,
        "partner_id": found["partner_id"],
        "kind": kind,
        "text": text.strip(),
        "user_id": ctx.principal.user_id,
        "at": now_text(),
    }
    ctx.service.write(
        ctx.store,
        ctx.principal,
        {"exception_notes": pd.DataFrame([row])},
        action=f"exception.{kind}",
        target=exception_id,
        detail={"text": row["text"]},
        partner_id=str(row["partner_id"]),
    )
    return row


@router.post("/exceptions/{exception_id}/comments", tags=["collaboration"], status_code=201)
def comment(ctx: Ctx, exception_id: str, note: NoteIn) -> dict[str, object]:
    """Comment on an exception (audited)."""
    return _note(ctx, exception_id, "comment", note.text)


@router.post("/exceptions/{exception_id}/resolve", tags=["collaboration"])
def resolve(ctx: Ctx, exception_id: str, note: NoteIn) -> dict[str, object]:
    """Resolve an exception with a note saying how (audited)."""
    return _note(ctx, exception_id, "resolve", note.text)


@router.post("/exceptions/{exception_id}/reopen", tags=["collaboration"])
def reopen(ctx: Ctx, exception_id: str, note: NoteIn) -> dict[str, object]:
    """Reopen a resolved exception (audited)."""
    return _note(ctx, exception_id, "reopen", note.text)


def _consensus_cell(store: Store, change: ConsensusIn) -> pd.Series:
    rows = consensus_rows(store)
    cell = rows[
        (rows["sku_id"] == change.sku_id)
        & (rows["channel_id"] == change.channel_id)
        & (rows["ds"] == pd.Timestamp(change.ds))
    ]
    if cell.empty:
        raise NotFoundError(
            f"no consensus for {change.sku_id} in {change.channel_id}, week of {change.ds}"
            " (weeks start on Monday)"
        )
    return cell.iloc[0]


@router.post("/consensus/overrides", tags=["collaboration"], status_code=201)
def override(ctx: Ctx, change: ConsensusIn) -> dict[str, object]:
    """Override one consensus value with a reason (platform planners; audited, append-only trail)."""
    require(ctx.principal, "override")
    cell = _consensus_cell(ctx.store, change)
    row = {
        "override_id": f"OVR-{uuid.uuid4().hex[:12]}",
        "partner_id": cell["partner_id"],
        "sku_id": change.sku_id,
        "channel_id": change.channel_id,
        "ds": change.ds,
        "old_units": float(cell["consensus"]),
        "new_units": change.units,
        "who": ctx.principal.user_id,
        "why": change.why.strip(),
        "changed_at": now_text(),
    }
    ctx.service.write(
        ctx.store,
        ctx.principal,
        {"consensus_overrides": pd.DataFrame([row])},
        action="consensus.override",
        target=f"{change.sku_id}/{change.channel_id}/{change.ds}",
        detail={"old_units": row["old_units"], "new_units": change.units, "why": row["why"]},
        partner_id=str(row["partner_id"]),
    )
    return {**row, "ds": change.ds.isoformat()}


@router.post("/consensus/proposals", tags=["collaboration"], status_code=201)
def propose(ctx: Ctx, change: ConsensusIn) -> dict[str, object]:
    """Propose a consensus value with a reason (a brand's planner; the platform accepts it by overriding)."""
    require(ctx.principal, "propose")
    cell = _consensus_cell(ctx.store, change)
    row = {
        "proposal_id": f"PRO-{uuid.uuid4().hex[:12]}",
        "partner_id": cell["partner_id"],
        "sku_id": change.sku_id,
        "channel_id": change.channel_id,
        "ds": change.ds,
        "units": change.units,
        "why": change.why.strip(),
        "user_id": ctx.principal.user_id,
        "at": now_text(),
    }
    ctx.service.write(
        ctx.store,
        ctx.principal,
        {"consensus_proposals": pd.DataFrame([row])},
        action="consensus.propose",
        target=f"{change.sku_id}/{change.channel_id}/{change.ds}",
        detail={"consensus": float(cell["consensus"]), "proposed": change.units, "why": row["why"]},
    )
    return {**row, "ds": change.ds.isoformat()}


@router.patch("/network-orders/{order_id}", tags=["orders"])
def edit_order(ctx: Ctx, order_id: str, edit: OrderEditIn) -> dict[str, object]:
    """Change a proposed order's quantity, or release it, before it goes out (audited)."""
    require(ctx.principal, "edit_orders")
    rows = network_order_rows(ctx.store)
    found = one(rows[rows["order_id"] == order_id], f"order {order_id!r}")
    if found["released"]:
        raise InputError(f"order {order_id} was released already; it can no longer change")
    if edit.quantity is None and edit.released is None:
        raise InputError("nothing to change: send quantity, released or both")
    row = {
        "edit_id": f"E{uuid.uuid4().hex[:12]}",
        "run_id": found["run_id"],
        "order_id": order_id,
        "partner_id": found["partner_id"],
        "quantity": edit.quantity if edit.quantity is not None else found["quantity"],
        "released": bool(edit.released),
        "user_id": ctx.principal.user_id,
        "at": now_text(),
    }
    ctx.service.write(
        ctx.store,
        ctx.principal,
        {"order_edits": pd.DataFrame([row])},
        action="order.edit",
        target=order_id,
        detail={"quantity": [found["quantity"], row["quantity"]], "released": row["released"]},
        partner_id=str(row["partner_id"]),
    )
    return {**found, "quantity": row["quantity"], "released": row["released"]}


@router.post("/plan-runs", tags=["jobs"], status_code=202)
def start_plan(ctx: Ctx, settings: PlanIn) -> JSONResponse:
    """Run the whole CPFR cycle in the background; 202 with the job (poll ``/jobs/{id}``)."""
    from cpfr.collab.cycle import run_cycle, save_cycle

    service = ctx.service

    def work(store: Store, progress: object) -> dict[str, object]:
        result = run_cycle(store, weeks=settings.weeks, network=settings.network, progress=progress)  # type: ignore[arg-type]
        with service.write_lock:
            saved = save_cycle(store, result, weeks=settings.weeks, now=dt.datetime.now(dt.UTC))
        return {"run_id": saved.run_id, "as_of": saved.as_of, "seconds": saved.seconds}

    job = service.start_job(ctx.principal, "plan", work)
    return _accepted(job.row())


@router.post("/forecast-runs", tags=["jobs"], status_code=202)
def start_forecast(ctx: Ctx, settings: ForecastIn) -> JSONResponse:
    """Forecast every series of the store at a level in the background; 202 with the job."""
    from cpfr.forecast.store_forecast import forecast_store

    service = ctx.service

    def work(store: Store, progress: object) -> dict[str, object]:
        with service.write_lock:  # the run is written at its end, in one transaction
            result = forecast_store(store, level=settings.level, horizon=settings.horizon, progress=progress)  # type: ignore[arg-type]
        return {"run_id": result.run_id, "series": int(result.forecast["unique_id"].nunique())}

    job = service.start_job(ctx.principal, "forecast", work)
    return _accepted(job.row())


@router.post("/allocations", tags=["network"], status_code=202)
def start_allocation(ctx: Ctx, launch: AllocationIn) -> JSONResponse:
    """Split a hot launch across channels, stores and city tiers in the background; 202 with the job.

    A brand's planner allocates its own SKUs, learning only from its own earlier launches; the
    job's result holds the split by channel and by city tier with expected sales, lost sales and fill.
    """
    from cpfr.network.launch_allocation import allocate_launch

    require(ctx.principal, "allocate")
    if ctx.store.read_table("products", where={"sku_id": launch.sku_id}).empty:
        raise NotFoundError(f"SKU {launch.sku_id!r} not found")

    def work(store: Store, progress: Callable[[str], None]) -> dict[str, object]:
        split = allocate_launch(store, launch.sku_id, launch.quantity, pack=launch.pack, log=progress)
        return {
            "sku_id": split.sku_id,
            "launch_date": split.launch_date,
            "quantity": split.quantity,
            "expected_total": split.expected_total,
            "method": split.method,
            "totals": records(split.totals.to_frame().T)[0],
            "by_channel": records(split.by_channel.reset_index()),
            "by_tier": records(split.by_tier.reset_index()),
        }

    job = ctx.service.start_job(ctx.principal, "allocation", work, action="allocate")
    return _accepted(job.row())


def _accepted(row: dict[str, object]) -> JSONResponse:
    return JSONResponse(row, status_code=202, headers={"Location": f"/api/v1/jobs/{row['job_id']}"})


@router.get("/users", tags=["access"])
def users(ctx: Ctx) -> dict[str, object]:
    """Return the users (platform admins only; key hashes never leave the store)."""
    require(ctx.principal, "manage_users")
    rows = list_users(ctx.store)
    return page_of(rows, 1, max(len(rows), 1))


@router.post("/users", tags=["access"], status_code=201)
def create_user(ctx: Ctx, user: UserIn) -> dict[str, object]:
    """Create a user and return its API key, shown this once (platform admins only; audited)."""
    require(ctx.principal, "manage_users")
    with ctx.service.write_lock:
        principal, key = add_user(
            ctx.store, partner_id=user.partner_id, role=user.role, name=user.name, actor=ctx.principal.user_id
        )
    return {**dataclasses.asdict(principal), "api_key": key}


@router.delete("/users/{user_id}", tags=["access"])
def delete_user(ctx: Ctx, user_id: str) -> dict[str, object]:
    """Revoke a user's key at once (platform admins only; the user stays in the audit trail)."""
    require(ctx.principal, "manage_users")
    if user_id == ctx.principal.user_id:
        raise AccessError("an admin cannot revoke its own key")
    with ctx.service.write_lock:
        principal = revoke_user(ctx.store, user_id, actor=ctx.principal.user_id)
    ctx.service.forget_user(user_id)
    return {**dataclasses.asdict(principal), "revoked": True}
