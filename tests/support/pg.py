"""Database fixtures: every store test runs on SQLite and on PostgreSQL.

``db_url`` is a fresh, empty database per test: a SQLite file in ``tmp_path``, or a new database
(``CREATE DATABASE`` with a unique name) on the throwaway cluster that scripts/test.sh starts and
announces in ``CB_TEST_POSTGRES_URL``; it is dropped afterwards. Without that variable the
PostgreSQL half skips, or fails when ``CB_REQUIRE_POSTGRES=1`` (CI: it must never skip silently).

``pg_cluster`` stops and starts that cluster (``CB_TEST_PG_BIN``, ``CB_TEST_PG_DATA``,
``CB_TEST_PG_PORT``) for the tests that prove the store survives a database restart.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_url() -> str:
    """The test cluster's URL; skips (or fails when PostgreSQL is required) without one."""
    url = os.environ.get("CB_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CB_REQUIRE_POSTGRES") == "1":
            pytest.fail("CB_REQUIRE_POSTGRES=1 but CB_TEST_POSTGRES_URL is not set; run the tests with scripts/test.sh")
        pytest.skip("no PostgreSQL test cluster (CB_TEST_POSTGRES_URL unset; scripts/test.sh starts one)")
    return url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test cluster (unique name), dropped on exit; yields its URL."""
    base = postgres_url()
    name = f"cb_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database: a SQLite file, or a new PostgreSQL database dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cb.sqlite'}"
        return
    with fresh_postgres_database() as url:
        yield url


@dataclass(frozen=True)
class PgCluster:
    """The test cluster's ``pg_ctl``, run as the postgres user when we are root (initdb's rule)."""

    bin: Path
    data: Path
    port: int

    @classmethod
    def from_env(cls) -> PgCluster:
        return cls(Path(os.environ["CB_TEST_PG_BIN"]), Path(os.environ["CB_TEST_PG_DATA"]),
                   int(os.environ["CB_TEST_PG_PORT"]))

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=60, check=check)

    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        # The same options scripts/test.sh starts it with (socket folder = the data folder's parent).
        folder = self.data.parent
        self._pg_ctl("-l", str(folder / "log"), "-w", "-o",
                     f"-h 127.0.0.1 -p {self.port} -k {folder} -c fsync=off -c synchronous_commit=off "
                     f"-c full_page_writes=off", "start")


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """Control of the PostgreSQL test cluster; it is running again after the test, whatever happened."""
    postgres_url()
    if not all(os.environ.get(k) for k in ("CB_TEST_PG_BIN", "CB_TEST_PG_DATA", "CB_TEST_PG_PORT")):
        message = "CB_TEST_PG_BIN / CB_TEST_PG_DATA / CB_TEST_PG_PORT are not set (scripts/test.sh sets them)"
        if os.environ.get("CB_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    cluster = PgCluster.from_env()
    try:
        yield cluster
    finally:
        if not cluster.running():
            cluster.start()
