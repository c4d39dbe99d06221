"""Shared fixtures: a clean environment, temporary stores (DuckDB, PostgreSQL), a tiny alliance, the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cpfr.cli.main import app
from cpfr.data.demo import DemoScenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import DB_ENV_VAR, Store, open_store
from tests.pg_server import PostgresServer, PostgresUnavailable

BACKENDS = ("duckdb", "postgres")

# The smallest alliance that exercises every reference: two partners, a
# two-level category tree, two SKUs, an online zone, a store and a warehouse.
REFERENCE_FILES: dict[str, str] = {
    "partners": "partner_id,name,name_local\nXIAOMI,Xiaomi,小米\nMIDEA,Midea,美的\n",
    "categories": (
        "category_id,name,parent_id,level\n3C,3C digital,,1\nPHONE,Phones,3C,2\nHA,Home appliances,,1\nAC,Air conditioners,HA,2\n"
    ),
    "agreements": (
        "agreement_id,partner_id,name,start_date,end_date\n"
        "AG-XM,XIAOMI,Xiaomi alliance,2024-01-01,2026-12-31\nAG-MD,MIDEA,Midea alliance,2024-01-01,2026-12-31\n"
    ),
    "targets": (
        "target_id,agreement_id,partner_id,period_start,period_end,metric,value,category_id,channel_kind\n"
        "T-XM,AG-XM,XIAOMI,2024-01-01,2026-12-31,gmv_yuan,100000,,\n"
        "T-MD-ONLINE,AG-MD,MIDEA,2024-01-01,2024-12-31,units,50,HA,platform_online\n"
    ),
    "products": (
        "sku_id,partner_id,name,category_id,list_price,launch_date\n"
        "P1,XIAOMI,Xiaomi 15,PHONE,3999,2023-10-26\nA1,MIDEA,Midea AC 1.5HP,AC,2999,2023-03-01\n"
    ),
    "channels": "channel_id,name,kind,format,partner_id\nJD,JD online,platform_online,,\nMALL,JD MALL,platform_offline,JD MALL,\n",
    "warehouses": "warehouse_id,name,tier,parent_warehouse_id,region,lead_time_days\nRDC-N,Beijing RDC,RDC,,North,7\n",
    "locations": (
        "location_id,name,kind,channel_id,city,region,city_tier,warehouse_id\n"
        "Z-N-1,North tier 1 online,online_zone,JD,,North,1,RDC-N\nS-001,JD MALL Beijing,store,MALL,Beijing,North,1,RDC-N\n"
    ),
}

SALES_HEADER = "date,sku_id,location_id,units,list_price,paid_price\n"
GOOD_SALES = (
    SALES_HEADER
    + "2024-01-01,P1,Z-N-1,3,3999,3799\n2024-01-01,A1,S-001,1,2999,2999\n2024-01-02,P1,Z-N-1,2,3999,3999\n"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests off the user's store: no $CPFR_DB, and a temporary working directory."""
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write text or bytes to a file under the test's directory and return its path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


def load_alliance(store: Store, write_file: Callable[[str, str | bytes], Path]) -> None:
    """Ingest the tiny alliance's reference data and three sales rows into ``store``."""
    for table, content in REFERENCE_FILES.items():
        ingest_file(store, write_file(f"{table}.csv", content), table)
    ingest_file(store, write_file("sales.csv", GOOD_SALES), "sales")


@pytest.fixture
def db_path(tmp_path: Path, write_file: Callable[[str, str | bytes], Path]) -> Path:
    """Return a store file holding the tiny alliance's reference data and three sales rows."""
    path = tmp_path / "alliance.duckdb"
    with open_store(path, mode="create") as store:
        load_alliance(store, write_file)
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """Open the tiny alliance's store."""
    with open_store(db_path) as opened:
        yield opened


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (the Debian package's binaries), removed at its end.

    Without the binaries the PostgreSQL tests are skipped, except in CI (``$CI``) or with
    ``CPFR_REQUIRE_POSTGRES=1``, where they fail: a backend must not go untested unnoticed.
    """
    try:
        server = PostgresServer()
    except PostgresUnavailable as missing:
        if os.environ.get("CI") or os.environ.get("CPFR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{missing}; CI and CPFR_REQUIRE_POSTGRES=1 require the PostgreSQL tests to run")
        pytest.skip(f"{missing} (set CPFR_REQUIRE_POSTGRES=1 to make this an error)")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """Return the URL of a new, empty database owned by the non-superuser role ``cpfr``."""
    return pg_server.create_database()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once per store backend."""
    return str(request.param)


@pytest.fixture
def new_store_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Return where a new store of ``backend`` goes: a DuckDB file, or an empty PostgreSQL database."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "alliance.duckdb")


@pytest.fixture
def any_store(new_store_location: str, write_file: Callable[[str, str | bytes], Path]) -> Iterator[Store]:
    """The tiny alliance's store on each backend in turn."""
    with open_store(new_store_location, mode="create") as store:
        load_alliance(store, write_file)
        yield store


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``cpfr`` with arguments; returns the click result (exit_code, output, stderr)."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def small_demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The small demo scenario (40 SKUs, 30 stores, 18 months) in a DuckDB store (tests add forecast runs only)."""
    from cpfr.data.demo import DemoConfig, generate_scenario

    store = demo_store(generate_scenario(DemoConfig.small()), tmp_path_factory.mktemp("demo"))
    yield store
    store.close()


def demo_store(scenario: DemoScenario, folder: Path) -> Store:
    """Write ``scenario`` into ``folder`` and ingest every table into a new DuckDB store there."""
    from cpfr.data.demo import write_scenario

    paths = write_scenario(scenario, folder)
    store = open_store(folder / "demo.duckdb", mode="create")
    for path in paths:
        if path.parent == folder:
            ingest_file(store, path, path.stem)
    return store


@pytest.fixture(scope="session")
def spark_engine() -> object:
    """One Spark session on ``local[2]`` for the session's Spark tests; its progress lines in ``.lines``.

    Without pyspark or a Java runtime the Spark tests are skipped, except with
    ``CPFR_REQUIRE_SPARK=1`` (``.ci/run``), where they fail: the engine must not go untested unnoticed.
    """
    from cpfr.exceptions import CpfrError
    from cpfr.forecast.spark_engine import SparkEngine

    lines: list[str] = []
    engine = SparkEngine("local[2]", progress=lines.append)
    try:
        import pyspark  # noqa: F401 -- only to tell whether the extra is installed
        from pyspark import cloudpickle

        engine.session  # noqa: B018 -- starts the JVM: fails here without Java
    except (ImportError, CpfrError) as missing:
        if os.environ.get("CPFR_REQUIRE_SPARK") == "1":
            pytest.fail(f"{missing}; CPFR_REQUIRE_SPARK=1 requires the Spark tests to run")
        pytest.skip(f"Spark unavailable: {missing} (set CPFR_REQUIRE_SPARK=1 to make this an error)")
    import tests

    # The tests' own models run in Spark's workers, which cannot import the tests package.
    cloudpickle.register_pickle_by_value(tests)
    engine.lines = lines  # type: ignore[attr-defined]
    return engine
