"""Uploads (422 problems, idempotence, Idempotency-Key, 413, another partner's rows), background jobs, the audit trail."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cpfr.api.service import ServiceConfig
from cpfr.data.store import Store
from cpfr.exceptions import CpfrError

from .conftest import CALLERS, PARTNER_A, PARTNER_B, Alliance
from .sweep import calls, partner_ids, routes

API = "/api/v1"


def _store(client: TestClient) -> Store:
    return client.app.state.service.store  # type: ignore[attr-defined,no-any-return]


def _upload(
    client: TestClient, headers: dict[str, str], text: str, *, path: str = "/ingest/sales", **params: str
):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}{path}", params={"filename": "x.csv", **params}, content=text.encode(), headers=headers
    )


@pytest.fixture(scope="module")
def sales_row(client: TestClient) -> str:
    """Partner A's first sales row as a CSV file (header and one line)."""
    return partner_ids(_store(client), PARTNER_A, "").sales_csv


def test_a_bad_row_answers_422_naming_file_row_and_column_and_writes_nothing(
    client: TestClient, alliance: Alliance, sales_row: str
) -> None:
    header, line = sales_row.strip().splitlines()
    columns = header.split(",")
    cells = line.split(",")
    cells[columns.index("units")] = "lots"
    cells[columns.index("date")] = "2025-06-28"  # a new key: the only problem is the units
    before = _store(client).content_digest()
    response = _upload(client, alliance.headers("a_planner"), f"{header}\n{line}\n{','.join(cells)}\n")
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "file": "x.csv",
            "row": 3,
            "column": "units",
            "value": "lots",
            "expected": "a whole number between 0 and 1,000,000,000",
        }
    ]
    assert _store(client).content_digest() == before


def test_a_good_file_loads_and_sending_it_again_changes_nothing(
    client: TestClient, alliance: Alliance, sales_row: str
) -> None:
    header, line = sales_row.strip().splitlines()
    cells = line.split(",")
    cells[header.split(",").index("date")] = "2025-06-29"  # a new day of the same SKU and place
    text = f"{header}\n{','.join(cells)}\n"
    first = _upload(client, alliance.headers("a_planner"), text)
    assert first.status_code == 200 and first.json()["file"] == "x.csv"
    assert (first.json()["rows"], first.json()["inserted"], first.json()["replaced"]) == (1, 1, 0)
    after_first = _store(client).content_digest()
    second = _upload(client, alliance.headers("a_planner"), text)
    assert second.status_code == 200 and (second.json()["inserted"], second.json()["replaced"]) == (0, 1)
    logs = {"audit_log", "ingest_log"}  # each attempt is logged; the data itself stays as it was
    digest = _store(client).content_digest()
    assert {name: value for name, value in digest.items() if name not in logs} == {
        name: value for name, value in after_first.items() if name not in logs
    }
    assert digest["sales"] == after_first["sales"]


def test_a_partner_uploading_another_partners_sku_gets_422_naming_row_and_column(
    client: TestClient, alliance: Alliance, sales_row: str
) -> None:
    other = partner_ids(_store(client), PARTNER_B, "").sales_csv.strip().splitlines()[1]
    header, line = sales_row.strip().splitlines()
    before = _store(client).content_digest()
    response = _upload(client, alliance.headers("a_planner"), f"{header}\n{line}\n{other}\n")
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {(p["file"], p["row"], p["column"]) for p in problems} >= {("x.csv", 3, "sku_id")}
    assert all(p["row"] == 3 for p in problems)
    assert _store(client).content_digest() == before


def test_a_partners_forecast_upload_good_and_bad(client: TestClient, alliance: Alliance) -> None:
    store = _store(client)
    forecast = store.read_table("partner_forecasts", partner_id=PARTNER_A, limit=2)
    good = forecast[["sku_id", "channel_id", "ds", "units"]].to_csv(index=False)
    accepted = _upload(client, alliance.headers("a_planner"), good, path="/partner-forecasts")
    assert accepted.status_code == 200 and accepted.json()["partner_id"] == PARTNER_A
    assert accepted.json()["rows"] == 2
    lines = good.splitlines()
    lines[2] = lines[2].replace(str(forecast["sku_id"].iloc[1]), "NO-SUCH-SKU")
    refused = _upload(
        client, alliance.headers("a_planner"), "\n".join(lines) + "\n", path="/partner-forecasts"
    )
    assert refused.status_code == 422
    named = {(p["file"], p["row"], p["column"], p["value"]) for p in refused.json()["problems"]}
    assert ("x.csv", 3, "sku_id", "NO-SUCH-SKU") in named


