"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, a free port on 127.0.0.1,
started with pg_ctl and removed afterwards. `postgres_cluster()` is the context manager and
`pg_cluster` the session fixture built on it (import it into a conftest, or list this module
in `pytest_plugins` at the root to share one cluster across the whole run).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.tools import require_tool


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    user: str
    password: str
    socket_dir: Path
    dbname: str = "postgres"

    def url(self, dbname: str | None = None, *, driver: str = "psycopg") -> str:
        """A SQLAlchemy URL for `dbname` (default: the maintenance database)."""
        return (
            f"postgresql+{driver}://{self.user}:{self.password}"
            f"@{self.host}:{self.port}/{dbname or self.dbname}"
        )

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq connection string, for psycopg or tools."""
        return (
            f"host={self.host} port={self.port} user={self.user} "
            f"password={self.password} dbname={dbname or self.dbname}"
        )

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh name when none is given) and return its URL."""
        import psycopg  # the postgres extra; imported here so the module loads without it

        name = name or f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(path: Path) -> None:
    entry = pwd.getpwnam("postgres")
    os.chown(path, entry.pw_uid, entry.pw_gid)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Start a private PostgreSQL (password auth on TCP, UTC, fsync off) and stop it after."""
    initdb, pg_ctl = require_tool("initdb"), require_tool("pg_ctl")
    as_root = os.geteuid() == 0
    # initdb refuses to run as root: run the server as the postgres account instead.
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    password = secrets.token_hex(12)
    pwfile = base / "pw"
    pwfile.write_text(password + "\n")
    if as_root:
        _as_postgres(base)
        _as_postgres(pwfile)
    data, port = base / "data", _free_port()
    try:
        _run(
            [
                *run_as,
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c timezone=UTC "
            "-c max_connections=100"
        )
        _run(
            [
                *run_as,
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(base / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            ]
        )
        try:
            yield PostgresCluster("127.0.0.1", port, "postgres", password, base)
        finally:
            _run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(argv: list[str], *, check: bool = True) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster
