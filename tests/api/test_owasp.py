"""The OWASP API Security Top 10 (2023), item by item, against the cpfr service.

Reference: OWASP Foundation, "OWASP API Security Top 10 — 2023", https://owasp.org/API-Security/.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cpfr.api.service import ServiceConfig
from cpfr.data.store import Store

from .conftest import PARTNER_A, PARTNER_B, Alliance
from .sweep import partner_ids

API = "/api/v1"


def _store(client: TestClient) -> Store:
    return client.app.state.service.store  # type: ignore[attr-defined,no-any-return]


def test_api1_broken_object_level_authorisation(client: TestClient, alliance: Alliance) -> None:
    """API1 Broken Object Level Authorization: B's objects answer A's users 404, as if absent.

    Every route is swept in test_isolation_sweep.py; this is the direct check on one of each kind.
    """
    other = partner_ids(_store(client), PARTNER_B, alliance.user_ids["b_spare"]).values
    headers = alliance.headers("a_planner")
    for path in (
        f"/partners/{PARTNER_B}",
        f"/products/{other['sku_id']}",
        f"/targets/{other['target_id']}",
        f"/exceptions/{other['exception_id']}",
    ):
        assert client.get(API + path, headers=headers).status_code == 404, path
    edit = client.patch(f"{API}/network-orders/{other['order_id']}", json={"quantity": 1}, headers=headers)
    assert edit.status_code == 404
    assert (
        client.get(f"{API}/products/NO-SUCH-SKU", headers=headers).json()["error"]
        == "SKU 'NO-SUCH-SKU' not found"
    )


def test_api2_broken_authentication(make_client: Callable[..., TestClient], alliance: Alliance) -> None:
    """API2 Broken Authentication: no key, a guessed key or a revoked key is refused; guessing is throttled."""
    client = make_client()
    assert client.get(f"{API}/me").status_code == 401
    guessed = alliance.keys["a_viewer"][:-6] + "AAAAAA"
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {guessed}"}).status_code == 401
    statuses = {client.get(f"{API}/me", headers={"Authorization": "Bearer x"}).status_code for _ in range(12)}
    assert 429 in statuses


def test_api3_broken_object_property_level_authorisation(client: TestClient, alliance: Alliance) -> None:
    """API3 Broken Object Property Level Authorization: unknown fields are refused (no mass assignment); no key hash leaves."""
    admin = alliance.headers("platform_admin")
    exception_id = partner_ids(_store(client), PARTNER_A, "").values["exception_id"]
    for url, body in (
        (f"{API}/users", {"role": "platform_admin", "key_hash": "$scrypt$1$1$1$AA$AA"}),
        (f"{API}/exceptions/{exception_id}/comments", {"text": "ok", "user_id": "someone-else"}),
        (f"{API}/plan-runs", {"weeks": 1, "partner_id": PARTNER_B}),
    ):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 422, url
        assert response.json()["problems"][0]["expected"] == "Extra inputs are not permitted"
    for url in ("/users", "/me", "/audit", "/jobs"):
        assert "key_hash" not in client.get(API + url, headers=admin).text
        assert "$scrypt$" not in client.get(API + url, headers=admin).text


def test_api4_unrestricted_resource_consumption(
    make_client: Callable[..., TestClient], client: TestClient, alliance: Alliance
) -> None:
    """API4 Unrestricted Resource Consumption: pages of at most 1,000 rows, a body cap (413), throttled failures."""
    headers = alliance.headers("a_viewer")
    for route in ("/sales", "/consensus", "/exceptions", "/products", "/network-orders", "/audit"):
        assert client.get(f"{API}{route}?page_size=1001", headers=headers).status_code == 422, route
        assert client.get(f"{API}{route}?page_size=1000", headers=headers).status_code == 200, route
    capped = make_client(ServiceConfig(max_body_bytes=100))
    response = capped.post(
        f"{API}/ingest/sales",
        params={"filename": "a.csv"},
        content=b"x" * 101,
        headers=alliance.headers("a_planner"),
    )
    assert response.status_code == 413
    lying = capped.post(
        f"{API}/ingest/sales",
        params={"filename": "a.csv"},
        content=b"x" * 10,
        headers={**alliance.headers("a_planner"), "Content-Length": "999999999"},
    )
    assert lying.status_code == 413


def test_api5_broken_function_level_authorisation(client: TestClient, alliance: Alliance) -> None:
    """API5 Broken Function Level Authorization: each role reaches only its functions (403 otherwise)."""
    assert client.get(f"{API}/users", headers=alliance.headers("platform_planner")).status_code == 403
    assert client.post(f"{API}/plan-runs", json={}, headers=alliance.headers("a_planner")).status_code == 403
    assert (
        client.post(f"{API}/forecast-runs", json={}, headers=alliance.headers("a_viewer")).status_code == 403
    )
    body = {"partner_id": PARTNER_A, "role": "partner_planner"}
    assert client.post(f"{API}/users", json=body, headers=alliance.headers("a_planner")).status_code == 403
    upload = client.post(
        f"{API}/ingest/products",
        params={"filename": "p.csv"},
        content=b"sku_id,partner_id,name,category_id,list_price\nX1,XIAOMI,x,PHONE,1\n",
        headers=alliance.headers("a_planner"),
    )
    assert upload.status_code == 403, upload.text  # a brand loads only its own facts, never reference tables


def test_api6_unrestricted_access_to_sensitive_business_flows(client: TestClient, alliance: Alliance) -> None:
    """API6 Unrestricted Access to Sensitive Business Flows: an order release sent twice is done once.

    A retried release (Idempotency-Key) replays the first answer; a second release is refused.
    """
    order_id = partner_ids(_store(client), PARTNER_A, "").values["order_id"]
    headers = {**alliance.headers("a_planner"), "Idempotency-Key": "release-1"}
    url = f"{API}/network-orders/{order_id}"
    first = client.patch(url, json={"released": True}, headers=headers)
    retried = client.patch(url, json={"released": True}, headers=headers)
    assert (
        first.status_code == retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"
    )
    again = client.patch(url, json={"released": True}, headers=alliance.headers("a_planner"))
    assert again.status_code == 400 and "released already" in again.json()["error"]


def test_api7_server_side_request_forgery(client: TestClient) -> None:
    """API7 Server Side Request Forgery: no route takes a URL to fetch (no parameter or field named url/uri/link)."""
    document = client.get("/openapi.json").json()
    names = [
        p["name"]
        for ops in document["paths"].values()
        for op in ops.values()
        for p in op.get("parameters", [])
    ]
    names += [
        field
        for schema in document["components"]["schemas"].values()
        for field in schema.get("properties", {})
    ]
    assert [
        name for name in names if re.search(r"ur[il]|link|href|callback|webhook", name, re.IGNORECASE)
    ] == []


def test_api8_security_misconfiguration(
    make_client: Callable[..., TestClient], client: TestClient, alliance: Alliance
) -> None:
    """API8 Security Misconfiguration: security headers on every answer; CORS off unless configured."""
    for response in (
        client.get(f"{API}/me", headers=alliance.headers("a_viewer")),
        client.get(f"{API}/me"),
        client.get("/docs"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "server" not in {name.lower() for name in response.headers}
    foreign = {"Origin": "https://evil.example", **alliance.headers("a_viewer")}
    assert "access-control-allow-origin" not in client.get(f"{API}/me", headers=foreign).headers
    allowed = make_client(ServiceConfig(cors_origins=("https://planner.jd.example",)))
    own = {"Origin": "https://planner.jd.example", **alliance.headers("a_viewer")}
    assert (
        allowed.get(f"{API}/me", headers=own).headers["access-control-allow-origin"]
        == "https://planner.jd.example"
    )
    assert "access-control-allow-origin" not in allowed.get(f"{API}/me", headers=foreign).headers


def test_api9_improper_inventory_management(client: TestClient) -> None:
    """API9 Improper Inventory Management: every route is documented under /api/v1; /docs needs no network."""
    document = client.get("/openapi.json").json()
    assert document["paths"] and all(path.startswith(f"{API}/") for path in document["paths"])
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    from cpfr.api import routes_insight, routes_read, routes_write

    served = {
        (API + route.path, method)
        for router in (routes_read.router, routes_write.router, routes_insight.router)
        for route in router.routes
        for method in route.methods  # type: ignore[attr-defined]
    }
    others = {getattr(route, "path", None) for route in client.app.routes} - {None}  # type: ignore[attr-defined]
    assert others == {
        "/openapi.json",
        "/docs",
        "/",
        "/static",
    }  # undocumented only: the schema, docs, dashboard
    assert served == documented
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(
        r"url: ?'([^']+)'", page.text
    )
    assert assets and all(asset.startswith(("/static/", "/openapi.json")) for asset in assets), assets
    assert "http://" not in page.text and "https://" not in page.text.replace("https://swagger", "")
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_api10_unsafe_consumption_hostile_file_names(client: TestClient, alliance: Alliance) -> None:
    """API10 Unsafe Consumption of APIs: a hostile upload file name never reaches the file system."""
    headers = alliance.headers("a_planner")
    for name in ("../../etc/passwd.csv", "..\\..\\x.csv", "/etc/passwd.csv", "a\x00.csv", "x.exe", ""):
        response = client.post(
            f"{API}/ingest/sales", params={"filename": name}, content=b"date\n", headers=headers
        )
        assert response.status_code == 422, name


def test_api10_formula_cells_in_csv_downloads_are_neutralised(client: TestClient, alliance: Alliance) -> None:
    """API10 Unsafe Consumption of APIs: a cell a spreadsheet would run (=, +, -, @) is exported with a leading '."""
    admin = alliance.headers("platform_admin")
    store = _store(client)
    place = (
        store.read_table("locations").iloc[[0]].assign(location_id="ST9999", name='=HYPERLINK("http://x")')
    )
    loaded = client.post(
        f"{API}/ingest/locations",
        params={"filename": "l.csv"},
        content=place.to_csv(index=False),
        headers=admin,
    )
    assert loaded.status_code == 200, loaded.text
    sku = partner_ids(store, PARTNER_A, "").values["sku_id"]
    sale = f"date,sku_id,location_id,units\n2025-06-01,{sku},ST9999,-3\n2025-06-02,{sku},ST9999,@SUM(A1)\n"
    refused = client.post(f"{API}/ingest/sales", params={"filename": "s.csv"}, content=sale, headers=admin)
    assert refused.status_code == 422  # a formula is no number of units
    names = client.get(
        f"{API}/sales",
        params={"format": "csv", "sku_id": sku, "start": "2025-06-01", "end": "2025-06-01"},
        headers=admin,
    )
    assert names.status_code == 200 and "\n=" not in names.text and ",=" not in names.text


