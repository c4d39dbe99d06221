"""Who may call: keys (401), repeated failures (429), /me, what each role may do (403), users and revocation."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import Result

from cpfr.api.keys import authenticate
from cpfr.data.store import open_store
from cpfr.exceptions import AccessError

from .conftest import CALLERS, PARTNER_A, PARTNER_B, Alliance
from .sweep import partner_ids

API = "/api/v1"


@pytest.fixture
def fresh(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of a new server: its failure counter starts at zero."""
    return make_client()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer cpfr_u000000000000_not-the-secret-of-anyone-at-all"},
        {"Authorization": "Bearer not-a-key"},
    ],
    ids=["none", "empty", "basic", "unknown", "malformed"],
)
def test_a_request_without_a_working_key_gets_401_in_json(
    headers: dict[str, str], make_client: Callable[..., TestClient]
) -> None:
    response = make_client().get(f"{API}/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"error"} and response.json()["error"]


def test_a_wrong_secret_for_a_real_user_gets_401(fresh: TestClient, alliance: Alliance) -> None:
    key = alliance.keys["a_viewer"]
    response = fresh.get(f"{API}/me", headers={"Authorization": f"Bearer {key[:-4]}AAAA"})
    assert response.status_code == 401 and response.json() == {"error": "unknown API key"}


def test_repeated_failures_from_one_client_get_429_with_retry_after(
    fresh: TestClient, alliance: Alliance
) -> None:
    statuses = [
        fresh.get(f"{API}/me", headers={"Authorization": "Bearer wrong"}).status_code for _ in range(10)
    ]
    assert statuses == [401] * 10
    limited = fresh.get(f"{API}/me", headers={"Authorization": "Bearer wrong"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "error" in limited.json()
    # While limited, even a good key waits: a guesser cannot tell a hit from a miss.
    assert fresh.get(f"{API}/me", headers=alliance.headers("a_viewer")).status_code == 429


@pytest.mark.parametrize("caller", ["platform_admin", "platform_planner", "a_planner", "a_viewer"])
def test_me_names_the_caller(client: TestClient, alliance: Alliance, caller: str) -> None:
    partner_id, role = CALLERS[caller]
    me = client.get(f"{API}/me", headers=alliance.headers(caller)).json()
    assert me == {
        "user": caller,
        "user_id": alliance.user_ids[caller],
        "partner_id": partner_id,
        "role": role,
    }


@pytest.fixture(scope="module")
def cell(client: TestClient) -> dict[str, object]:
    """A consensus cell of partner A and one of its exceptions."""
    store = client.app.state.service.store  # type: ignore[attr-defined]
    ids = partner_ids(store, PARTNER_A, "")
    values = ids.values
    return {
        "body": {
            "sku_id": values["sku_id"],
            "channel_id": values["channel_id"],
            "ds": values["ds"],
            "units": 5.0,
            "why": "role check",
        },
        "exception_id": values["exception_id"],
        "sales_csv": ids.sales_csv,
    }


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [("a_viewer", False), ("a_planner", True), ("platform_planner", True)],
)
def test_a_viewer_cannot_upload_comment_or_propose(
    client: TestClient, alliance: Alliance, cell: dict[str, object], caller: str, allowed: bool
) -> None:
    headers = alliance.headers(caller)
    upload = client.post(
        f"{API}/ingest/sales", params={"filename": "s.csv"}, content=str(cell["sales_csv"]), headers=headers
    )
    comment = client.post(
        f"{API}/exceptions/{cell['exception_id']}/comments", json={"text": "seen"}, headers=headers
    )
    statuses = [upload.status_code, comment.status_code]
    assert statuses == ([200, 201] if allowed else [403, 403])
    if not allowed:
        assert "may not" in upload.json()["error"]


def test_only_a_partners_planner_proposes(
    client: TestClient, alliance: Alliance, cell: dict[str, object]
) -> None:
    statuses = {
        caller: client.post(
            f"{API}/consensus/proposals", json=cell["body"], headers=alliance.headers(caller)
        ).status_code
        for caller in ("a_viewer", "a_planner", "platform_planner")
    }
    assert statuses == {"a_viewer": 403, "a_planner": 201, "platform_planner": 403}


def test_only_the_platform_overrides_consensus(
    client: TestClient, alliance: Alliance, cell: dict[str, object]
) -> None:
    statuses = {
        caller: client.post(
            f"{API}/consensus/overrides", json=cell["body"], headers=alliance.headers(caller)
        ).status_code
        for caller in ("a_viewer", "a_planner", "platform_planner", "platform_admin")
    }
    assert statuses == {"a_viewer": 403, "a_planner": 403, "platform_planner": 201, "platform_admin": 201}
    trail = client.get(f"{API}/consensus/overrides", headers=alliance.headers("a_viewer")).json()["items"]
    assert {row["who"] for row in trail} == {
        alliance.user_ids["platform_planner"],
        alliance.user_ids["platform_admin"],
    }


def test_only_a_platform_admin_manages_users(client: TestClient, alliance: Alliance) -> None:
    body = {"partner_id": PARTNER_A, "role": "partner_viewer", "name": "new viewer"}
    for caller in ("platform_planner", "a_planner", "a_viewer"):
        headers = alliance.headers(caller)
        assert client.get(f"{API}/users", headers=headers).status_code == 403
        assert client.post(f"{API}/users", json=body, headers=headers).status_code == 403
        assert (
            client.delete(f"{API}/users/{alliance.user_ids['a_spare']}", headers=headers).status_code == 403
        )
    created = client.post(f"{API}/users", json=body, headers=alliance.headers("platform_admin"))
    assert created.status_code == 201
    key = created.json()["api_key"]
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["partner_id"] == PARTNER_A and me["role"] == "partner_viewer"
    listed = client.get(f"{API}/users", headers=alliance.headers("platform_admin")).json()["items"]
    assert created.json()["user_id"] in {row["user_id"] for row in listed}
    assert all("key_hash" not in row and "api_key" not in row for row in listed)


def test_a_revoked_key_gets_401_at_once(fresh: TestClient, alliance: Alliance) -> None:
    created = fresh.post(
        f"{API}/users",
        json={"partner_id": PARTNER_B, "role": "partner_planner"},
        headers=alliance.headers("platform_admin"),
    ).json()
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    assert fresh.get(f"{API}/me", headers=headers).status_code == 200  # now in the key cache
    revoked = fresh.delete(f"{API}/users/{created['user_id']}", headers=alliance.headers("platform_admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    refused = fresh.get(f"{API}/me", headers=headers)
    assert refused.status_code == 401 and refused.json() == {"error": "revoked API key"}


def test_an_admin_cannot_revoke_its_own_key(client: TestClient, alliance: Alliance) -> None:
    own = alliance.user_ids["platform_admin"]
    response = client.delete(f"{API}/users/{own}", headers=alliance.headers("platform_admin"))
    assert response.status_code == 403


def test_cpfr_users_add_prints_the_key_alone_and_stores_only_its_scrypt_hash(
    cli: Callable[..., Result], alliance: Alliance, tmp_path: Path
) -> None:
    db = tmp_path / "users.duckdb"
    shutil.copyfile(alliance.path, db)
    result = cli(
        "users", "add", "--role", "partner_planner", "--partner", PARTNER_A, "--name", "Li Lei", "--db", db
    )
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    key = lines[-1]
    assert key.startswith("cpfr_") and " " not in key and len(key) > 40
    assert key not in "\n".join(lines[:-1])
    secret = key.split("_", 2)[2]
    with open_store(db, mode="read") as store:
        users = store.read_table("users")
        row = users[users["name"] == "Li Lei"].iloc[0]
        assert row["key_hash"].startswith("$scrypt$16384$8$1$")
        assert (
            not users.astype(str).apply(lambda column: column.str.contains(secret, regex=False)).any().any()
        )
        assert authenticate(store, key).partner_id == PARTNER_A
    assert secret.encode() not in db.read_bytes() and key.encode() not in db.read_bytes()
    listed = cli("users", "list", "--db", db)
    assert "Li Lei" in listed.stdout and secret not in listed.stdout
    revoked = cli("users", "revoke", str(row["user_id"]), "--db", db)
    assert revoked.exit_code == 0
    with open_store(db, mode="read") as store, pytest.raises(AccessError, match="revoked"):
        authenticate(store, key)
