"""OdbcExporter through unixODBC and the real SQLite3 driver: rows, DSNs, rollback tests, failures."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from appliance.adapters.export.odbc import OdbcExporter
from appliance.errors import ConfigError, ExportError
from tests.support.odbc import add_dsn, sqlite_conn_str

INSERT = (
    "INSERT INTO tickets (event_id, ticket, caller, created_at, kind, duration_s, transcript) "
    "VALUES (:event_id, :ticket, :caller, :created_at, :kind, :duration_s, :transcript)"
)
FIELDS = {
    "event_id": "job-1",
    "ticket": "T-000123",
    "caller": "José Ñúñez 김민수",
    "created_at": datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=-3))),
    "kind": "voicemail",
    "duration_s": 42,
    "transcript": "hola ':ticket'",
}


@pytest.fixture
def db(tmp_path: Path, odbc_sysini: Path) -> Path:
    path = tmp_path / "target.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE tickets (event_id TEXT PRIMARY KEY, ticket TEXT NOT NULL, caller TEXT,"
            " created_at TEXT, kind TEXT, duration_s INTEGER, transcript TEXT)"
        )
    return path


def rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT event_id, ticket, caller, created_at, duration_s, transcript FROM tickets"
        ).fetchall()


async def test_export_inserts_one_row(db: Path) -> None:
    await OdbcExporter(sqlite_conn_str(db), {"message_left": INSERT}).export("message_left", FIELDS)
    [(event_id, ticket, caller, created_at, secs, transcript)] = rows(db)
    assert (event_id, ticket, caller, secs, transcript) == (
        "job-1",
        "T-000123",
        "José Ñúñez 김민수",
        42,
        "hola ':ticket'",
    )
    assert str(created_at).startswith("2026-03-01 13:30:00")  # sent as UTC


async def test_dsn_name_is_accepted(db: Path) -> None:
    add_dsn("desborde_test", "SQLite3", Database=str(db))
    await OdbcExporter("desborde_test", {"message_left": INSERT}).export("message_left", FIELDS)
    assert len(rows(db)) == 1


async def test_test_runs_the_statement_and_rolls_back(db: Path) -> None:
    exporter = OdbcExporter(sqlite_conn_str(db), {"message_left": INSERT})
    await exporter.test("message_left", FIELDS)
    assert rows(db) == []
    with pytest.raises(ExportError, match="NOT NULL"):
        await exporter.test("message_left", {**FIELDS, "ticket": None})


async def test_missing_table_is_permanent(db: Path) -> None:
    exporter = OdbcExporter(
        sqlite_conn_str(db), {"message_left": INSERT.replace("tickets", "nope")}
    )
    with pytest.raises(ExportError, match="no such table") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is False


async def test_constraint_violation_is_permanent_and_first_row_stays(db: Path) -> None:
    exporter = OdbcExporter(sqlite_conn_str(db), {"message_left": INSERT})
    await exporter.export("message_left", FIELDS)
    with pytest.raises(ExportError, match="UNIQUE") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is False
    assert len(rows(db)) == 1


async def test_unreachable_database_is_transient(tmp_path: Path, odbc_sysini: Path) -> None:
    exporter = OdbcExporter(
        sqlite_conn_str(tmp_path / "missing-dir" / "t.db"), {"message_left": INSERT}
    )
    with pytest.raises(ExportError) as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is True


async def test_locked_database_is_transient(db: Path) -> None:
    exporter = OdbcExporter(sqlite_conn_str(db) + ";Timeout=100", {"message_left": INSERT})
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ExportError) as err:
            await exporter.export("message_left", FIELDS)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert err.value.transient is True, str(err.value)


async def test_unknown_dsn_is_permanent(odbc_sysini: Path) -> None:
    exporter = OdbcExporter("no_such_dsn", {"message_left": INSERT})
    with pytest.raises(ExportError, match="not found") as err:
        await exporter.export("message_left", FIELDS)
    assert err.value.transient is False


async def test_event_kind_without_statement_is_permanent(db: Path) -> None:
    exporter = OdbcExporter(sqlite_conn_str(db), {"message_left": INSERT})
    assert not exporter.handles("callback_outcome")
    with pytest.raises(ExportError) as err:
        await exporter.export("callback_outcome", FIELDS)
    assert err.value.transient is False


def test_unknown_field_is_a_config_error_at_construction() -> None:
    with pytest.raises(ConfigError, match=":calller"):
        OdbcExporter(
            "Driver={SQLite3};Database=x", {"message_left": "INSERT INTO t VALUES (:calller)"}
        )
