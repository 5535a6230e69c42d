"""Transcripts for voicemail: the outbox's "transcribe" jobs (off the call path, bounded by the
transcriber) and the voicemail email's short wait for the transcript before it goes without one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from appliance.domain.records import Message, OutboxJob, TranscriptStatus
from appliance.errors import ApplianceError, PermanentDeliveryError
from appliance.ports.clock import Clock
from appliance.ports.delivery import Transcriber
from appliance.ports.store import Store
from appliance.services.integrations import Integrations
from appliance.services.notifications import VoicemailEmails, VoicemailMailSettings

log = logging.getLogger(__name__)

TRANSCRIBE_JOB = "transcribe"

IntegrationsSource = Callable[[], Awaitable[Integrations]]
TranscriberSource = Callable[[], Awaitable[Transcriber]]


async def _message(store: Store, job: OutboxJob) -> Message:
    message = await asyncio.to_thread(store.get_message, str(job.payload["message_id"]))
    if message is None:
        raise PermanentDeliveryError(f"message {job.payload['message_id']} no longer exists")
    return message


def transcribe_handler(
    store: Store, transcriber: TranscriberSource
) -> Callable[[OutboxJob], Awaitable[None]]:
    """Decode the message's WAV and store the text; a failure that retrying cannot fix marks the
    transcript failed (so the email stops waiting) before the job fails."""

    async def handle(job: OutboxJob) -> None:
        message = await _message(store, job)
        if message.transcript_status is TranscriptStatus.DONE:
            return  # a repeat after a crash between storing the text and settling the job
        language = str(job.payload.get("language", "es"))
        try:
            text = await (await transcriber()).transcribe(Path(message.path), language)
        except ApplianceError as exc:
            if not exc.transient:
                await asyncio.to_thread(store.set_transcript, message.id,
                                        status=TranscriptStatus.FAILED, text=None)
            raise
        await asyncio.to_thread(store.set_transcript, message.id,
                                status=TranscriptStatus.DONE, text=text)
        log.info("%s transcript stored for message %s: %d characters", message.call_id,
                 message.id, len(text))

    return handle


class VoicemailBuilder:
    """Builds a voicemail email with the service's options, once its transcript is ready or the
    service's wait (counted from when the message was filed) is over."""

    def __init__(self, store: Store, clock: Clock, settings: VoicemailMailSettings,
                 integrations: IntegrationsSource, *, poll_s: float = 0.25) -> None:
        self._store, self._clock, self._settings = store, clock, settings
        self._integrations, self._poll_s = integrations, poll_s

    async def build(self, job: OutboxJob) -> EmailMessage:
        message = await _message(self._store, job)
        options = (await self._integrations()).email_for(message.service)
        if message.transcript_status is TranscriptStatus.PENDING:
            deadline = job.created_at + timedelta(seconds=options.transcript_wait_s)
            message = await self._wait_for_transcript(message, job, deadline)
        settings = replace(self._settings, sample_width=options.sample_width)
        return await VoicemailEmails(self._store, settings).build(job)

    async def _wait_for_transcript(self, message: Message, job: OutboxJob,
                                   deadline: datetime) -> Message:
        # Polling the row (not holding a thread) keeps the wait cheap; transcription runs in its
        # own worker, so a mail slot waiting here never blocks the transcript it waits for.
        while message.transcript_status is TranscriptStatus.PENDING:
            remaining = (deadline - self._clock.now()).total_seconds()
            if remaining <= 0:
                log.info("%s email for message %s goes without its transcript", job.id, message.id)
                return message
            await asyncio.sleep(min(self._poll_s, remaining))
            message = await _message(self._store, job)
        return message
