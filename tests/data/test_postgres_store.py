"""What only the PostgreSQL backend does: row-level security per partner, sessions, server errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors

from cpfr.data import schema
from cpfr.data.ingest import ingest_file
from cpfr.data.store import Store, open_store
from cpfr.data.store.postgres_schema import POLICY
from cpfr.data.store.postgres_store import PostgresStore
from cpfr.exceptions import NotAStoreError, ReadOnlyStoreError, StoreBusyError, ValidationError
from tests.conftest import SALES_HEADER, load_alliance
from tests.pg_server import PostgresServer

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture
def pg_store(pg_url: str, write_file: WriteFile) -> PostgresStore:
    """The tiny alliance in a PostgreSQL database (closed by the test's ``with``)."""
    store = open_store(pg_url, mode="create")
    assert isinstance(store, PostgresStore)
    load_alliance(store, write_file)
    return store


def _raw(store: Store) -> psycopg.Connection:
    connection = store._con  # type: ignore[attr-defined]
    assert isinstance(connection, psycopg.Connection)
    return connection


def test_the_test_role_is_not_a_superuser(pg_store: PostgresStore) -> None:
    with pg_store:
        row = _raw(pg_store).execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert row.fetchone() == (False, False)  # else row-level security would prove nothing


def test_every_partner_table_has_a_forced_policy(pg_store: PostgresStore) -> None:
    with pg_store:
        rows = (
            _raw(pg_store)
            .execute(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.policyname)"
                " FROM pg_class c LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s"
                " WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
                " GROUP BY 1, 2, 3",
                [POLICY],
            )
            .fetchall()
        )
    protected = {name for name, enabled, forced, policies in rows if enabled and forced and policies == 1}
    partner_tables = {spec.name for spec in schema.TABLES if "partner_id" in {c.name for c in spec.columns}}
    assert partner_tables == {spec.name for spec in schema.TABLES}  # the ownership rule of the schema
    assert protected == partner_tables


def test_a_partner_session_sees_no_other_partners_rows_even_through_raw_sql(pg_store: PostgresStore) -> None:
    with pg_store, pg_store.session(partner_id="MIDEA") as midea:
        con = _raw(midea)
        assert con.execute("SELECT count(*) FROM sales WHERE partner_id = 'XIAOMI'").fetchone() == (0,)
        assert con.execute("SELECT DISTINCT sku_id FROM sales").fetchall() == [("A1",)]
        assert set(midea.read_table("products")["sku_id"]) == {"A1"}  # no Python filter asked for
        assert set(midea.read_table("channels")["channel_id"]) == {"JD", "MALL"}  # shared rows stay
        # The platform's own connection still sees everything.
        assert set(pg_store.read_table("products")["sku_id"]) == {"A1", "P1"}


def test_a_partner_session_cannot_write_another_partners_rows(
    pg_store: PostgresStore, write_file: WriteFile
) -> None:
    with pg_store, pg_store.session(partner_id="MIDEA") as midea:
        con = _raw(midea)
        with pytest.raises(pg_errors.InsufficientPrivilege, match="row-level security"):
            con.execute(
                "INSERT INTO sales (date, sku_id, location_id, partner_id, units)"
                " VALUES ('2024-02-01', 'P1', 'Z-N-1', 'XIAOMI', 1)"
            )
        assert con.execute("UPDATE sales SET units = 0 WHERE sku_id = 'P1'").rowcount == 0
        assert con.execute("DELETE FROM products WHERE sku_id = 'P1'").rowcount == 0
        # Through cpfr, Xiaomi's SKU does not exist for Midea's session.
        with pytest.raises(ValidationError, match="a sku_id that exists in products"):
            ingest_file(
                midea, write_file("xiaomi.csv", SALES_HEADER + "2024-02-01,P1,Z-N-1,1,3999,3999\n"), "sales"
            )
        assert len(pg_store.read_table("sales")) == 3


def test_sessions_are_separate_connections(pg_store: PostgresStore, write_file: WriteFile) -> None:
    with pg_store, pg_store.session() as other:
        assert _raw(other) is not _raw(pg_store)
        ingest_file(
            other, write_file("more.csv", SALES_HEADER + "2024-01-09,A1,S-001,4,2999,2999\n"), "sales"
        )
        assert len(pg_store.read_table("sales")) == 4


def test_a_writer_waits_for_another_writer_of_the_same_table_then_gives_up(
    pg_store: PostgresStore, pg_url: str, write_file: WriteFile
) -> None:
    path = write_file("more.csv", SALES_HEADER + "2024-01-09,A1,S-001,4,2999,2999\n")
    with pg_store, PostgresStore(pg_url, wait_seconds=0.2) as impatient:
        con = _raw(pg_store)
        with con.transaction():
            con.execute("LOCK TABLE sales IN SHARE ROW EXCLUSIVE MODE")
            with pytest.raises(StoreBusyError, match="nothing was written"):
                ingest_file(impatient, path, "sales")
            assert len(impatient.read_table("sales")) == 3  # readers are not blocked
        assert ingest_file(impatient, path, "sales").inserted == 1


def test_a_read_only_store_refuses_writes(
    pg_store: PostgresStore, pg_url: str, write_file: WriteFile
) -> None:
    pg_store.close()
    with open_store(pg_url, mode="read") as reader:
        assert len(reader.read_table("sales")) == 3
        with pytest.raises(ReadOnlyStoreError):
            ingest_file(
                reader, write_file("more.csv", SALES_HEADER + "2024-01-09,A1,S-001,4,2999,2999\n"), "sales"
            )


def test_another_applications_database_is_refused(pg_server: PostgresServer) -> None:
    url = pg_server.create_database()
    with pytest.raises(NotAStoreError, match="empty PostgreSQL database"):
        open_store(url)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE invoices (id integer)")
    with pytest.raises(NotAStoreError, match="other tables: invoices"):
        open_store(url, mode="create")
