"""The outbox worker: claims due jobs, runs the handler for each job's kind, settles the job.

What "exactly once" means here: every job is delivered at least once (it stays in the store
until a handler succeeds or it fails permanently) and its effects are fenced so a repeat is
harmless or recognisable:
- a job is settled only by the worker holding its claim (complete/retry/fail are fenced by the
  worker id and status), and a handler is cut off well before its lease runs out, so two live
  workers never run the same job at once;
- the one window left is a crash after the effect and before `complete_job`: the lease expires,
  another worker repeats the job. The repeat carries the same identity: emails a Message-ID
  derived from the job id (the spool writes it once; mail clients thread it as a duplicate),
  exports and webhooks the job id as `event_id` / idempotency key, and each ODBC statement
  commits alone in its own transaction, so the target holds the row or it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from appliance.domain.records import OutboxJob
from appliance.domain.retry import RetryPolicy
from appliance.errors import ApplianceError, PermanentDeliveryError
from appliance.ports.clock import Clock
from appliance.ports.delivery import Mailer, TicketExporter, Webhook
from appliance.ports.store import JobClaims
from appliance.services.metrics import record_delivery, worker_alive

log = logging.getLogger(__name__)

Handler = Callable[[OutboxJob], Awaitable[None]]


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str
    retry: RetryPolicy
    concurrency: int = 4
    lease: timedelta = timedelta(minutes=5)
    poll_interval_s: float = 2.0
    # A handler still running at this share of the lease is abandoned and the job retried, so
    # the lease never expires under a live handler and no second worker takes the job meanwhile.
    handler_share_of_lease: float = 0.8


class DeliveryWorker:
    def __init__(
        self,
        store: JobClaims,
        handlers: Mapping[str, Handler],
        clock: Clock,
        settings: WorkerSettings,
        *,
        retry_by_kind: Mapping[str, RetryPolicy] | None = None,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._clock = clock
        self._settings = settings
        self._retry_by_kind = dict(retry_by_kind or {})
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due jobs now instead of at the next poll (call after enqueueing)."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more; `run` returns once the jobs in flight are settled."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        log.info(
            "delivery worker %s started for %s", self._settings.worker_id, sorted(self._handlers)
        )
        try:
            while not self._stopping:
                worker_alive(self._settings.worker_id)  # the readiness check's heartbeat
                self._wake.clear()
                await self._fill_free_slots()
                await self._sleep()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            for task in self._tasks:
                task.cancel()  # cancelled (e.g. a crash test): leases hand the jobs back
        log.info("delivery worker %s stopped", self._settings.worker_id)

    async def run_once(self) -> int:
        """Claim one batch, process it to the end; returns how many jobs were processed."""
        jobs = await self._claim(self._settings.concurrency)
        await asyncio.gather(*(self.process(job) for job in jobs))
        return len(jobs)

    async def process(self, job: OutboxJob) -> None:
        """Run one claimed job's handler and settle the job; never raises (except cancellation)."""
        handler = self._handlers[job.kind]
        try:
            await asyncio.wait_for(handler(job), self._handler_timeout())
        except ApplianceError as exc:
            if exc.transient:
                await self._retry(job, f"{exc.error_id}: {exc}")
            else:
                await self._settle("fail", job, f"{exc.error_id}: {exc}")
        except TimeoutError:
            await self._retry(job, f"timed out after {self._handler_timeout():.0f} s")
        except Exception as exc:  # a bug in a handler must not stop the other deliveries
            log.exception("%s %s: unexpected error", job.id, job.kind)
            await self._retry(job, f"unexpected {type(exc).__name__}: {exc}")
        else:
            await self._settle("complete", job, None)

    async def _fill_free_slots(self) -> None:
        free = self._settings.concurrency - len(self._tasks)
        if free <= 0:
            return
        for job in await self._claim(free):
            task = asyncio.create_task(self.process(job), name=f"outbox-{job.id}")
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # a slot is free: claim again without waiting for the poll

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval_s)

    async def _claim(self, limit: int) -> list[OutboxJob]:
        s = self._settings
        try:
            return await asyncio.to_thread(
                self._store.claim_due_jobs,
                self._clock.now(),
                s.worker_id,
                limit=limit,
                lease=s.lease,
                kinds=sorted(self._handlers),
            )
        except ApplianceError as exc:
            log.warning("delivery worker %s cannot claim jobs: %s", s.worker_id, exc)
            return []

    async def _retry(self, job: OutboxJob, error: str) -> None:
        policy = self._retry_by_kind.get(job.kind, self._settings.retry)
        delay = policy.delay_for(max(job.attempts, 1))
        if delay is None:
            await self._settle("fail", job, f"gave up after {job.attempts} attempts: {error}")
            return
        log.info(
            "%s %s attempt %d failed, retry in %s: %s", job.id, job.kind, job.attempts, delay, error
        )
        await self._settle("retry", job, error, due_at=self._clock.now() + delay)

    async def _settle(
        self, outcome: str, job: OutboxJob, error: str | None, *, due_at: datetime | None = None
    ) -> None:
        store, worker, now = self._store, self._settings.worker_id, self._clock.now()
        try:
            if outcome == "complete":
                ok = await asyncio.to_thread(store.complete_job, job.id, worker, now)
            elif outcome == "retry" and due_at is not None:
                ok = await asyncio.to_thread(
                    store.retry_job, job.id, worker, due_at, error or "", now=now
                )
            else:
                ok = await asyncio.to_thread(store.fail_job, job.id, worker, error or "", now=now)
        except ApplianceError as exc:
            # The lease will hand the job back and it runs again: its effects are idempotent.
            log.error("%s %s: cannot record %s: %s", job.id, job.kind, outcome, exc)
            return
        record_delivery(job.kind, outcome)
        if not ok:
            log.warning(
                "%s %s: %s lost the fence (cancelled or re-claimed)", job.id, job.kind, outcome
            )
        elif outcome == "fail":
            log.warning("%s %s failed: %s", job.id, job.kind, error)
        else:
            log.info(
                "%s %s %s", job.id, job.kind, "done" if outcome == "complete" else "rescheduled"
            )

    def _handler_timeout(self) -> float:
        s = self._settings
        return s.lease.total_seconds() * s.handler_share_of_lease


