"""What the services need from the store, as narrow Protocols, plus the store's own conflict errors.

Every method is synchronous: callers on the event loop run it in a thread (asyncio.to_thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from appliance.domain.records import (
    ApiKey,
    AuditEntry,
    Call,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CallEvent,
    CallQuery,
    JobStatus,
    Message,
    OutboxJob,
    OutboxStats,
    Role,
    Setting,
    Ticket,
    TicketStatus,
    TranscriptStatus,
    User,
)
from appliance.errors import StoreError


class StoreConflict(StoreError):
    """A write clashed with existing data (duplicate key); retrying the same write cannot help."""

    error_id = "store-conflict"
    transient = False


class SettingVersionConflict(StoreConflict):
    """Someone else saved the setting since the caller read it."""

    error_id = "setting-version-conflict"


class CallStore(Protocol):
    def start_call(self, call: Call) -> None: ...
    def add_call_event(self, event: CallEvent) -> None: ...
    def add_call_events(self, events: Sequence[CallEvent]) -> None: ...
    def finish_call(self, call_id: str, *, ended_at: datetime, outcome: str) -> bool: ...
    def get_call(self, call_id: str) -> tuple[Call, list[CallEvent]] | None: ...
    def list_calls(
        self, query: CallQuery | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[Call]: ...


class MessageStore(Protocol):
    def save_message(self, message: Message, *, jobs: Sequence[OutboxJob] = ()) -> None: ...
    def get_message(self, message_id: str) -> Message | None: ...
    def list_messages(
        self,
        *,
        service: str | None = None,
        handled: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]: ...
    def mark_message_handled(self, message_id: str, *, by: str, at: datetime) -> bool: ...
    def set_transcript(
        self, message_id: str, *, status: TranscriptStatus, text: str | None
    ) -> bool: ...
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
        """Retention: blank the recording and/or transcript of old messages, keep the rows."""
        ...


class TicketStore(Protocol):
    def allocate_ticket_sequence(self) -> int: ...
    def create_ticket(self, ticket: Ticket, *, jobs: Sequence[OutboxJob] = ()) -> None: ...
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...
    def get_ticket_by_number(self, number: str) -> Ticket | None: ...
    def list_tickets(
        self, *, since: datetime | None = None, service: str | None = None, limit: int = 100
    ) -> list[Ticket]: ...
    def set_ticket_status(self, ticket_id: str, status: TicketStatus) -> bool: ...


class CallbackStore(Protocol):
    def create_or_merge_callback(
        self,
        callback: Callback,
        *,
        ticket: Ticket | None = None,
        jobs: Sequence[OutboxJob] = (),
    ) -> tuple[Callback, bool]: ...
    def claim_due_callbacks(
        self, now: datetime, node: str, *, limit: int, lease: timedelta
    ) -> list[Callback]: ...
    def record_attempt(self, attempt: CallbackAttempt) -> None: ...
    def finish_callback(
        self,
        callback_id: str,
        node: str,
        *,
        status: CallbackStatus,
        now: datetime,
        retry_at: datetime | None = None,
    ) -> bool: ...
    def renew_callback_lease(self, callback_id: str, node: str, lease_until: datetime) -> bool: ...
    def cancel_callback(self, callback_id: str, *, now: datetime) -> bool: ...
    def get_callback(self, callback_id: str) -> Callback | None: ...
    def list_callbacks(
        self,
        *,
        status: CallbackStatus | None = None,
        service: str | None = None,
        limit: int = 100,
    ) -> list[Callback]: ...
    def list_attempts(self, callback_id: str) -> list[CallbackAttempt]: ...


class JobClaims(Protocol):
    """What a delivery worker needs of the outbox: claim due jobs, then settle each (fenced)."""

    def claim_due_jobs(
        self,
        now: datetime,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxJob]: ...
    def complete_job(self, job_id: str, worker: str, now: datetime) -> bool: ...
    def retry_job(
        self, job_id: str, worker: str, due_at: datetime, error: str, *, now: datetime
    ) -> bool: ...
    def fail_job(self, job_id: str, worker: str, error: str, *, now: datetime) -> bool: ...


class Outbox(JobClaims, Protocol):
    def enqueue(self, jobs: Sequence[OutboxJob]) -> int: ...
    def renew_job_lease(self, job_id: str, worker: str, lease_until: datetime) -> bool: ...
    def replay_job(self, job_id: str, *, now: datetime) -> bool: ...
    def cancel_job(self, job_id: str, *, now: datetime) -> bool: ...
    def get_job(self, job_id: str) -> OutboxJob | None: ...
    def list_jobs(
        self,
        status: JobStatus | None = None,
        *,
        kind: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[OutboxJob]: ...
    def outbox_stats(self) -> OutboxStats: ...


class SettingsStore(Protocol):
    def get_setting(self, key: str) -> Setting | None: ...
    def put_setting(
        self, key: str, value: Any, *, expected_version: int, now: datetime
    ) -> Setting: ...
    def list_settings(self) -> list[Setting]: ...


class UserStore(Protocol):
    def create_user(self, user: User) -> None: ...
    def get_user(self, username: str) -> User | None: ...
    def set_password_hash(
        self, username: str, password_hash: str, *, must_change: bool = False
    ) -> bool: ...
    def update_user(
        self, username: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> bool: ...
    def list_users(self) -> list[User]: ...


class AuditStore(Protocol):
    def append_audit(self, entry: AuditEntry) -> None: ...
    def list_audit(
        self, *, actor: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]: ...


class ApiKeyStore(Protocol):
    def create_api_key(self, key: ApiKey) -> None: ...
    def verify_api_key(self, key_hash: str) -> ApiKey | None: ...
    def revoke_api_key(self, key_id: str) -> bool: ...
    def list_api_keys(self) -> list[ApiKey]: ...


class Store(
    CallStore,
    MessageStore,
    TicketStore,
    CallbackStore,
    Outbox,
    SettingsStore,
    UserStore,
    AuditStore,
    ApiKeyStore,
    Protocol,
):
    """Everything at once, for the composition root and the health check."""

    def ping(self) -> None:
        """Prove the store is writable now; raise StoreError otherwise."""
        ...

    def close(self) -> None: ...
