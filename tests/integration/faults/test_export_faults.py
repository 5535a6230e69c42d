"""Exports through the outbox worker with the stored integrations, against real targets that fail:
ODBC (SQLite driver) down, table missing, constraint violated; SOAP (spyne) down, faulting, slow.
Each ends with the ticket at the target, or the job failed with the target's words and replayable:
nothing is lost."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.domain.records import JobStatus
from tests.integration.faults.conftest import Harness
from tests.support.odbc import sqlite_conn_str
from tests.support.smtp import free_port
from tests.support.soap_server import TicketDesk, soap_server

INSERT = ("INSERT INTO tickets (event_id, ticket, caller, created_at) "
          "VALUES (:event_id, :ticket, :caller, :created_at)")
TABLE = ("CREATE TABLE tickets (event_id TEXT PRIMARY KEY, ticket TEXT UNIQUE "
         "CHECK (length(ticket) > 0), caller TEXT, created_at TEXT)")


def odbc(db: Path) -> dict[str, Any]:
    return {"name": "erp", "kind": "odbc", "connection": sqlite_conn_str(db),
            "statements": {"ticket_created": INSERT}}


def soap(wsdl: str, **extra: Any) -> dict[str, Any]:
    fields = {"ticket_number": "ticket", "phone": "callback_number", "caller_id": "event_id",
              "created_at": "created_at", "kind": "kind"}
    return {"name": "crm", "kind": "soap", "wsdl_url": wsdl,
            "operations": {"ticket_created": {"operation": "CreateTicket", "fields": fields}},
            **extra}


def rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT event_id, ticket, caller FROM tickets").fetchall()


def create_table(db: Path) -> None:
    db.parent.mkdir(exist_ok=True)
    with sqlite3.connect(db) as con:
        con.execute(TABLE)


async def test_odbc_target_down_then_up_gets_the_ticket_once(
    harness: Harness, tmp_path: Path, odbc_sysini: Path
) -> None:
    db = tmp_path / "erp" / "erp.db"  # its folder is missing: the driver cannot open it
    harness.configure([odbc(db)])
    ticket = harness.ticket()
    [job] = harness.export_jobs()
    assert job.payload["target"] == "erp" and job.payload["fields"]["ticket"] == ticket.number

    await harness.worker.run_once()
    waiting = harness.job(job.id)
    assert waiting.status is JobStatus.PENDING and "ODBC connect" in (waiting.last_error or "")

    create_table(db)
    await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.DONE
    assert rows(db) == [(job.id, ticket.number, "+56912345678")]
    assert await harness.worker.run_once() == 0  # nothing left to repeat


async def test_odbc_table_missing_fails_with_its_text_and_replays_once_fixed(
    harness: Harness, tmp_path: Path, odbc_sysini: Path
) -> None:
    db = tmp_path / "erp" / "erp.db"
    db.parent.mkdir()
    sqlite3.connect(db).close()  # the database exists, the table does not
    harness.configure([odbc(db)])
    ticket = harness.ticket()
    [job] = harness.export_jobs()

    await harness.worker.run_once()
    failed = harness.job(job.id)
    assert failed.status is JobStatus.FAILED and "no such table" in (failed.last_error or "")

    create_table(db)
    assert harness.store.replay_job(job.id, now=datetime.now(UTC))
    await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.DONE
    assert [r[1] for r in rows(db)] == [ticket.number]


async def test_odbc_constraint_violation_fails_that_job_only(
    harness: Harness, tmp_path: Path, odbc_sysini: Path
) -> None:
    db = tmp_path / "erp" / "erp.db"
    create_table(db)
    harness.configure([odbc(db)])
    first = harness.ticket()
    second = harness.ticket(caller="+56900000000")
    with sqlite3.connect(db) as con:  # someone already filed the second ticket's number
        con.execute("INSERT INTO tickets VALUES ('other', ?, 'x', 'y')", (second.number,))

    await harness.worker.run_once()
    by_ticket = {j.payload["fields"]["ticket"]: j for j in harness.export_jobs()}
    assert by_ticket[first.number].status is JobStatus.DONE
    rejected = by_ticket[second.number]
    assert rejected.status is JobStatus.FAILED
    assert "UNIQUE constraint failed" in (rejected.last_error or "")
    assert sorted(r[1] for r in rows(db)) == sorted([first.number, second.number])


async def test_soap_down_waits_and_goes_out_when_the_service_is_reachable(
    harness: Harness,
) -> None:
    harness.configure([soap(f"http://127.0.0.1:{free_port()}/?wsdl")])  # nobody listens
    ticket = harness.ticket()
    [job] = harness.export_jobs()
    await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.PENDING
    assert "SOAP" in (harness.job(job.id).last_error or "")

    with soap_server() as (wsdl, desk):
        harness.configure([soap(wsdl)])  # the admin points the target at the service
        await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.DONE
    assert [(t["ticket_number"], t["caller_id"]) for t in desk.tickets] == [(ticket.number, job.id)]


async def test_soap_faults_retry_when_transient_and_fail_with_text_when_not(
    harness: Harness,
) -> None:
    desk = TicketDesk(faults=[("Server.Busy", "backend busy"), ("Client.Invalid", "bad phone")])
    with soap_server(desk) as (wsdl, _):
        harness.configure([soap(wsdl)])
        first = harness.ticket()
        [job] = harness.export_jobs()
        await harness.worker.run_once()
        busy = harness.job(job.id)
        assert busy.status is JobStatus.PENDING and "backend busy" in (busy.last_error or "")

        await harness.worker.run_once()  # second attempt meets the permanent fault
        refused = harness.job(job.id)
        assert refused.status is JobStatus.FAILED
        assert "Client.Invalid" in (refused.last_error or "") and "bad phone" in (
            refused.last_error or "")

        assert harness.store.replay_job(job.id, now=datetime.now(UTC))
        await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.DONE
    assert [t["ticket_number"] for t in desk.tickets] == [first.number]


async def test_slow_soap_service_times_out_and_the_retry_carries_the_same_event_id(
    harness: Harness,
) -> None:
    with soap_server() as (wsdl, desk):
        harness.configure([soap(wsdl, timeout_s=0.5)])
        ticket = harness.ticket()
        [job] = harness.export_jobs()
        desk.delay_s = 2.0
        await harness.worker.run_once()
        slow = harness.job(job.id)
        assert slow.status is JobStatus.PENDING
        assert "timed out" in (slow.last_error or "").lower() or "timeout" in (
            slow.last_error or "").lower()
        desk.delay_s = 0.0
        await harness.worker.run_once()
    assert harness.job(job.id).status is JobStatus.DONE
    # The slow call may still have landed after we gave up: every copy the service took carries
    # the job id, so the receiver can tell the repeat (a timeout cannot prove it did not arrive).
    assert desk.tickets and {(t["ticket_number"], t["caller_id"]) for t in desk.tickets} == {
        (ticket.number, job.id)}
