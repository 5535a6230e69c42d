"""DeliveryWorker against an in-memory job queue (a fake at the store port) and a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from appliance.domain.records import JobStatus, OutboxJob
from appliance.domain.retry import RetryPolicy
from appliance.errors import (
    ExportError,
    PermanentDeliveryError,
    StoreError,
    TransientDeliveryError,
)
from appliance.services.delivery import DeliveryWorker, Handler, WorkerSettings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(intervals=(timedelta(minutes=1), timedelta(minutes=5)), max_attempts=3)


@dataclass
class FixedClock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at


@dataclass
class MemoryQueue:
    jobs: dict[str, OutboxJob] = field(default_factory=dict)
    fail_settling: bool = False

    def add(self, job_id: str, kind: str = "email") -> None:
        self.jobs[job_id] = OutboxJob(job_id, kind, {}, T0, T0, T0)

    def claim_due_jobs(
        self,
        now: datetime,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxJob]:
        due = [
            j
            for j in self.jobs.values()
            if j.status is JobStatus.PENDING
            and j.due_at <= now
            and (kinds is None or j.kind in kinds)
        ][:limit]
        for j in due:
            self.jobs[j.id] = replace(
                j, status=JobStatus.RUNNING, claimed_by=worker, attempts=j.attempts + 1
            )
        return [self.jobs[j.id] for j in due]

    def _fenced(self, job_id: str, worker: str, **changes: object) -> bool:
        if self.fail_settling:
            raise StoreError("database is locked")
        job = self.jobs[job_id]
        if job.claimed_by != worker or job.status is not JobStatus.RUNNING:
            return False
        self.jobs[job_id] = replace(job, **changes)  # type: ignore[arg-type]
        return True

    def complete_job(self, job_id: str, worker: str, now: datetime) -> bool:
        return self._fenced(job_id, worker, status=JobStatus.DONE)

    def retry_job(
        self, job_id: str, worker: str, due_at: datetime, error: str, *, now: datetime
    ) -> bool:
        return self._fenced(
            job_id,
            worker,
            status=JobStatus.PENDING,
            due_at=due_at,
            last_error=error,
            claimed_by=None,
        )

    def fail_job(self, job_id: str, worker: str, error: str, *, now: datetime) -> bool:
        return self._fenced(job_id, worker, status=JobStatus.FAILED, last_error=error)


def raising(exc: BaseException) -> Handler:
    async def handler(job: OutboxJob) -> None:
        raise exc

    return handler


async def ok(job: OutboxJob) -> None:
    return None


def worker(
    queue: MemoryQueue, handlers: dict[str, Handler], clock: FixedClock, **kw: object
) -> DeliveryWorker:
    settings = WorkerSettings("node-a", POLICY, **kw)  # type: ignore[arg-type]
    return DeliveryWorker(queue, handlers, clock, settings)


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (TransientDeliveryError("SMTP 451 try later"), JobStatus.PENDING, "451 try later"),
        (ExportError("ODBC: connection refused"), JobStatus.PENDING, "connection refused"),
        (PermanentDeliveryError("SMTP 550 no such user"), JobStatus.FAILED, "550 no such user"),
        (ExportError("no such table", transient=False), JobStatus.FAILED, "no such table"),
        (RuntimeError("bug"), JobStatus.PENDING, "unexpected RuntimeError: bug"),
    ],
)
async def test_errors_retry_or_fail_by_transience(
    error: Exception, status: JobStatus, text: str
) -> None:
    queue, clock = MemoryQueue(), FixedClock()
    queue.add("j1")
    assert await worker(queue, {"email": raising(error)}, clock).run_once() == 1
    job = queue.jobs["j1"]
    assert job.status is status and text in (job.last_error or "")
    if status is JobStatus.PENDING:
        assert job.due_at == T0 + timedelta(minutes=1)


async def test_success_completes_the_job() -> None:
    queue = MemoryQueue()
    queue.add("j1")
    await worker(queue, {"email": ok}, FixedClock()).run_once()
    assert queue.jobs["j1"].status is JobStatus.DONE


async def test_back_off_follows_the_policy_then_gives_up() -> None:
    queue, clock = MemoryQueue(), FixedClock()
    queue.add("j1")
    w = worker(queue, {"email": raising(TransientDeliveryError("SMTP 421 busy"))}, clock)
    await w.run_once()
    assert queue.jobs["j1"].due_at == T0 + timedelta(minutes=1)
    assert await w.run_once() == 0  # not due yet
    clock.at = T0 + timedelta(minutes=1)
    await w.run_once()
    assert queue.jobs["j1"].due_at == clock.at + timedelta(minutes=5)
    clock.at += timedelta(minutes=5)
    await w.run_once()
    job = queue.jobs["j1"]
    assert job.status is JobStatus.FAILED and job.attempts == 3
    assert job.last_error is not None and job.last_error.startswith("gave up after 3 attempts")


async def test_only_kinds_with_handlers_are_claimed() -> None:
    queue = MemoryQueue()
    queue.add("mail", "email")
    queue.add("soap", "soap")
    await worker(queue, {"email": ok}, FixedClock()).run_once()
    assert queue.jobs["soap"].status is JobStatus.PENDING and queue.jobs["soap"].attempts == 0


async def test_hung_handler_is_cut_off_before_its_lease_ends() -> None:
    async def hang(job: OutboxJob) -> None:
        await asyncio.sleep(60)

    queue = MemoryQueue()
    queue.add("j1")
    w = worker(queue, {"email": hang}, FixedClock(), lease=timedelta(seconds=0.25))
    await asyncio.wait_for(w.run_once(), 5)
    job = queue.jobs["j1"]
    assert job.status is JobStatus.PENDING and "timed out" in (job.last_error or "")


async def test_lost_fence_or_store_outage_does_not_stop_the_worker() -> None:
    queue = MemoryQueue()
    queue.add("j1")
    queue.add("j2")

    async def cancel_then_succeed(job: OutboxJob) -> None:
        if job.id == "j1":  # a supervisor cancelled it meanwhile: the fence must refuse
            queue.jobs["j1"] = replace(queue.jobs["j1"], status=JobStatus.CANCELLED)

    await worker(queue, {"email": cancel_then_succeed}, FixedClock()).run_once()
    assert queue.jobs["j1"].status is JobStatus.CANCELLED
    assert queue.jobs["j2"].status is JobStatus.DONE
    queue.add("j3")
    queue.fail_settling = True
    await worker(queue, {"email": ok}, FixedClock()).run_once()  # logged, not raised


async def test_run_loop_delivers_and_stops() -> None:
    queue, done = MemoryQueue(), asyncio.Event()
    for n in range(7):
        queue.add(f"j{n}")

    async def handler(job: OutboxJob) -> None:
        await asyncio.sleep(0.01)
        if all(j.status is not JobStatus.PENDING for j in queue.jobs.values()):
            done.set()

    w = worker(queue, {"email": handler}, FixedClock(), concurrency=3, poll_interval_s=0.05)
    runner = asyncio.create_task(w.run())
    await asyncio.wait_for(done.wait(), 5)
    w.stop()
    await asyncio.wait_for(runner, 5)
    assert {j.status for j in queue.jobs.values()} == {JobStatus.DONE}
