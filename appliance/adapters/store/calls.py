"""Calls and their timestamped events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, insert, select, true, update

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import call_events, calls
from appliance.domain.records import Call, CallEvent, CallQuery


class CallsMixin(SqlBase):
    def start_call(self, call: Call) -> None:
        with self._tx() as conn:
            conn.execute(insert(calls).values(**asdict(call)))

    def add_call_event(self, event: CallEvent) -> None:
        self.add_call_events([event])

    def add_call_events(self, events: Sequence[CallEvent]) -> None:
        """Several events of a call in one transaction (one fsync, not one per event)."""
        if events:
            with self._tx() as conn:
                conn.execute(insert(call_events), [asdict(e) for e in events])

    def finish_call(self, call_id: str, *, ended_at: datetime, outcome: str) -> bool:
        query = (
            update(calls).where(calls.c.id == call_id).values(ended_at=ended_at, outcome=outcome)
        )
        with self._tx() as conn:
            return conn.execute(query).rowcount == 1

    def get_call(self, call_id: str) -> tuple[Call, list[CallEvent]] | None:
        # Events in the order they happened; the id breaks ties within one timestamp.
        events_query = (
            select(call_events)
            .where(call_events.c.call_id == call_id)
            .order_by(call_events.c.at, call_events.c.id)
        )
        with self._read() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).first()
            if row is None:
                return None
            events = [_event(r) for r in conn.execute(events_query)]
        return _call(row), events

    def list_calls(
        self, query: CallQuery | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[Call]:
        stmt = (
            select(calls)
            .where(_call_filter(query or CallQuery()))
            .order_by(calls.c.started_at.desc(), calls.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._read() as conn:
            return [_call(r) for r in conn.execute(stmt)]


def _call_filter(query: CallQuery) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = true()
    if query.service is not None:
        clause = clause & (calls.c.service == query.service)
    if query.outcome is not None:
        clause = clause & (calls.c.outcome == query.outcome)
    if query.caller is not None:
        clause = clause & (calls.c.caller == query.caller)
    if query.since is not None:
        clause = clause & (calls.c.started_at >= query.since)
    if query.until is not None:
        clause = clause & (calls.c.started_at < query.until)
    return clause


def _call(row: Row[Any]) -> Call:
    return Call(**row._asdict())


def _event(row: Row[Any]) -> CallEvent:
    values = row._asdict()
    del values["id"]
    return CallEvent(**values)
