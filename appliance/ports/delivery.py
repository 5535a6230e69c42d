"""What the delivery services need from mail, export, webhook and speech-to-text adapters.

Every method raises only errors from appliance.errors: DeliveryError / ExportError with `transient`.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

# Field names an export statement or SOAP mapping may refer to. Values are str, int, float,
# datetime or None; `event_id` is the outbox job id, stable across retries, for receivers
# that want to drop replays (INSERT ... WHERE NOT EXISTS / ON CONFLICT DO NOTHING).
EXPORT_FIELDS: frozenset[str] = frozenset(
    {
        "event_id",
        "kind",
        "ticket",
        "caller",
        "caller_name",
        "callback_number",
        "service",
        "mode",
        "language",
        "created_at",
        "duration_s",
        "transcript",
        "message_url",
        "id_number",
        "request_type",
        "outcome",
        "attempts",
        "scheduled_for",
    }
)

ExportValue = object
ExportFields = Mapping[str, ExportValue]


class Mailer(Protocol):
    """Hands one finished email to a relay or a spool."""

    async def send(self, message: EmailMessage) -> None: ...


class TicketExporter(Protocol):
    """Pushes one event (ticket created, message left, callback outcome) to an internal system."""

    async def export(self, event_kind: str, fields: ExportFields) -> None: ...


class Transcriber(Protocol):
    """Turns a recorded WAV file into text in the given language."""

    async def transcribe(self, wav_path: Path, language: str) -> str: ...


class Webhook(Protocol):
    """POSTs one signed JSON event; `idempotency_key` lets the receiver drop a replay."""

    async def post(
        self, event_kind: str, payload: Mapping[str, object], *, idempotency_key: str
    ) -> None: ...
