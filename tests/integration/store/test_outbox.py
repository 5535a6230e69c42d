"""The outbox: each job is claimed once, leases expire, and only the claimant settles a job."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import JobStatus, OutboxJob, new_id
from appliance.ports.store import Store
from tests.integration.store.conftest import T0

LEASE = timedelta(seconds=60)


def _job(kind: str = "email", *, due_s: int = 0, dedup: str | None = None) -> OutboxJob:
    due = T0 + timedelta(seconds=due_s)
    return OutboxJob(new_id(), kind, {"n": due_s}, due, T0, T0, dedup_key=dedup)


def test_enqueue_skips_a_known_dedup_key(store: Store) -> None:
    assert store.enqueue([_job(dedup="msg-1:email"), _job(dedup="msg-1:odbc"), _job()]) == 3
    assert store.enqueue([_job(dedup="msg-1:email"), _job(dedup="msg-2:email")]) == 1
    assert len(store.list_jobs()) == 4


def test_claim_takes_due_jobs_oldest_first(store: Store) -> None:
    jobs = [_job(due_s=5), _job(due_s=1), _job(due_s=600)]
    store.enqueue(jobs)
    now = T0 + timedelta(seconds=10)
    claimed = store.claim_due_jobs(now, "w1", limit=10, lease=LEASE)
    assert [j.id for j in claimed] == [jobs[1].id, jobs[0].id]
    assert all(j.status is JobStatus.RUNNING and j.attempts == 1 for j in claimed)
    assert claimed[0].lease_until == now + LEASE and claimed[0].claimed_by == "w1"
    assert store.claim_due_jobs(now, "w2", limit=10, lease=LEASE) == []


def test_claim_can_be_limited_to_kinds(store: Store) -> None:
    store.enqueue([_job("email"), _job("soap"), _job("odbc")])
    claimed = store.claim_due_jobs(T0, "w", limit=10, lease=LEASE, kinds=["soap", "odbc"])
    assert sorted(j.kind for j in claimed) == ["odbc", "soap"]


def test_complete_and_stats(store: Store) -> None:
    jobs = [_job(due_s=1), _job(due_s=2), _job(due_s=3)]
    store.enqueue(jobs)
    stats = store.outbox_stats()
    assert stats.depth == 3 and stats.oldest_due == T0 + timedelta(seconds=1)
    [first] = store.claim_due_jobs(T0 + timedelta(seconds=1), "w", limit=1, lease=LEASE)
    assert store.complete_job(first.id, "w", T0 + timedelta(seconds=2))
    assert not store.complete_job(first.id, "w", T0 + timedelta(seconds=3))  # already done
    stats = store.outbox_stats()
    assert stats.counts == {JobStatus.DONE: 1, JobStatus.PENDING: 2}
    assert stats.depth == 2 and stats.oldest_due == T0 + timedelta(seconds=2)


def test_an_expired_lease_is_reclaimed_and_the_stale_worker_is_fenced(store: Store) -> None:
    job = _job()
    store.enqueue([job])
    store.claim_due_jobs(T0, "dead-worker", limit=1, lease=LEASE)
    assert store.claim_due_jobs(T0 + LEASE, "w2", limit=1, lease=LEASE) == []  # not yet expired
    later = T0 + LEASE + timedelta(seconds=1)
    [again] = store.claim_due_jobs(later, "w2", limit=1, lease=LEASE)
    assert (again.claimed_by, again.attempts) == ("w2", 2)
    assert not store.complete_job(job.id, "dead-worker", later)
    assert not store.retry_job(job.id, "dead-worker", later, "late", now=later)
    assert not store.fail_job(job.id, "dead-worker", "late", now=later)
    assert store.complete_job(job.id, "w2", later)
    done = store.get_job(job.id)
    assert done is not None and done.status is JobStatus.DONE


def test_a_renewed_lease_is_not_reclaimed(store: Store) -> None:
    job = _job()
    store.enqueue([job])
    store.claim_due_jobs(T0, "w1", limit=1, lease=LEASE)
    assert store.renew_job_lease(job.id, "w1", T0 + 3 * LEASE)
    assert not store.renew_job_lease(job.id, "w2", T0 + 9 * LEASE)
    assert store.claim_due_jobs(T0 + 2 * LEASE, "w2", limit=1, lease=LEASE) == []
    assert store.complete_job(job.id, "w1", T0 + 2 * LEASE)
    assert not store.renew_job_lease(job.id, "w1", T0 + 4 * LEASE)  # done: nothing to keep


def test_retry_waits_for_its_due_time_and_keeps_the_error(store: Store) -> None:
    job = _job()
    store.enqueue([job])
    store.claim_due_jobs(T0, "w", limit=1, lease=LEASE)
    retry_at = T0 + timedelta(minutes=2)
    assert store.retry_job(job.id, "w", retry_at, "421 try later", now=T0)
    assert store.claim_due_jobs(T0 + timedelta(minutes=1), "w", limit=1, lease=LEASE) == []
    [again] = store.claim_due_jobs(retry_at, "w", limit=1, lease=LEASE)
    assert (again.attempts, again.last_error) == (2, "421 try later")


def test_fail_replay_and_cancel(store: Store) -> None:
    failing, running = _job(due_s=0), _job(due_s=1)
    store.enqueue([failing, running])
    store.claim_due_jobs(T0 + timedelta(seconds=1), "w", limit=2, lease=LEASE)
    assert store.fail_job(failing.id, "w", "550 no such user", now=T0)
    assert [j.id for j in store.list_jobs(JobStatus.FAILED)] == [failing.id]
    assert not store.replay_job(running.id, now=T0)  # still running: nothing to replay
    assert store.replay_job(failing.id, now=T0 + timedelta(hours=1))
    replayed = store.get_job(failing.id)
    assert replayed is not None
    assert (replayed.status, replayed.attempts, replayed.due_at) == (
        JobStatus.PENDING,
        0,
        T0 + timedelta(hours=1),
    )
    # Cancelling a running job fences its worker out.
    assert store.cancel_job(running.id, now=T0)
    assert not store.complete_job(running.id, "w", T0)
    assert not store.cancel_job(running.id, now=T0)


def test_two_workers_claim_every_job_exactly_once(open_store: Callable[[], SqlStore]) -> None:
    workers = [open_store(), open_store()]
    workers[0].enqueue([_job(due_s=i % 7) for i in range(200)])
    now = T0 + timedelta(minutes=1)
    start = threading.Barrier(4)

    def drain(i: int) -> list[str]:
        taken: list[str] = []
        start.wait(timeout=10)  # all four claim at the same time
        while batch := workers[i % 2].claim_due_jobs(now, f"w{i}", limit=3, lease=LEASE):
            taken += [j.id for j in batch]
        return taken

    with ThreadPoolExecutor(4) as pool:
        per_worker = list(pool.map(drain, range(4)))
    taken = [job_id for ids in per_worker for job_id in ids]
    assert len(taken) == 200 and len(set(taken)) == 200


def test_postgres_claim_skips_rows_another_node_has_locked(pg_url: str) -> None:
    store = SqlStore.open(pg_url)
    locked, free = _job(due_s=0), _job(due_s=1)
    store.enqueue([locked, free])
    conninfo = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as other:
        other.execute("SELECT id FROM outbox WHERE id = %s FOR UPDATE", (locked.id,))
        result: list[list[OutboxJob]] = []
        claimer = threading.Thread(
            target=lambda: result.append(
                store.claim_due_jobs(T0 + timedelta(seconds=5), "w", limit=10, lease=LEASE)
            )
        )
        claimer.start()
        claimer.join(timeout=10)
        assert not claimer.is_alive(), "claim blocked on a locked row instead of skipping it"
        other.rollback()
    store.close()
    assert [j.id for j in result[0]] == [free.id]
