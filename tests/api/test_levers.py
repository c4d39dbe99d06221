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
