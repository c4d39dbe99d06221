"""Many planners at once on one DuckDB store: writes serialised, reads side by side, no lock error."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from cpfr.api.keys import add_user
from cpfr.data.store import open_store
from tests.api.server import running_server
from tests.conftest import SALES_HEADER, load_alliance


def test_a_dozen_clients_writing_and_reading_at_once_never_see_a_lock_error(db_path: Path) -> None:
    store = open_store(db_path)
    _, platform = add_user(store, partner_id=None, role="platform_planner")
    _, xiaomi = add_user(store, partner_id="XIAOMI", role="partner_planner")
    days = [f"2024-02-{day:02d}" for day in range(1, 25)]

    with running_server(store) as url:

        def upload(day: str) -> int:
            body = (SALES_HEADER + f"{day},P1,Z-N-1,1,3999,3999\n").encode()
            key = xiaomi if day.endswith(("1", "3", "5", "7", "9")) else platform
            response = httpx.post(
                f"{url}/api/v1/ingest/sales",
                params={"filename": f"sales-{day}.csv"},
                content=body,
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
            return response.status_code

        def read(index: int) -> int:
            key = xiaomi if index % 2 else platform
            response = httpx.get(
                f"{url}/api/v1/sales", params={"page_size": 50}, headers={"Authorization": f"Bearer {key}"}
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            writes = pool.map(upload, days)
            reads = pool.map(read, range(48))
            statuses = [*writes, *reads]
    assert statuses == [200] * len(statuses)
    with open_store(db_path, mode="read") as reopened:
        assert reopened.count_rows("sales", where={"sku_id": "P1"}, start=None) == 2 + len(days)
        audit = reopened.read_table("audit_log", where={"action": "ingest"})
        assert len(audit) == len(days)
        assert set(audit["partner_id"].fillna("platform")) == {"XIAOMI", "platform"}


def test_two_servers_share_one_postgresql_store(
    pg_url: str, write_file: Callable[[str, str | bytes], Path]
) -> None:
    """On PostgreSQL several servers serve one database: a write through one is read through the other."""
    with open_store(pg_url, mode="create") as setup:
        load_alliance(setup, write_file)
        _, platform = add_user(setup, partner_id=None, role="platform_planner")
        _, midea = add_user(setup, partner_id="MIDEA", role="partner_viewer")
    headers = {"Authorization": f"Bearer {platform}"}
    with running_server(open_store(pg_url)) as first, running_server(open_store(pg_url)) as second:
        body = (SALES_HEADER + "2024-03-01,A1,S-001,5,2999,2999\n").encode()
        sent = httpx.post(
            f"{first}/api/v1/ingest/sales", params={"filename": "s.csv"}, content=body, headers=headers
        )
        assert sent.status_code == 200, sent.text
        seen = httpx.get(f"{second}/api/v1/sales", params={"sku_id": "A1"}, headers=headers).json()
        assert {row["date"] for row in seen["items"]} == {"2024-01-01", "2024-03-01"}
        own = httpx.get(f"{second}/api/v1/sales", headers={"Authorization": f"Bearer {midea}"}).json()
        assert {row["partner_id"] for row in own["items"]} == {"MIDEA"} and own["total"] == 2
