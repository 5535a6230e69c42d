"""Voicemail messages: the row and its delivery jobs are committed together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import messages
from appliance.domain.records import Message, OutboxJob, TranscriptStatus


class MessagesMixin(SqlBase):
    def save_message(self, message: Message, *, jobs: Sequence[OutboxJob] = ()) -> None:
        """Insert the message and enqueue its jobs in one transaction: both or neither."""
        values = asdict(message)
        values["transcript_status"] = message.transcript_status.value
        with self._tx() as conn:
            conn.execute(insert(messages).values(**values))
            self._insert_jobs(conn, jobs)

    def get_message(self, message_id: str) -> Message | None:
        with self._read() as conn:
            row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        return None if row is None else _message(row)

    def list_messages(
        self,
        *,
        service: str | None = None,
        handled: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]:
        stmt = select(messages).order_by(messages.c.recorded_at.desc(), messages.c.id)
        if service is not None:
            stmt = stmt.where(messages.c.service == service)
        if handled is not None:
            column = messages.c.handled_at
            stmt = stmt.where(column.is_not(None) if handled else column.is_(None))
        with self._read() as conn:
            return [_message(r) for r in conn.execute(stmt.limit(limit).offset(offset))]

    def mark_message_handled(self, message_id: str, *, by: str, at: datetime) -> bool:
        stmt = (
            update(messages)
            .where(messages.c.id == message_id, messages.c.handled_at.is_(None))
            .values(handled_at=at, handled_by=by)
        )
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def set_transcript(
        self, message_id: str, *, status: TranscriptStatus, text: str | None
    ) -> bool:
        stmt = (
            update(messages)
            .where(messages.c.id == message_id)
            .values(transcript_status=status.value, transcript=text)
        )
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1


def _message(row: Row[Any]) -> Message:
    values = row._asdict()
    values["transcript_status"] = TranscriptStatus(values["transcript_status"])
    return Message(**values)
