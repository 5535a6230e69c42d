"""A store with some of everything in it (calls, events, messages with recordings, tickets,
callbacks and attempts, outbox jobs, settings, users, audit) for the backup and retention tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.domain.records import (
    AuditEntry,
    Call,
    CallbackAttempt,
    CallEvent,
    Message,
    OutboxJob,
    Role,
    TranscriptStatus,
    User,
    new_id,
)
from appliance.ports.store import Store
from appliance.services.intake import Intake, TicketRequest

T0 = datetime(2026, 3, 2, 12, 0, 0, 123456, tzinfo=UTC)


def recording(recordings_dir: Path, name: str, size: int) -> Path:
    path = recordings_dir / "2026" / "03" / "02" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def message(recordings_dir: Path, n: int, *, service: str = "sales", days_old: int = 0,
            transcript: str | None = "hola") -> Message:
    path = recording(recordings_dir, f"call{n}-1.wav", 4000 + n)
    return Message(new_id(), f"call{n}@pbx", service, "+56221234567",
                   T0 - timedelta(days=days_old), 3.25 + n, str(path), 4000 + n,
                   transcript=transcript,
                   transcript_status=TranscriptStatus.DONE if transcript else TranscriptStatus.NONE)


def populate(store: Store, recordings_dir: Path, calls: int = 3) -> None:
    for n in range(calls):
        call = Call(f"call{n}@pbx", "sales", "+56221234567", "600", "business", "es",
                    T0 + timedelta(minutes=n), "node-a")
        store.start_call(call)
        store.add_call_event(CallEvent(call.id, call.started_at, "answered", {"n": n}))
        store.add_call_event(CallEvent(call.id, call.started_at + timedelta(seconds=1.5), "dtmf",
                                       {"digit": "2", "nested": {"list": [1, 2.5, None]}}))
        store.finish_call(call.id, ended_at=call.started_at + timedelta(seconds=40),
                          outcome="message_left")
        job = OutboxJob(new_id(), "voicemail", {"message": n, "to": ["a@b.c"]}, T0, T0, T0,
                        dedup_key=f"voicemail:{n}")
        store.save_message(message(recordings_dir, n), jobs=[job])
    intake = Intake(store)
    intake.create_ticket(TicketRequest(call_id="call0@pbx", service="sales", caller="+5622",
                                       callback_number="+56221234567", callback=True, due_at=T0),
                         T0)
    intake.create_ticket(TicketRequest(call_id="call1@pbx", service="sales", caller="+5622",
                                       callback_number=None, callback=False), T0)
    [callback] = store.list_callbacks()
    store.record_attempt(CallbackAttempt(callback.id, T0, "busy", ended_at=T0, duration_s=1.0))
    store.put_setting("services", [{"name": "sales"}], expected_version=0, now=T0)
    store.create_user(User("admin", "argon2-hash", Role.ADMIN, T0))
    store.append_audit(AuditEntry(T0, "admin", "service.save", "sales", None, {"a": 1}))