def mail_handler(mailer: Mailer, build: Callable[[OutboxJob], Awaitable[EmailMessage]]) -> Handler:
    """Send the email `build` makes for a job; its Message-ID must be the job's stable one."""

    async def handle(job: OutboxJob) -> None:
        message = await build(job)
        if not message["Message-ID"] or job.id not in str(message["Message-ID"]):
            raise PermanentDeliveryError(f"email for job {job.id} lacks its stable Message-ID")
        await mailer.send(message)

    return handle


def export_handler(exporter: TicketExporter) -> Handler:
    """Jobs carry {"event_kind": ..., "fields": {...}}; the job id becomes `event_id`."""

    async def handle(job: OutboxJob) -> None:
        fields = {k: _revive(k, v) for k, v in dict(job.payload.get("fields", {})).items()}
        fields.setdefault("event_id", job.id)
        await exporter.export(str(job.payload["event_kind"]), fields)

    return handle


def webhook_handler(webhook: Webhook) -> Handler:
    async def handle(job: OutboxJob) -> None:
        payload = dict(job.payload.get("fields", {}))
        await webhook.post(str(job.payload["event_kind"]), payload, idempotency_key=job.id)

    return handle


def _revive(name: str, value: object) -> object:
    # Payloads are JSON: instants travel as ISO 8601 text and come back as datetimes here.
    if name in _INSTANT_FIELDS and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


_INSTANT_FIELDS = frozenset({"created_at", "scheduled_for"})
