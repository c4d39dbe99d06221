"""A hot launch split as a background job: the partner's planner allocates its own launch, nobody else's."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api.conftest import PARTNER_A, Alliance

API = "/api/v1"


def _launch_of(client: TestClient, alliance: Alliance, partner: str) -> str:
    """Return the SKU of the partner's latest launch (an event of kind 'launch')."""
    caller = "a_planner" if partner == PARTNER_A else "b_planner"
    events = client.get(f"{API}/events", headers=alliance.headers(caller)).json()["items"]
    launches = sorted((row for row in events if row["kind"] == "launch"), key=lambda row: row["start_date"])
    owned = {
        row["sku_id"]
        for row in client.get(f"{API}/products?page_size=1000", headers=alliance.headers(caller)).json()[
            "items"
        ]
    }
    skus = [row["event_id"].removeprefix("LAUNCH-") for row in launches]
    return [sku for sku in skus if sku in owned][-1]


def test_a_partner_planner_splits_its_launch_and_reads_the_result(
    client: TestClient, alliance: Alliance
) -> None:
    sku = _launch_of(client, alliance, PARTNER_A)
    started = client.post(
        f"{API}/allocations", json={"sku_id": sku, "quantity": 120}, headers=alliance.headers("a_planner")
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(f"{API}/jobs/{job_id}", headers=alliance.headers("a_planner")).json()
        if state["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert state["state"] == "succeeded", state
    result = state["result"]
    assert result["sku_id"] == sku and result["quantity"] == 120
    assert sum(row["units"] for row in result["by_tier"]) <= 120
    assert sum(row["units"] for row in result["by_channel"]) == sum(row["units"] for row in result["by_tier"])
    assert all(0 <= row["fill_rate"] <= 1 for row in result["by_tier"])
    hidden = client.get(f"{API}/jobs/{job_id}", headers=alliance.headers("b_planner"))
    assert hidden.status_code == 404


def test_another_partners_sku_is_not_found_and_a_viewer_may_not_allocate(
    client: TestClient, alliance: Alliance
) -> None:
    sku = _launch_of(client, alliance, PARTNER_A)
    other = client.post(
        f"{API}/allocations", json={"sku_id": sku, "quantity": 10}, headers=alliance.headers("b_planner")
    )
    assert other.status_code == 404
    viewer = client.post(
        f"{API}/allocations", json={"sku_id": sku, "quantity": 10}, headers=alliance.headers("a_viewer")
    )
    assert viewer.status_code == 403
    extra = client.post(
        f"{API}/allocations",
        json={"sku_id": sku, "quantity": 10, "store": "x"},
        headers=alliance.headers("a_planner"),
    )
    assert extra.status_code == 422  # unknown fields are refused
