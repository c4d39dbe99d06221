"""Trade-in effects and the subsidy budget over the API: each side sees the effects on its own SKUs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Alliance

API = "/api/v1"


def test_platform_and_partner_read_subsidy_effects_of_their_own_skus(
    client: TestClient, alliance: Alliance
) -> None:
    platform = client.get(f"{API}/tradein/uplift", headers=alliance.headers("platform_planner"))
    assert platform.status_code == 200, platform.text
    rows = {row["category_id"]: row for row in platform.json()["items"]}
    assert {"PHONE", "TV", "AC"} <= set(rows)
    assert not {"LAPTOP", "TOILET", "SHOWER"} & set(rows)  # never subsidised
    phone = rows["PHONE"]
    assert phone["uplift_low"] <= phone["uplift"] <= phone["uplift_high"]
    assert 0.0 < phone["uplift"] < 1.0
    mine = client.get(f"{API}/tradein/uplift", headers=alliance.headers("a_viewer")).json()["items"]
    # Xiaomi's estimate is made on Xiaomi's SKUs only: never more SKUs than the whole market's.
    for row in mine:
        assert row["n_eligible_skus"] <= rows[row["category_id"]]["n_eligible_skus"]
    assert sum(row["n_eligible_skus"] for row in mine) < sum(row["n_eligible_skus"] for row in rows.values())


def test_budget_split_beats_pro_rata_and_stays_in_the_callers_categories(
    client: TestClient, alliance: Alliance
) -> None:
    answer = client.get(
        f"{API}/tradein/allocation",
        params={"budget": 5_000_000, "objective": "gmv", "months": 6},
        headers=alliance.headers("a_planner"),
    )
    assert answer.status_code == 200, answer.text
    split = answer.json()
    assert split["spend"] == pytest.approx(5_000_000, rel=1e-6)
    assert split["incremental_gmv"] >= split["pro_rata_incremental_gmv"]
    mine = {
        row["category_id"]
        for row in client.get(f"{API}/tradein/uplift", headers=alliance.headers("a_planner")).json()["items"]
    }
    assert {row["category_id"] for row in split["categories"]} <= mine
    curves = split["curves"]
    assert curves and all(point["marginal_return"] >= 0 for point in curves)
    refused = client.get(
        f"{API}/tradein/allocation", params={"budget": -1}, headers=alliance.headers("a_planner")
    )
    assert refused.status_code == 422


def test_a_brand_forecasts_its_own_new_product_and_not_another_brands(
    client: TestClient, alliance: Alliance
) -> None:
    spec = {
        "partner_id": "XIAOMI",
        "category_id": "PHONE",
        "list_price": 2999.0,
        "attributes": {"storage_gb": 256},
        "launch_date": "2025-05-01",
        "channels": ["JD_ONLINE"],
        "horizon": 30,
    }
    answer = client.post(f"{API}/launch/forecast", json=spec, headers=alliance.headers("a_viewer"))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["q0.05"] <= result["q0.5"] <= result["q0.95"] and result["units"] > 0
    assert len(result["daily"]) == 30 and result["as_of"] == "2025-05-01"
    other = client.post(
        f"{API}/launch/forecast", json={**spec, "partner_id": "MIDEA"}, headers=alliance.headers("a_viewer")
    )
    assert other.status_code == 404
    bad = client.post(
        f"{API}/launch/forecast", json={**spec, "list_price": -1}, headers=alliance.headers("a_viewer")
    )
    assert bad.status_code == 422
