"""An alliance store with a plan run and users of every role, built once and copied per test module.

The template is the small demo scenario (five brands) planned once with the network orders
(about 25 s); each module gets its own copy, so a module's writes never reach another's.
Partner A (Xiaomi) is the caller's side in the isolation tests, partner B (Midea) the other.

Backends: ``BACKENDS`` lists the stores the API tests run against (DuckDB); the isolation sweep
runs on PostgreSQL too (its module overrides ``backend``): :func:`open_copy` then loads the
template's tables into a fresh database of the session's PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cpfr.api.app import create_app
from cpfr.api.keys import add_user
from cpfr.api.service import ServiceConfig
from cpfr.collab.cycle import run_cycle
from cpfr.data import schema
from cpfr.data.demo import DemoConfig, generate_scenario
from cpfr.data.store import Store, open_store

from ..conftest import demo_store

PARTNER_A = "XIAOMI"
PARTNER_B = "MIDEA"
PLAN_TIME = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
BACKENDS = ["duckdb"]
# The callers: a label for each, its side (None: the platform) and its role.
CALLERS: dict[str, tuple[str | None, str]] = {
    "platform_admin": (None, "platform_admin"),
    "platform_planner": (None, "platform_planner"),
    "a_planner": (PARTNER_A, "partner_planner"),
    "a_viewer": (PARTNER_A, "partner_viewer"),
    "b_planner": (PARTNER_B, "partner_planner"),
    "b_viewer": (PARTNER_B, "partner_viewer"),
    # Users that tests may revoke, one per side, never used to call.
    "a_spare": (PARTNER_A, "partner_viewer"),
    "b_spare": (PARTNER_B, "partner_viewer"),
}


@dataclass(frozen=True)
class Alliance:
    """The template store file and the users in it (label -> API key and user id)."""

    path: Path
    keys: dict[str, str]
    user_ids: dict[str, str]

    def headers(self, caller: str) -> dict[str, str]:
        """Return the Authorization header of ``caller``."""
        return {"Authorization": f"Bearer {self.keys[caller]}"}


@pytest.fixture(scope="session")
def alliance(tmp_path_factory: pytest.TempPathFactory) -> Alliance:
    folder = tmp_path_factory.mktemp("api-template")
    store = demo_store(generate_scenario(DemoConfig.small()), folder)
    try:
        run_cycle(
            store,
            weeks=4,
            network=True,
            models=["pooled_seasonal"],
            network_models=["window_average"],
            now=PLAN_TIME,
        )
        keys, user_ids = {}, {}
        for label, (partner_id, role) in CALLERS.items():
            principal, key = add_user(store, partner_id=partner_id, role=role, name=label)
            keys[label], user_ids[label] = key, principal.user_id
    finally:
        store.close()
    return Alliance(folder / "demo.duckdb", keys, user_ids)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_copy(backend: str, alliance: Alliance, folder: Path, request: pytest.FixtureRequest) -> Store:
    """Open a fresh copy of the template store on ``backend`` (``duckdb`` or ``postgres``)."""
    copy = folder / "alliance.duckdb"
    shutil.copyfile(alliance.path, copy)
    if backend == "duckdb":
        return open_store(copy)
    if backend != "postgres":
        raise ValueError(f"no API test backend {backend!r}")
    target = open_store(request.getfixturevalue("pg_server").create_database(), mode="create")
    with open_store(copy, mode="read") as template:
        frames = {spec.name: template.read_table(spec.name) for spec in schema.TABLES}
    target.write_tables({name: frame for name, frame in frames.items() if not frame.empty})
    return target


@pytest.fixture(scope="module")
def make_client(
    backend: str,
    alliance: Alliance,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., TestClient]]:
    """Return a factory of test clients, each over its own copy of the template store."""
    opened: list[TestClient] = []

    def make(config: ServiceConfig | None = None) -> TestClient:
        store = open_copy(backend, alliance, tmp_path_factory.mktemp("api"), request)
        client = TestClient(create_app(store, config))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A test client over the module's copy of the template store."""
    return make_client()
