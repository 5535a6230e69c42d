"""The outbox worker driving the ODBC exporter: JSON payloads in, typed rows out, target outages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.adapters.export.odbc import OdbcExporter
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import JobStatus, OutboxJob, new_id
from appliance.domain.retry import RetryPolicy
from appliance.services.delivery import DeliveryWorker, WorkerSettings, export_handler
from tests.support.odbc import sqlite_conn_str

INSERT = (
    "INSERT INTO tickets (event_id, ticket, created_at) VALUES (:event_id, :ticket, :created_at)"
)
RETRY_NOW = RetryPolicy(intervals=(timedelta(0),), max_attempts=5)


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    yield s
    s.close()


async def test_target_down_then_up_exports_once_with_job_id(
    store: SqlStore, tmp_path: Path, odbc_sysini: Path
) -> None:
    target_dir = tmp_path / "target"  # missing at first: the driver cannot open the database
    exporter = OdbcExporter(sqlite_conn_str(target_dir / "t.db"), {"ticket_created": INSERT})
    worker = DeliveryWorker(
        store,
        {"odbc": export_handler(exporter)},
        WallClock(),
        WorkerSettings("node-a", RETRY_NOW),
    )
    now = datetime.now(UTC)
    payload = {
        "event_kind": "ticket_created",
        "fields": {"ticket": "T-9", "created_at": "2026-03-01T10:30:00-03:00"},
    }
    job = OutboxJob(new_id(), "odbc", payload, now, now, now)
    store.enqueue([job])

    await worker.run_once()
    pending = store.get_job(job.id)
    assert pending is not None and pending.status is JobStatus.PENDING
    assert "ODBC connect" in (pending.last_error or "")

    target_dir.mkdir()
    with sqlite3.connect(target_dir / "t.db") as con:
        con.execute(
            "CREATE TABLE tickets (event_id TEXT PRIMARY KEY, ticket TEXT, created_at TEXT)"
        )
    await worker.run_once()
    done = store.get_job(job.id)
    assert done is not None and done.status is JobStatus.DONE and done.attempts == 2
    with sqlite3.connect(target_dir / "t.db") as con:
        rows = con.execute("SELECT event_id, ticket, created_at FROM tickets").fetchall()
    assert len(rows) == 1 and rows[0][:2] == (job.id, "T-9")
    assert str(rows[0][2]).startswith("2026-03-01 13:30:00")  # the ISO text came back as an instant
