"""Voicemail messages: the row and its delivery jobs are committed together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update

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

    def purge_message_media(
        self,
        *,
        before: datetime,
        service: str | None = None,
        exclude: Sequence[str] = (),
        recordings: bool = True,
        transcripts: bool = True,
        limit: int = 500,
    ) -> list[Message]:
        """Forget the audio (path "" and size 0) and/or transcript of messages recorded before
        `before`; the rows stay as metadata. Returns the messages as they were, so the caller
        can delete their files (after this commit: a crash then leaks a file, never a row
        pointing at nothing)."""
        wanted = []
        if recordings:
            wanted.append(messages.c.path != "")
        if transcripts:
            wanted.append(messages.c.transcript.is_not(None))
        if not wanted:
            return []
        where = [messages.c.recorded_at < before, or_(*wanted)]
        if service is not None:
            where.append(messages.c.service == service)
        if exclude:
            where.append(messages.c.service.not_in(list(exclude)))
        values: dict[str, Any] = {}
        if recordings:
            values.update(path="", size=0)
        if transcripts:
            values.update(transcript=None)
        query = select(messages).where(and_(*where)).order_by(messages.c.recorded_at).limit(limit)
        with self._tx() as conn:
            found = [_message(r) for r in conn.execute(query)]
            ids = [m.id for m in found]
            if ids:
                conn.execute(update(messages).where(messages.c.id.in_(ids)).values(**values))
        return found


def _message(row: Row[Any]) -> Message:
    values = row._asdict()
    values["transcript_status"] = TranscriptStatus(values["transcript_status"])
    return Message(**values)
