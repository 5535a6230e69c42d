"""Plain records the store keeps: calls and their events, messages, tickets, callbacks, the outbox,
settings, users, audit entries and API keys. Frozen dataclasses; every datetime is aware UTC.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonObject = dict[str, Any]


def new_id() -> str:
    """A fresh record id: 32 lowercase hex digits, so ids sort nowhere and leak nothing."""
    return uuid.uuid4().hex


class TranscriptStatus(enum.StrEnum):
    NONE = "none"  # transcription is off for this message
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    NOT_REACHED = "not_reached"
    CANCELLED = "cancelled"


class CallbackStatus(enum.StrEnum):
    OPEN = "open"
    DIALLING = "dialling"
    DONE = "done"
    NOT_REACHED = "not_reached"
    CANCELLED = "cancelled"


# A callback in one of these states blocks a second one for the same number and service.
ACTIVE_CALLBACK_STATUSES = (CallbackStatus.OPEN, CallbackStatus.DIALLING)


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    STAFF = "staff"


@dataclass(frozen=True)
class Call:
    id: str  # the SIP Call-ID of the inbound leg, or new_id() for calls we place
    service: str
    caller: str
    dialled: str
    mode: str
    language: str
    started_at: datetime
    node: str
    ended_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    at: datetime
    kind: str
    detail: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class CallQuery:
    """Filters for listing calls; None means "any"."""

    service: str | None = None
    outcome: str | None = None
    caller: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Message:
    id: str
    call_id: str | None
    service: str
    caller: str
    recorded_at: datetime
    duration_s: float
    path: str
    size: int
    too_short: bool = False
    silent: bool = False
    partial: bool = False  # the caller hung up while recording
    transcript: str | None = None
    transcript_status: TranscriptStatus = TranscriptStatus.NONE
    handled_at: datetime | None = None
    handled_by: str | None = None


@dataclass(frozen=True)
class Ticket:
    id: str
    number: str  # the formatted number with its check digit, as read to the caller
    sequence: int  # from Store.allocate_ticket_sequence()
    service: str
    caller: str
    created_at: datetime
    callback_number: str | None = None
    request_type: str | None = None
    customer_id: str | None = None
    status: TicketStatus = TicketStatus.OPEN
    call_id: str | None = None


@dataclass(frozen=True)
class Callback:
    id: str
    ticket_id: str | None
    service: str
    number: str
    due_at: datetime
    created_at: datetime
    status: CallbackStatus = CallbackStatus.OPEN
    slot_start: datetime | None = None
    attempts: int = 0
    claimed_by: str | None = None
    lease_until: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class CallbackAttempt:
    callback_id: str
    started_at: datetime
    outcome: str
    ended_at: datetime | None = None
    amd_verdict: str | None = None
    agent_leg: str | None = None
    duration_s: float | None = None
    detail: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxJob:
    id: str
    kind: str  # "email", "odbc", "soap", "webhook", "transcribe", ...
    payload: JsonObject
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    claimed_by: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    dedup_key: str | None = None  # a second job with the same key is not enqueued


@dataclass(frozen=True)
class OutboxStats:
    counts: dict[JobStatus, int]
    oldest_due: datetime | None  # oldest due_at among pending jobs

    @property
    def depth(self) -> int:
        return self.counts.get(JobStatus.PENDING, 0) + self.counts.get(JobStatus.RUNNING, 0)


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any  # any JSON value
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: Role
    created_at: datetime
    must_change_password: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    hash: str  # a digest of the key; the key itself is shown once and never stored
    created_at: datetime
    revoked: bool = False