@pytest.mark.parametrize(
    "hostile",
    [
        "' OR 1=1 --",
        "x%00y",
        "%00",
        "A" * 5000,
        "../../etc/passwd",
        "SKU00001' --",
        '"; DROP TABLE sales; --',
    ],
)
def test_injection_in_ids_answers_404_or_422_never_500_never_other_rows(
    client: TestClient, alliance: Alliance, hostile: str
) -> None:
    """API8/API10, injection: hostile ids in a path or query are data, never SQL; no 500, no rows."""
    headers = alliance.headers("a_planner")
    for path in (
        "/products/{}",
        "/targets/{}",
        "/exceptions/{}",
        "/partners/{}",
        "/jobs/{}",
        "/plan-runs/{}",
    ):
        response = client.get(API + path.format(hostile.replace("/", "%2F")), headers=headers)
        assert response.status_code in (404, 422), (path, response.status_code)
    for route in ("/sales", "/consensus", "/network-orders", "/exceptions", "/inventory"):
        response = client.get(f"{API}{route}", params={"sku_id": hostile}, headers=headers)
        assert response.status_code in (404, 422) or response.json()["items"] == [], (
            route,
            response.status_code,
        )
    assert client.get(f"{API}/products", headers=headers).json()["total"] > 0  # the table is still there
