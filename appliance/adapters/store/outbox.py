"""The durable outbox: jobs are claimed under a lease, and only their claimant may settle them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Update, and_, func, or_, select, update

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import outbox
from appliance.domain.records import JobStatus, OutboxJob, OutboxStats

_c = outbox.c


class OutboxMixin(SqlBase):
    def enqueue(self, jobs: Sequence[OutboxJob]) -> int:
        """Add jobs; returns how many were new (a job whose dedup key exists is skipped)."""
        with self._tx() as conn:
            return self._insert_jobs(conn, jobs)

    def claim_due_jobs(
        self,
        now: datetime,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxJob]:
        """Take up to `limit` due jobs for `worker`; jobs whose lease expired are taken back.

        On PostgreSQL SKIP LOCKED lets concurrent workers pass each other's rows; on SQLite
        the write lock taken at BEGIN serialises claimers.
        """
        due = or_(
            and_(_c.status == JobStatus.PENDING.value, _c.due_at <= now),
            and_(_c.status == JobStatus.RUNNING.value, _c.lease_until < now),
        )
        pick = select(_c.id).where(due).order_by(_c.due_at, _c.created_at).limit(limit)
        if kinds is not None:
            pick = pick.where(_c.kind.in_(list(kinds)))
        with self._tx() as conn:
            ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
            if not ids:
                return []
            stmt = (
                update(outbox)
                .where(_c.id.in_(ids))
                .values(
                    status=JobStatus.RUNNING.value,
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=_c.attempts + 1,
                    updated_at=now,
                )
                .returning(*outbox.c)
            )
            claimed = [_job(r) for r in conn.execute(stmt)]
        return sorted(claimed, key=lambda job: (job.due_at, job.created_at))

    def complete_job(self, job_id: str, worker: str, now: datetime) -> bool:
        stmt = _fenced(job_id, worker).values(
            status=JobStatus.DONE.value, lease_until=None, updated_at=now
        )
        return self._apply(stmt)

    def retry_job(
        self, job_id: str, worker: str, due_at: datetime, error: str, *, now: datetime
    ) -> bool:
        stmt = _fenced(job_id, worker).values(
            status=JobStatus.PENDING.value,
            due_at=due_at,
            last_error=error,
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        return self._apply(stmt)

    def fail_job(self, job_id: str, worker: str, error: str, *, now: datetime) -> bool:
        stmt = _fenced(job_id, worker).values(
            status=JobStatus.FAILED.value, last_error=error, lease_until=None, updated_at=now
        )
        return self._apply(stmt)

    def renew_job_lease(self, job_id: str, worker: str, lease_until: datetime) -> bool:
        """Keep a long job (a slow transcription) claimed; False once the claim was lost."""
        return self._apply(_fenced(job_id, worker).values(lease_until=lease_until))

    def replay_job(self, job_id: str, *, now: datetime) -> bool:
        """A supervisor's "try again": a failed, cancelled or done job becomes due now."""
        settled = [JobStatus.FAILED.value, JobStatus.CANCELLED.value, JobStatus.DONE.value]
        stmt = (
            update(outbox)
            .where(_c.id == job_id, _c.status.in_(settled))
            .values(
                status=JobStatus.PENDING.value,
                due_at=now,
                attempts=0,
                claimed_by=None,
                lease_until=None,
                updated_at=now,
            )
        )
        return self._apply(stmt)

    def cancel_job(self, job_id: str, *, now: datetime) -> bool:
        """Cancel a job not yet done; a worker still running it then fails its fence."""
        open_ = [JobStatus.PENDING.value, JobStatus.RUNNING.value, JobStatus.FAILED.value]
        stmt = (
            update(outbox)
            .where(_c.id == job_id, _c.status.in_(open_))
            .values(status=JobStatus.CANCELLED.value, lease_until=None, updated_at=now)
        )
        return self._apply(stmt)

    def get_job(self, job_id: str) -> OutboxJob | None:
        with self._read() as conn:
            row = conn.execute(select(outbox).where(_c.id == job_id)).first()
        return None if row is None else _job(row)

    def list_jobs(
        self,
        status: JobStatus | None = None,
        *,
        kind: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[OutboxJob]:
        stmt = select(outbox).order_by(_c.due_at, _c.created_at, _c.id)
        if status is not None:
            stmt = stmt.where(_c.status == status.value)
        if kind is not None:
            stmt = stmt.where(_c.kind == kind)
        with self._read() as conn:
            return [_job(r) for r in conn.execute(stmt.limit(limit).offset(offset))]

    def outbox_stats(self) -> OutboxStats:
        counts_q = select(_c.status, func.count()).group_by(_c.status)
        oldest_q = select(func.min(_c.due_at)).where(_c.status == JobStatus.PENDING.value)
        with self._read() as conn:
            counts = {JobStatus(s): int(n) for s, n in conn.execute(counts_q)}
            oldest = conn.execute(oldest_q).scalar_one_or_none()
        return OutboxStats(counts=counts, oldest_due=oldest)

    def _apply(self, stmt: Update) -> bool:
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1


def _fenced(job_id: str, worker: str) -> Update:
    # Only the worker holding the claim may settle the job, and only while it is running.
    return update(outbox).where(
        _c.id == job_id, _c.claimed_by == worker, _c.status == JobStatus.RUNNING.value
    )


def _job(row: Row[Any]) -> OutboxJob:
    values = row._asdict()
    values["status"] = JobStatus(values["status"])
    return OutboxJob(**values)
