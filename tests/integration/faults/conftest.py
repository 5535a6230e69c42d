"""Peers and a small delivery harness for the fault tests: the real store, intake and handlers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.config import Settings
from appliance.domain.records import JobStatus, OutboxJob, Ticket
from appliance.domain.retry import RetryPolicy
from appliance.ports.clock import SystemClock
from appliance.services.delivery import DeliveryWorker, WorkerSettings
from appliance.services.delivery_setup import build_handlers
from appliance.services.intake import Intake, TicketRequest
from appliance.services.integrations import save_integrations
from tests.support.odbc import quiet_odbc

# Every retry due at once, so a test drives attempts with run_once instead of waiting.
RETRY_NOW = RetryPolicy(intervals=(timedelta(0),), max_attempts=5)


@pytest.fixture(scope="session")
def odbc_sysini() -> Path:
    return quiet_odbc()


@dataclass
class Harness:
    store: SqlStore
    intake: Intake
    worker: DeliveryWorker
    version: int = 0

    def configure(self, targets: list[dict[str, Any]]) -> None:
        saved = save_integrations(self.store, {"targets": targets}, expected_version=self.version,
                                  actor="admin", now=datetime.now(UTC))
        self.version = saved.version

    def ticket(self, caller: str = "+56912345678") -> Ticket:
        request = TicketRequest(call_id="c1", service="default", caller=caller,
                                callback_number=caller, callback=False, request_type="2")
        ticket, _ = self.intake.create_ticket(request, datetime.now(UTC))
        return ticket

    def export_jobs(self, status: JobStatus | None = None) -> list[OutboxJob]:
        return self.store.list_jobs(status, kind="export")

    def job(self, job_id: str) -> OutboxJob:
        job = self.store.get_job(job_id)
        assert job is not None
        return job


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    handlers = build_handlers(Settings(), store, SystemClock(),
                              mailer=SpoolMailer(tmp_path / "mail"))
    worker = DeliveryWorker(store, handlers, SystemClock(), WorkerSettings("test", RETRY_NOW))
    yield Harness(store, Intake(store), worker)
    store.close()