def test_an_idempotency_key_replays_the_answer_and_refuses_another_body(
    client: TestClient, alliance: Alliance
) -> None:
    exception_id = partner_ids(_store(client), PARTNER_A, "").values["exception_id"]
    url = f"{API}/exceptions/{exception_id}/comments"
    headers = {**alliance.headers("a_planner"), "Idempotency-Key": "comment-1"}
    first = client.post(url, json={"text": "we ship 200 more on Monday"}, headers=headers)
    again = client.post(url, json={"text": "we ship 200 more on Monday"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    notes = client.get(f"{API}/exceptions/{exception_id}", headers=alliance.headers("a_planner")).json()[
        "notes"
    ]
    assert [note["text"] for note in notes].count("we ship 200 more on Monday") == 1
    other = client.post(url, json={"text": "something else"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]


def test_a_body_over_the_limit_answers_413(
    make_client: Callable[..., TestClient], alliance: Alliance
) -> None:
    small = make_client(ServiceConfig(max_body_bytes=1000))
    response = _upload(small, alliance.headers("a_planner"), "x" * 1001)
    assert response.status_code == 413 and "1,000 bytes" in response.json()["error"]


def _wait(
    client: TestClient, headers: dict[str, str], job_id: str, seconds: float = 120
) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
        if state["state"] in ("succeeded", "failed"):
            return dict(state)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s")


@pytest.mark.slow
def test_a_plan_run_job_runs_end_to_end_while_the_server_answers(
    client: TestClient, alliance: Alliance
) -> None:
    headers = alliance.headers("platform_planner")
    started = client.post(f"{API}/plan-runs", json={"weeks": 2, "network": False}, headers=headers)
    assert (
        started.status_code == 202 and started.headers["Location"] == f"{API}/jobs/{started.json()['job_id']}"
    )
    job_id = started.json()["job_id"]
    answered = [client.get(f"{API}/kpis", headers=alliance.headers("a_viewer")).status_code for _ in range(3)]
    during = client.get(f"{API}/jobs/{job_id}", headers=headers).json()["state"]
    assert answered == [200, 200, 200] and during in ("queued", "running", "succeeded")
    done = _wait(client, headers, job_id)
    assert done["state"] == "succeeded" and done["error"] is None
    result = done["result"]
    assert isinstance(result, dict)
    runs = client.get(f"{API}/plan-runs", headers=headers).json()["items"]
    assert runs[0]["run_id"] == result["run_id"] and runs[0]["weeks"] == 2
    kpis = client.get(f"{API}/kpis", headers=alliance.headers("a_viewer")).json()["items"]
    assert {row["run_id"] for row in kpis} == {result["run_id"]} and {row["partner_id"] for row in kpis} == {
        PARTNER_A
    }


def test_a_failed_job_records_its_error(
    client: TestClient, alliance: Alliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: Store, **settings: object) -> object:
        raise CpfrError("the forecast models could not be fitted")

    monkeypatch.setattr("cpfr.forecast.store_forecast.forecast_store", broken)
    headers = alliance.headers("platform_admin")
    job_id = client.post(f"{API}/forecast-runs", json={"horizon": 7}, headers=headers).json()["job_id"]
    done = _wait(client, headers, job_id, seconds=30)
    assert done["state"] == "failed" and done["error"] == "CpfrError: the forecast models could not be fitted"
    assert done["finished_at"] is not None
    assert client.get(f"{API}/me", headers=headers).status_code == 200


def _quick(store: Store, **settings: object) -> object:
    raise CpfrError("not run in the audit test")


def test_every_successful_write_route_adds_an_audit_row(
    make_client: Callable[..., TestClient], alliance: Alliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write list comes from the OpenAPI route table: every POST, PATCH and DELETE not marked read-only."""
    monkeypatch.setattr("cpfr.collab.cycle.run_cycle", _quick)
    monkeypatch.setattr("cpfr.forecast.store_forecast.forecast_store", _quick)
    client = make_client()
    store = _store(client)
    own = partner_ids(store, PARTNER_A, alliance.user_ids["a_spare"])
    run_id = str(store.read_table("plan_runs")["run_id"].iloc[0])
    shared = {"run_id": run_id, "job_id": "none", "table": "sales"}
    document = client.app.openapi()  # type: ignore[attr-defined]
    writes = [
        route
        for route in routes(document)
        if route.method != "GET"
        and not document["paths"][route.path][route.method.lower()].get("x-read-only")
    ]
    assert len(writes) >= 12
    audited = {}
    for route in writes:
        call = next(calls(route, own, own, shared))
        for caller in ("a_planner", "platform_admin"):
            before = set(store.read_table("audit_log")["audit_id"])
            response = client.request(
                call.method, call.url, params=call.params, json=call.json, content=call.content,
                headers=alliance.headers(caller),
            )  # fmt: skip
            if response.status_code < 300:
                trail = store.read_table("audit_log")
                new = trail[~trail["audit_id"].isin(before)]
                # The partner is the caller's, or for a user added or revoked by the platform, that user's.
                audited[f"{route.method} {route.path}"] = [
                    (row.user_id, row.partner_id, row.action)
                    for row in new.itertuples()
                    if row.user_id == alliance.user_ids[caller] and row.partner_id in (CALLERS[caller][0], PARTNER_A)
                    and row.at and row.detail not in ("", "{}")
                ]  # fmt: skip
                break
        else:
            raise AssertionError(f"no caller could write {route.method} {route.path}: {response.text}")
    assert {name: bool(rows) for name, rows in audited.items()} == {name: True for name in audited}
    assert len(audited) == len(writes)
