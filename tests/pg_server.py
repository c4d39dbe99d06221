"""A throwaway PostgreSQL server for the tests and the store benchmark.

It runs the Debian ``postgresql`` package's binaries (``initdb``, ``pg_ctl``)
on a cluster in a temporary folder, listening on a free loopback port only.
initdb refuses to run as root, so as root the cluster belongs to the
``postgres`` OS user the package creates.

The application connects as ``cpfr``, a role that owns its databases but is
NOT a superuser: superusers (and roles with BYPASSRLS) skip row-level
security, so tests connected as one would prove nothing about it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

APP_ROLE = "cpfr"
_SUPERUSER = "postgres"
# Settings of a disposable test server: durability buys nothing when the cluster is deleted after
# the session, and costs an fsync per commit (the benchmark keeps the defaults).
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed (``apt-get install postgresql``)."""


def find_bin_dir() -> Path:
    """Return the folder of ``initdb`` and ``pg_ctl``: the newest Debian package's, else the PATH's.

    Raises
    ------
    PostgresUnavailable
        Neither is installed.
    """
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, started by :meth:`start`, removed by :meth:`stop`.

    Parameters
    ----------
    durable : bool
        Keep PostgreSQL's durability defaults (fsync on commit); False for tests.
    """

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin_dir = find_bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="cpfr-pg-"))
        self.port = _free_port()
        self.app_password = secrets.token_hex(12)
        self._super_password = secrets.token_hex(12)
        self._as_postgres = os.geteuid() == 0
        self._databases = 0

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", _SUPERUSER, "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        """Create the cluster, start the server and create the ``cpfr`` role and database; return self."""
        password_file = self.folder / "superuser-password"
        password_file.write_text(self._super_password + "\n")
        if self._as_postgres:
            shutil.chown(self.folder, _SUPERUSER)
            shutil.chown(password_file, _SUPERUSER)
        initdb = str(self.bin_dir / "initdb")
        self._run(
            initdb,
            "-D",
            str(self.data_dir),
            "-U",
            _SUPERUSER,
            f"--pwfile={password_file}",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "--no-locale",
            "--encoding=UTF8",
        )
        settings = [
            f"port={self.port}",
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={self.folder}",
        ]
        if not self.durable:
            settings += _FAST_SETTINGS
        options = " ".join(f"-c {setting}" for setting in settings)
        pg_ctl = str(self.bin_dir / "pg_ctl")
        log = self.folder / "server.log"
        try:
            self._run(pg_ctl, "-D", str(self.data_dir), "-l", str(log), "-o", options, "-w", "start")
        except subprocess.CalledProcessError as error:
            text = log.read_text() if log.exists() else error.stderr
            raise RuntimeError(f"PostgreSQL did not start:\n{text}") from error
        with self._admin() as admin:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(APP_ROLE), sql.Literal(self.app_password)
                )
            )
        self.create_database(APP_ROLE)
        return self

    @contextlib.contextmanager
    def _admin(self, database: str = "postgres") -> Iterator[psycopg.Connection]:
        url = f"postgresql://{_SUPERUSER}:{self._super_password}@127.0.0.1:{self.port}/{database}"
        with psycopg.connect(url, autocommit=True) as connection:
            yield connection

    def url(self, database: str = APP_ROLE) -> str:
        """Return the URL of ``database`` for the ``cpfr`` role."""
        return f"postgresql://{APP_ROLE}:{self.app_password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database owned by ``cpfr`` (a new name when none is given); return its URL."""
        if name is None:
            self._databases += 1
            name = f"test_{self._databases}"
        with self._admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                    sql.Identifier(name), sql.Identifier(APP_ROLE)
                )
            )
        # The public schema belongs to pg_database_owner from PostgreSQL 15 but to the superuser
        # before it: hand it to the owner on every version, so cpfr's tables are cpfr's.
        with self._admin(name) as connection:
            connection.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(APP_ROLE)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        if (self.data_dir / "postmaster.pid").exists():
            pg_ctl = str(self.bin_dir / "pg_ctl")
            self._run(pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a :class:`PostgresServer` for the block, and stop and delete it afterwards."""
    server = PostgresServer(durable=durable)
    try:
        yield server.start()
    finally:
        server.stop()
