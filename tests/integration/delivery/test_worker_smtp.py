"""The outbox worker end to end: real SqlStore (SQLite), real SMTP server, real failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from appliance.adapters.mail.compose import stable_message_id
from appliance.adapters.mail.smtp import SmtpMailer, SmtpSettings
from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import JobStatus, OutboxJob, new_id
from appliance.domain.retry import RetryPolicy
from appliance.ports.delivery import Mailer
from appliance.services.delivery import DeliveryWorker, WorkerSettings, mail_handler
from tests.support.smtp import Sink, free_port, smtp_server

FAST = RetryPolicy(intervals=(timedelta(milliseconds=100),), backoff_factor=1.5, max_attempts=50)


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    yield s
    s.close()


def enqueue(store: SqlStore, count: int) -> list[str]:
    now = datetime.now(UTC)
    jobs = [OutboxJob(new_id(), "email", {"n": n}, now, now, now) for n in range(count)]
    store.enqueue(jobs)
    return [j.id for j in jobs]


async def build(job: OutboxJob) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "vm@example.test"
    msg["To"] = "help@example.test"
    msg["Subject"] = f"Voicemail {job.payload['n']}"
    msg["Message-ID"] = stable_message_id(job.id, "example.test")
    msg.set_content("new voicemail")
    return msg


def start(store: SqlStore, mailer: Mailer, node: str = "node-a", **kw: object) -> DeliveryWorker:
    settings = WorkerSettings(node, FAST, poll_interval_s=0.05, **kw)  # type: ignore[arg-type]
    return DeliveryWorker(store, {"email": mail_handler(mailer, build)}, WallClock(), settings)


async def until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def statuses(store: SqlStore, ids: list[str]) -> list[JobStatus]:
    return [job.status for job in (store.get_job(i) for i in ids) if job is not None]


def smtp(port: int) -> SmtpMailer:
    return SmtpMailer(SmtpSettings("127.0.0.1", port, security="none", timeout_s=2))


async def test_smtp_down_then_up_delivers_every_message_exactly_once(store: SqlStore) -> None:
    port = free_port()
    ids = enqueue(store, 6)
    worker = start(store, smtp(port), concurrency=3)
    runner = asyncio.create_task(worker.run())
    try:
        # Down: every job is retried with back-off, keeping the refusal as its last error.
        await until(lambda: all((j := store.get_job(i)) and j.attempts >= 2 for i in ids))
        assert all("refused" in (store.get_job(i).last_error or "").lower() for i in ids)  # type: ignore[union-attr]
        with smtp_server(port=port) as srv:
            await until(lambda: statuses(store, ids) == [JobStatus.DONE] * 6)
            await asyncio.sleep(0.3)  # would a straggler send a second copy?
    finally:
        worker.stop()
        await asyncio.wait_for(runner, 10)
    expected = sorted(stable_message_id(i, "example.test") for i in ids)
    assert sorted(srv.sink.message_ids()) == expected


async def test_550_fails_the_job_with_the_reply_text(store: SqlStore) -> None:
    [job_id] = enqueue(store, 1)
    with smtp_server(Sink(replies=["550 5.1.1 <help@example.test>: mailbox unknown"])) as srv:
        assert await start(store, smtp(srv.port)).run_once() == 1
    job = store.get_job(job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert "550 5.1.1 <help@example.test>: mailbox unknown" in (job.last_error or "")
    assert srv.sink.messages == []


async def test_451_then_accepted_is_retried_and_delivered_once(store: SqlStore) -> None:
    [job_id] = enqueue(store, 1)
    with smtp_server(Sink(replies=["451 4.7.1 greylisted", "250"])) as srv:
        worker = start(store, smtp(srv.port))
        runner = asyncio.create_task(worker.run())
        await until(lambda: statuses(store, [job_id]) == [JobStatus.DONE])
        worker.stop()
        await asyncio.wait_for(runner, 10)
    job = store.get_job(job_id)
    assert job is not None and job.attempts == 2 and "greylisted" in (job.last_error or "")
    assert len(srv.sink.messages) == 1


async def test_crash_after_sending_repeats_with_the_same_message_id(
    store: SqlStore, tmp_path: Path
) -> None:
    """Node A sends, then dies before recording it; node B takes the job once the lease ends."""
    [job_id] = enqueue(store, 1)
    spool = SpoolMailer(tmp_path / "mail")
    sent = asyncio.Event()

    class SendThenHang:
        async def send(self, message: EmailMessage) -> None:
            await spool.send(message)
            sent.set()
            await asyncio.sleep(3600)  # the node "crashes" here: nothing settles the job

    lease = timedelta(seconds=1)
    node_a = start(store, SendThenHang(), "node-a", lease=lease, handler_share_of_lease=100.0)
    crashed = asyncio.create_task(node_a.run())
    await asyncio.wait_for(sent.wait(), 5)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    assert statuses(store, [job_id]) == [JobStatus.RUNNING]

    node_b = start(store, spool, "node-b", lease=lease)
    runner = asyncio.create_task(node_b.run())
    await until(lambda: statuses(store, [job_id]) == [JobStatus.DONE])
    node_b.stop()
    await asyncio.wait_for(runner, 5)
    job = store.get_job(job_id)
    assert job is not None and job.attempts == 2 and job.claimed_by == "node-b"
    # Both sends carried the same Message-ID, so the spool kept one file.
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
