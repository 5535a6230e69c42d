"""Voicemail emails: what the outbox's "voicemail" jobs send, built from the stored message."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from appliance.adapters.mail.compose import (
    DEFAULT_TEMPLATES,
    Envelope,
    VoicemailFacts,
    compose_voicemail,
    stable_message_id,
)
from appliance.domain.records import OutboxJob, TranscriptStatus
from appliance.errors import PermanentDeliveryError
from appliance.ports.store import Store
from appliance.services.business import load_catalog


@dataclass(frozen=True)
class VoicemailMailSettings:
    sender: str
    public_url: str  # base of the "listen to the message" link
    fallback_recipients: tuple[str, ...] = ("staff@localhost",)
    sample_width: Literal[1, 2] = 1  # 8-bit as Portav ships; 16-bit on request


class VoicemailEmails:
    def __init__(self, store: Store, settings: VoicemailMailSettings) -> None:
        self._store, self._settings = store, settings

    async def build(self, job: OutboxJob) -> EmailMessage:
        return await asyncio.to_thread(self._build, job)

    def _build(self, job: OutboxJob) -> EmailMessage:
        message = self._store.get_message(str(job.payload["message_id"]))
        if message is None:
            raise PermanentDeliveryError(f"message {job.payload['message_id']} no longer exists")
        catalog = load_catalog(self._store)
        profile = catalog.profiles.get(message.service)
        received = profile.calendar.local(message.recorded_at) if profile else message.recorded_at
        language = str(job.payload.get("language", "es"))
        transcript = message.transcript if message.transcript_status == TranscriptStatus.DONE else None
        facts = VoicemailFacts(
            caller=message.caller, caller_name="", service=message.service, received_at=received,
            duration_s=message.duration_s, ticket=job.payload.get("reference"),
            message_url=f"{self._settings.public_url.rstrip('/')}/messages/{message.id}",
            transcript=transcript,
            transcription_on=message.transcript_status != TranscriptStatus.NONE,
        )
        recipients = tuple(job.payload.get("to") or ()) or self._settings.fallback_recipients
        domain = self._settings.sender.rpartition("@")[2] or "localhost"
        envelope = Envelope(self._settings.sender, recipients, stable_message_id(job.id, domain))
        templates = DEFAULT_TEMPLATES.get(language, DEFAULT_TEMPLATES["es"])
        return compose_voicemail(facts, templates, envelope, Path(message.path),
                                 sample_width=self._settings.sample_width)
