"""Tenant isolation, swept: every documented route x method x caller, with A's and B's real ids.

A brand's user (partner A) must never see partner B's partner id, SKUs, product names, targets,
exceptions or orders in any body (JSON, CSV or Parquet), and a path or body naming B's object
answers 404 — the same as an object that does not exist (never 200, and never 403 unless the
role may not call the route at all). The route list comes from ``app.openapi()``, so a new route
is swept without anyone listing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from cpfr.exceptions import CpfrError

from .conftest import PARTNER_A, PARTNER_B, Alliance
from .sweep import Call, Route, body_text, calls, leaks, partner_ids, routes, unfillable

SWEPT_CALLERS = ("platform_admin", "platform_planner", "a_planner", "a_viewer")
PARTNER_CALLERS = ("a_planner", "a_viewer")


@dataclass(frozen=True)
class Outcome:
    """One response of the sweep."""

    caller: str
    route: Route
    call: Call
    status: int
    leaked: list[str]

    def __str__(self) -> str:
        return f"{self.caller} {self.call.method} {self.call.url} {self.call.params} [{self.call.variant}] -> {self.status}"


@dataclass(frozen=True)
class Sweep:
    """Every route, every caller, every outcome."""

    routes: list[Route]
    outcomes: list[Outcome]

    def combinations(self) -> int:
        """Route x method x caller combinations swept."""
        return len({(o.route.path, o.route.method, o.caller) for o in self.outcomes})


def _stub_plan(store: object, *, progress: Callable[[str], None], **settings: object) -> object:
    # What a real cycle says while it runs (it names each partner it works on), then a failure,
    # so the jobs the sweep reads carry another partner's name as a real one would.
    progress(f"collaboration: {PARTNER_B}: 2 exceptions, 268 consensus rows")
    raise CpfrError(f"the sweep does not plan (stopped after {PARTNER_B})")


def _stub_forecast(store: object, *, progress: Callable[[str], None], **settings: object) -> object:
    progress(f"forecast: {PARTNER_B} series")
    raise CpfrError("the sweep does not forecast")


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Sweep both store backends: PostgreSQL's row-level security under the same routes."""
    return str(request.param)


@pytest.fixture(scope="module")
def sweep(make_client: Callable[..., TestClient], alliance: Alliance) -> Sweep:
    client = make_client()
    client.raise_server_exceptions = False  # a 500 is an outcome to report, not a crash of the sweep
    store = client.app.state.service.store  # type: ignore[attr-defined]
    own = partner_ids(store, PARTNER_A, alliance.user_ids["a_spare"])
    other = partner_ids(store, PARTNER_B, alliance.user_ids["b_spare"])
    documented = routes(client.app.openapi())  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("cpfr.collab.cycle.run_cycle", _stub_plan)
        patch.setattr("cpfr.forecast.store_forecast.forecast_store", _stub_forecast)
        started = client.post(
            "/api/v1/plan-runs", json={"weeks": 1}, headers=alliance.headers("platform_admin")
        )
        job_id = started.json()["job_id"]
        _wait(client, alliance, job_id)
        run_id = store.read_table("plan_runs").sort_values("created_at").iloc[-1]["run_id"]
        shared = {"run_id": str(run_id), "job_id": job_id, "table": "sales"}
        outcomes = []
        for caller in SWEPT_CALLERS:  # the platform first: its writes on B's objects are then there to leak
            headers = alliance.headers(caller)
            for route in documented:
                if unfillable(route):
                    continue
                for call in calls(route, own, other, shared):
                    response = client.request(
                        call.method,
                        call.url,
                        params=call.params,
                        json=call.json,
                        content=call.content,
                        headers=headers,
                    )
                    text = body_text(response.content, response.headers.get("content-type", ""))
                    if response.status_code >= 400:  # an error may echo what was sent, which is no leak
                        for value in sorted(call.sent(), key=len, reverse=True):
                            text = text.replace(value, "")
                    found = leaks(text, other.tokens) if caller in PARTNER_CALLERS else []
                    outcomes.append(Outcome(caller, route, call, response.status_code, found))
    return Sweep(documented, outcomes)


def _wait(client: TestClient, alliance: Alliance, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job_id}", headers=alliance.headers("platform_admin")).json()
        if state["state"] in ("succeeded", "failed"):
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_every_documented_route_has_parameters_the_sweep_can_fill(sweep: Sweep) -> None:
    unswept = {
        f"{route.method} {route.path}": unfillable(route) for route in sweep.routes if unfillable(route)
    }
    assert unswept == {}, "teach tests/api/sweep.py these parameters' ids"
    swept = {(o.route.path, o.route.method) for o in sweep.outcomes}
    assert swept == {(route.path, route.method) for route in sweep.routes}


def test_no_body_a_partner_receives_holds_another_partners_ids(
    sweep: Sweep, record_property: Callable[[str, object], None], capsys: pytest.CaptureFixture[str]
) -> None:
    leaked = [f"{outcome}: {outcome.leaked[:5]}" for outcome in sweep.outcomes if outcome.leaked]
    record_property("route_role_method_combinations", sweep.combinations())
    record_property("requests", len(sweep.outcomes))
    record_property("leaks", len(leaked))
    with capsys.disabled():
        print(
            f"\nisolation sweep: {len(sweep.routes)} routes x {len(SWEPT_CALLERS)} callers = "
            f"{sweep.combinations()} route x method x role combinations, {len(sweep.outcomes)} requests, "
            f"{len(leaked)} leaks"
        )
    assert not leaked, "\n".join(leaked)
    assert sweep.combinations() == len(sweep.routes) * len(SWEPT_CALLERS)


def test_a_partner_naming_another_partners_object_gets_404(sweep: Sweep) -> None:
    own_status = {
        (o.caller, o.route.path, o.route.method): o.status
        for o in sweep.outcomes
        if o.call.variant == "own/json"
    }
    wrong = []
    for outcome in sweep.outcomes:
        if outcome.caller not in PARTNER_CALLERS or not outcome.call.names_other:
            continue
        refused_anyway = own_status[(outcome.caller, outcome.route.path, outcome.route.method)] == 403
        if outcome.route.is_upload:
            allowed = {422} | ({403} if refused_anyway else set())  # the file's rows are named, row by row
        else:
            allowed = {404} | ({403} if refused_anyway else set())
        if outcome.status not in allowed:
            wrong.append(str(outcome))
    assert wrong == []


def test_no_request_of_the_sweep_fails_on_the_server(sweep: Sweep) -> None:
    assert [str(outcome) for outcome in sweep.outcomes if outcome.status >= 500] == []


def test_the_sweep_reads_real_rows_on_most_get_routes(sweep: Sweep) -> None:
    gets = {route.path for route in sweep.routes if route.method == "GET"}
    for callers, share in ((SWEPT_CALLERS, 0.95), (PARTNER_CALLERS, 0.8)):
        answered = {
            o.route.path
            for o in sweep.outcomes
            if o.route.method == "GET" and o.caller in callers and 200 <= o.status < 300
        }
        assert len(answered) >= share * len(gets), sorted(gets - answered)
    writes = {(route.path, route.method) for route in sweep.routes if route.method != "GET"}
    written = {(o.route.path, o.route.method) for o in sweep.outcomes if 200 <= o.status < 300}
    assert writes - written == set()
