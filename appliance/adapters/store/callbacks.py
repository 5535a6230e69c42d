"""Callbacks: one open per number and service, claimed by one node at a time under a lease."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import callback_attempts, callbacks
from appliance.adapters.store.tickets import insert_ticket
from appliance.domain.records import (
    ACTIVE_CALLBACK_STATUSES,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    OutboxJob,
    Ticket,
)

_ACTIVE = [s.value for s in ACTIVE_CALLBACK_STATUSES]
_CLOSING = (CallbackStatus.DONE, CallbackStatus.NOT_REACHED, CallbackStatus.CANCELLED)


class CallbacksMixin(SqlBase):
    def create_or_merge_callback(
        self,
        callback: Callback,
        *,
        ticket: Ticket | None = None,
        jobs: Sequence[OutboxJob] = (),
    ) -> tuple[Callback, bool]:
        """Insert the callback (with its ticket and jobs), or return the open one it merges into.

        When it merges, nothing is written: the caller is told the existing ticket instead.
        """
        with self._tx() as conn:
            existing = _active(conn, callback.service, callback.number)
            if existing is not None:
                return existing, True
            try:
                # A savepoint: another node may insert the same number between our read and write.
                with conn.begin_nested():
                    if ticket is not None:
                        insert_ticket(conn, ticket)
                    conn.execute(insert(callbacks).values(**_values(callback)))
            except IntegrityError:
                existing = _active(conn, callback.service, callback.number)
                if existing is None:
                    raise
                return existing, True
            self._insert_jobs(conn, jobs)
        return callback, False

    def claim_due_callbacks(
        self, now: datetime, node: str, *, limit: int, lease: timedelta
    ) -> list[Callback]:
        """Take up to `limit` due callbacks, oldest first; a dead node's expired claim is retaken."""
        c = callbacks.c
        due = or_(
            and_(c.status == CallbackStatus.OPEN.value, c.due_at <= now),
            and_(c.status == CallbackStatus.DIALLING.value, c.lease_until < now),
        )
        pick = (
            select(c.id)
            .where(due)
            .order_by(c.due_at, c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._tx() as conn:
            ids = list(conn.execute(pick).scalars())
            if not ids:
                return []
            stmt = (
                update(callbacks)
                .where(c.id.in_(ids))
                .values(
                    status=CallbackStatus.DIALLING.value,
                    claimed_by=node,
                    lease_until=now + lease,
                )
                .returning(*callbacks.c)
            )
            claimed = [_callback(r) for r in conn.execute(stmt)]
        return sorted(claimed, key=lambda cb: (cb.due_at, cb.created_at))

    def record_attempt(self, attempt: CallbackAttempt) -> None:
        bump = (
            update(callbacks)
            .where(callbacks.c.id == attempt.callback_id)
            .values(attempts=callbacks.c.attempts + 1)
        )
        with self._tx() as conn:
            conn.execute(insert(callback_attempts).values(**asdict(attempt)))
            conn.execute(bump)

    def finish_callback(
        self,
        callback_id: str,
        node: str,
        *,
        status: CallbackStatus,
        now: datetime,
        retry_at: datetime | None = None,
    ) -> bool:
        """Close the claim: OPEN again with retry_at, or a final status. Fenced on the claim."""
        stmt = update(callbacks).where(
            callbacks.c.id == callback_id,
            callbacks.c.claimed_by == node,
            callbacks.c.status == CallbackStatus.DIALLING.value,
        )
        if status is CallbackStatus.OPEN:
            if retry_at is None:
                raise ValueError("reopening a callback needs retry_at")
            stmt = stmt.values(status=status.value, due_at=retry_at, lease_until=None)
        elif status in _CLOSING:
            stmt = stmt.values(status=status.value, closed_at=now, lease_until=None)
        else:
            raise ValueError(f"cannot finish a callback as {status}")
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def renew_callback_lease(self, callback_id: str, node: str, lease_until: datetime) -> bool:
        """Keep a callback claimed while its call lasts; False once the claim was lost."""
        stmt = (
            update(callbacks)
            .where(
                callbacks.c.id == callback_id,
                callbacks.c.claimed_by == node,
                callbacks.c.status == CallbackStatus.DIALLING.value,
            )
            .values(lease_until=lease_until)
        )
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def cancel_callback(self, callback_id: str, *, now: datetime) -> bool:
        stmt = (
            update(callbacks)
            .where(callbacks.c.id == callback_id, callbacks.c.status.in_(_ACTIVE))
            .values(status=CallbackStatus.CANCELLED.value, closed_at=now, lease_until=None)
        )
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def get_callback(self, callback_id: str) -> Callback | None:
        with self._read() as conn:
            row = conn.execute(select(callbacks).where(callbacks.c.id == callback_id)).first()
        return None if row is None else _callback(row)

    def list_callbacks(
        self,
        *,
        status: CallbackStatus | None = None,
        service: str | None = None,
        limit: int = 100,
    ) -> list[Callback]:
        stmt = select(callbacks).order_by(callbacks.c.due_at, callbacks.c.created_at)
        if status is not None:
            stmt = stmt.where(callbacks.c.status == status.value)
        if service is not None:
            stmt = stmt.where(callbacks.c.service == service)
        with self._read() as conn:
            return [_callback(r) for r in conn.execute(stmt.limit(limit))]

    def list_attempts(self, callback_id: str) -> list[CallbackAttempt]:
        stmt = (
            select(callback_attempts)
            .where(callback_attempts.c.callback_id == callback_id)
            .order_by(callback_attempts.c.started_at, callback_attempts.c.id)
        )
        with self._read() as conn:
            return [_attempt(r) for r in conn.execute(stmt)]


def _active(conn: Connection, service: str, number: str) -> Callback | None:
    stmt = select(callbacks).where(
        callbacks.c.service == service,
        callbacks.c.number == number,
        callbacks.c.status.in_(_ACTIVE),
    )
    row = conn.execute(stmt).first()
    return None if row is None else _callback(row)


def _values(callback: Callback) -> dict[str, Any]:
    values = asdict(callback)
    values["status"] = callback.status.value
    return values


def _callback(row: Row[Any]) -> Callback:
    values = row._asdict()
    values["status"] = CallbackStatus(values["status"])
    return Callback(**values)


def _attempt(row: Row[Any]) -> CallbackAttempt:
    values = row._asdict()
    del values["id"]
    return CallbackAttempt(**values)
