"""OdbcExporter through psqlODBC against a throwaway PostgreSQL: rows, casts, failures by SQLSTATE."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from appliance.adapters.export.odbc import OdbcExporter
from appliance.errors import ExportError
from tests.support.odbc import postgres_conn_str
from tests.support.postgres import PostgresCluster
from tests.support.smtp import free_port

INSERT = (
    "INSERT INTO tickets (event_id, ticket, caller, created_at, kind, duration_s)"
    " VALUES (:event_id, :ticket, :caller, :created_at::timestamptz, :kind, :duration_s)"
)
FIELDS = {
    "event_id": "job-1",
    "ticket": "T-000123",
    "caller": "José Ñúñez 김민수",
    "created_at": datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=-3))),
    "kind": "voicemail",
    "duration_s": 42.5,
}


@pytest.fixture
def target(pg_cluster: PostgresCluster, odbc_sysini: Path) -> tuple[str, str]:
    """A fresh database with a tickets table; returns (ODBC connection string, libpq conninfo)."""
    name = f"t_{secrets.token_hex(6)}"
    pg_cluster.create_database(name)
    conninfo = pg_cluster.conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute(
            "CREATE TABLE tickets (event_id text PRIMARY KEY, ticket text NOT NULL, caller text,"
            " created_at timestamptz, kind text, duration_s numeric)"
        )
    c = pg_cluster
    return postgres_conn_str(c.host, c.port, c.user, c.password, name), conninfo


def rows(conninfo: str) -> list[tuple[object, ...]]:
    with psycopg.connect(conninfo) as con:
        return con.execute("SELECT event_id, ticket, caller, created_at FROM tickets").fetchall()


async def test_export_inserts_a_row_with_unicode_and_time(target: tuple[str, str]) -> None:
    conn_str, conninfo = target
    await OdbcExporter(conn_str, {"message_left": INSERT}).export("message_left", FIELDS)
    [(event_id, ticket, caller, created_at)] = rows(conninfo)
    assert (event_id, ticket, caller) == ("job-1", "T-000123", "José Ñúñez 김민수")
    assert created_at == FIELDS["created_at"]


async def test_replay_with_on_conflict_is_harmless(target: tuple[str, str]) -> None:
    conn_str, conninfo = target
    exporter = OdbcExporter(
        conn_str, {"message_left": INSERT + " ON CONFLICT (event_id) DO NOTHING"}
    )
    await exporter.export("message_left", FIELDS)
    await exporter.export("message_left", FIELDS)
    assert len(rows(conninfo)) == 1


async def test_test_rolls_back(target: tuple[str, str]) -> None:
    conn_str, conninfo = target
    await OdbcExporter(conn_str, {"message_left": INSERT}).test("message_left", FIELDS)
    assert rows(conninfo) == []


async def test_constraint_violation_is_permanent(target: tuple[str, str]) -> None:
    conn_str, _ = target
    exporter = OdbcExporter(conn_str, {"message_left": INSERT})
    await exporter.export("message_left", FIELDS)
    with pytest.raises(ExportError, match="duplicate key") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is False


async def test_missing_table_is_permanent(target: tuple[str, str]) -> None:
    conn_str, _ = target
    exporter = OdbcExporter(conn_str, {"message_left": INSERT.replace("INTO tickets", "INTO nope")})
    with pytest.raises(ExportError, match='"nope" does not exist') as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is False


async def test_server_down_is_transient(odbc_sysini: Path) -> None:
    conn_str = postgres_conn_str("127.0.0.1", free_port(), "postgres", "x", "postgres")
    exporter = OdbcExporter(conn_str, {"message_left": INSERT}, login_timeout_s=3)
    with pytest.raises(ExportError, match=r"(?i)connection refused") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is True


async def test_statement_timeout_is_transient(target: tuple[str, str]) -> None:
    # psqlODBC has no ODBC query timeout; the server's statement_timeout is set in the string.
    conn_str = target[0] + "Pqopt={options='-c statement_timeout=500'};"
    slow = "SELECT pg_sleep(5), :ticket"
    exporter = OdbcExporter(conn_str, {"message_left": slow})
    with pytest.raises(ExportError, match="statement timeout") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is True
