"""Calls with their event timeline, and messages committed together with their jobs."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import (
    Call,
    CallEvent,
    CallQuery,
    JobStatus,
    Message,
    OutboxJob,
    TranscriptStatus,
    new_id,
)
from appliance.ports.store import Store, StoreConflict
from tests.integration.store.conftest import T0

SANTIAGO = timezone(timedelta(hours=-3))


def _call(call_id: str = "abc@pbx", *, service: str = "sales", at: datetime = T0) -> Call:
    return Call(call_id, service, "+56221234567", "600", "business", "es", at, "node-a")


def _message(call_id: str | None = "abc@pbx") -> Message:
    return Message(new_id(), call_id, "sales", "+56221234567", T0, 12.5, "/var/m/1.wav", 200_044)


def _job(kind: str = "email", dedup: str | None = None) -> OutboxJob:
    return OutboxJob(new_id(), kind, {"to": ["a@b.c"], "n": 1}, T0, T0, T0, dedup_key=dedup)


def test_call_round_trip_with_events_in_order(store: Store) -> None:
    store.start_call(_call())
    # Two events share a timestamp and one was written late: the timeline sorts by time,
    # then by arrival.
    store.add_call_event(CallEvent("abc@pbx", T0 + timedelta(seconds=2), "menu", {"key": "2"}))
    store.add_call_event(CallEvent("abc@pbx", T0, "answered", {}))
    store.add_call_event(CallEvent("abc@pbx", T0 + timedelta(seconds=2), "record_start", {}))
    store.add_call_event(CallEvent("abc@pbx", T0 + timedelta(seconds=1), "prompt", {"p": [1]}))
    assert store.finish_call("abc@pbx", ended_at=T0 + timedelta(seconds=30), outcome="message")
    found = store.get_call("abc@pbx")
    assert found is not None
    call, events = found
    assert call == replace(_call(), ended_at=T0 + timedelta(seconds=30), outcome="message")
    assert [e.kind for e in events] == ["answered", "prompt", "menu", "record_start"]
    assert events[1].detail == {"p": [1]}


def test_a_batch_of_events_commits_together_in_order(store: Store) -> None:
    store.start_call(_call())
    batch = [CallEvent("abc@pbx", T0 + timedelta(seconds=i), f"step{i}", {"i": i}) for i in range(5)]
    store.add_call_events(batch)
    store.add_call_events([])
    found = store.get_call("abc@pbx")
    assert found is not None and [e.kind for e in found[1]] == [f"step{i}" for i in range(5)]
    with pytest.raises(StoreConflict):  # an event for an unknown call fails the whole batch
        store.add_call_events([CallEvent("abc@pbx", T0, "more"), CallEvent("nope", T0, "x")])
    found = store.get_call("abc@pbx")
    assert found is not None and len(found[1]) == 5


def test_unknown_call_and_event_without_call(store: Store) -> None:
    assert store.get_call("nope") is None
    assert not store.finish_call("nope", ended_at=T0, outcome="x")
    with pytest.raises(StoreConflict):
        store.add_call_event(CallEvent("nope", T0, "answered"))


def test_list_calls_filters_and_pages_newest_first(store: Store) -> None:
    for i in range(5):
        store.start_call(
            _call(f"c{i}", service="sales" if i % 2 else "support", at=T0 + timedelta(minutes=i))
        )
    assert [c.id for c in store.list_calls()] == ["c4", "c3", "c2", "c1", "c0"]
    assert [c.id for c in store.list_calls(CallQuery(service="sales"))] == ["c3", "c1"]
    since = CallQuery(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [c.id for c in store.list_calls(since)] == ["c2", "c1"]
    assert [c.id for c in store.list_calls(limit=2, offset=1)] == ["c3", "c2"]


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    local = datetime(2026, 3, 2, 9, 0, tzinfo=SANTIAGO)
    store.start_call(_call(at=local))
    found = store.get_call("abc@pbx")
    assert found is not None
    assert found[0].started_at == local
    assert found[0].started_at.tzinfo is UTC
    assert found[0].started_at.hour == 12


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.start_call(_call(at=datetime(2026, 3, 2, 12, 0)))
    assert store.list_calls() == []


def test_message_and_its_jobs_commit_together(store: Store) -> None:
    message = replace(_message(), partial=True, transcript_status=TranscriptStatus.PENDING)
    store.save_message(message, jobs=[_job("email"), _job("transcribe")])
    assert store.get_message(message.id) == message
    assert sorted(j.kind for j in store.list_jobs(JobStatus.PENDING)) == ["email", "transcribe"]


def test_a_failing_job_rolls_the_message_back(store: Store) -> None:
    bad = replace(_job(), due_at=datetime(2026, 1, 1))
    message = _message()
    with pytest.raises(ValueError):
        store.save_message(message, jobs=[_job(), bad])
    assert store.get_message(message.id) is None
    assert store.list_jobs() == []


def test_a_duplicate_message_enqueues_nothing(store: Store) -> None:
    message = _message()
    store.save_message(message)
    with pytest.raises(StoreConflict):
        store.save_message(message, jobs=[_job()])
    assert store.list_jobs() == []


def test_handling_and_transcripts(store: Store) -> None:
    first, second = _message(None), _message(None)
    store.save_message(first)
    store.save_message(second)
    assert store.mark_message_handled(first.id, by="ana", at=T0 + timedelta(hours=1))
    assert not store.mark_message_handled(first.id, by="bob", at=T0 + timedelta(hours=2))
    handled = store.get_message(first.id)
    assert handled is not None
    assert (handled.handled_by, handled.handled_at) == ("ana", T0 + timedelta(hours=1))
    assert [m.id for m in store.list_messages(handled=False)] == [second.id]
    assert [m.id for m in store.list_messages(handled=True)] == [first.id]
    assert store.set_transcript(second.id, status=TranscriptStatus.DONE, text="hola")
    got = store.get_message(second.id)
    assert got is not None
    assert (got.transcript, got.transcript_status) == ("hola", TranscriptStatus.DONE)


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    store.start_call(_call())
    writer = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE calls SET outcome = 'x'")
    started = time.monotonic()
    found = store.get_call("abc@pbx")
    elapsed = time.monotonic() - started
    writer.execute("ROLLBACK")
    writer.close()
    store.close()
    assert found is not None and found[0].outcome is None  # the last committed state
    assert elapsed < 2, "a read waited for the write lock"
