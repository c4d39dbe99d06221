"""Routes for the alliance's levers: trade-in effects and budget, C2M demand gaps, launch forecasts.

Each reads through the caller's scoped store (a brand: its own SKUs and the market cells of
its categories), computes on first call and keeps the frame until the next write.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import Field

from cpfr.api.app import Context, Ctx
from cpfr.api.routes_read import cached
from cpfr.api.service import records
from cpfr.c2m.spec_forecast import LaunchSpec
from cpfr.exceptions import NotFoundError

router = APIRouter()
UPLIFT_BOOTSTRAP = 19  # replicates behind the API's intervals (the CLI's default is 199)


def uplift_frame(ctx: Context) -> pd.DataFrame:
    """Return the caller's trade-in estimates, computed once per data generation."""
    from cpfr.tradein import estimate_uplift

    return cached(
        ctx,
        "tradein_uplift",
        lambda: estimate_uplift(ctx.store, partner_id=ctx.principal.partner_id, n_boot=UPLIFT_BOOTSTRAP),
    )


@router.get("/tradein/uplift", tags=["trade-in"])
def tradein_uplift(ctx: Ctx) -> dict[str, object]:
    """Return per leaf category the subsidy's uplift, cannibalisation and pull-forward with 90 % intervals.

    Units are net: the eligible SKUs' gain less the units bought early and those taken from
    the category's unsubsidised models. ``pre_trend_p`` below 0.05 flags an estimate whose
    identification check failed.
    """
    return {"items": records(uplift_frame(ctx))}


@router.get("/tradein/allocation", tags=["trade-in"])
def tradein_allocation(
    ctx: Ctx,
    budget: Annotated[float, Query(gt=0, le=1e13, description="Subsidy budget, yuan.")] = 100_000_000.0,
    objective: Literal["gmv", "units"] = "gmv",
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> dict[str, object]:
    """Split a subsidy budget over category x city tier x month, beside the pro-rata split.

    Returns the totals of both splits, the spend per category and each category's marginal
    return curve (cumulative spend, cumulative incremental result, return per yuan).
    """
    from cpfr.tradein.budget import BudgetSplit, plan_budget, return_curves

    estimates = uplift_frame(ctx)

    def split_cells() -> pd.DataFrame:
        split = plan_budget(
            ctx.store,
            budget,
            objective=objective,
            months=months,
            estimates=estimates,
            partner_id=ctx.principal.partner_id,
        )
        return split.cells

    cells = cached(ctx, "tradein_allocation", split_cells, budget, objective, months)
    totals: dict[str, Any] = {"objective": objective, **BudgetSplit(cells, objective, budget).totals()}
    by_category = (
        cells.groupby(["category_id", "category_name"], as_index=False)[
            [
                "spend",
                "pro_rata_spend",
                "expected_incremental_gmv",
                "pro_rata_incremental_gmv",
                "expected_incremental_units",
                "pro_rata_incremental_units",
            ]
        ]
        .sum()
        .sort_values("spend", ascending=False)
    )
    return {
        **totals,
        "categories": records(by_category),
        "curves": records(return_curves(cells, objective=objective)),
    }


@router.get("/c2m/gaps", tags=["c2m"])
def c2m_gaps(
    ctx: Ctx,
    top: Annotated[int, Query(ge=1, le=500, description="How many cells, best first.")] = 50,
) -> dict[str, object]:
    """Return attribute x price-band cells where demand outruns supply, ranked, with their evidence.

    A brand sees the cells of its own categories; other brands appear only as counts.
    """
    from cpfr.c2m.gaps import find_gaps
    from cpfr.data.store.scoped import scoped

    def gaps() -> pd.DataFrame:
        # A gap is a market cell: its supply counts every brand's SKUs and shoppers' searches are
        # the platform's. The finder reads the platform's view and, for a brand, keeps the brand's
        # categories and no other brand's SKU, name or partner id (it is the one place that cuts).
        market = scoped(ctx.service.store, None)
        try:
            return find_gaps(market, partner_id=ctx.principal.partner_id)
        finally:
            market.close()

    return {"items": records(cached(ctx, "c2m_gaps", gaps).head(top))}


class LaunchRequest(LaunchSpec):
    """A product that has never sold, as a planner specifies it, and the forecast asked for."""

    as_of: dt.date | None = Field(
        default=None, description="Learn only from sales before it (default: launch)."
    )
    horizon: int = Field(default=90, ge=1, le=730, description="Days after launch.")


# A POST for its JSON body, yet it changes nothing: marked so, and not audited.
@router.post("/launch/forecast", tags=["c2m"], openapi_extra={"x-read-only": True})
def launch_forecast(ctx: Ctx, request: LaunchRequest) -> dict[str, object]:
    """Forecast a specified product's first ``horizon`` days: units, q0.05..q0.95, the daily curve.

    Learnt from the launches the caller may see (a brand: its own) before ``as_of``; a brand
    cannot forecast another brand's product (404).
    """
    from cpfr.c2m.spec_forecast import spec_forecast

    if ctx.principal.partner_id is not None and request.partner_id != ctx.principal.partner_id:
        raise NotFoundError(f"no partner {request.partner_id!r}")
    spec = LaunchSpec(**request.model_dump(exclude={"as_of", "horizon"}))

    def forecast() -> pd.DataFrame:
        # The daily curve with the summary beside it, one frame, so the cache can keep it.
        result = spec_forecast(
            ctx.store, spec, as_of=request.as_of or request.launch_date, horizon_days=request.horizon
        )
        summary = {f"summary_{key}": value for key, value in result.summary().items()}
        return result.daily.assign(ds=result.daily["ds"].dt.date, **summary)

    frame = cached(ctx, "launch_forecast", forecast, request.model_dump_json())
    summary = {column[8:]: frame[column].iloc[0] for column in frame.columns if column.startswith("summary_")}
    daily = frame[[column for column in frame.columns if not column.startswith("summary_")]]
    return {**records(pd.DataFrame([summary]))[0], "daily": records(daily)}
