"""The outbox handlers, wired from the static settings and the stored integrations: voicemail
emails (after the transcript, or without it), exports to each ODBC / SOAP / webhook target, and
transcription. Targets are re-read from the store per job, so an admin's edit applies at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import overload

from appliance.adapters.export.odbc import OdbcExporter
from appliance.adapters.export.soap import SoapExporter, SoapOperation, SoapSettings
from appliance.adapters.export.webhook import HttpWebhook, WebhookSettings
from appliance.adapters.transcribe.vosk import VoskTranscriber
from appliance.config import Settings
from appliance.domain.records import OutboxJob, TranscriptStatus
from appliance.domain.retry import RetryPolicy
from appliance.errors import PermanentDeliveryError
from appliance.ports.clock import Clock
from appliance.ports.delivery import ExportFields, Mailer, TicketExporter, Transcriber
from appliance.ports.store import Store
from appliance.services.delivery import (
    DeliveryWorker,
    Handler,
    WorkerSettings,
    export_handler,
    mail_handler,
)
from appliance.services.intake import EXPORT_JOB, VOICEMAIL_JOB
from appliance.services.integrations import (
    Integrations,
    OdbcTarget,
    SoapTarget,
    Target,
    WebhookTarget,
    load_integrations,
)
from appliance.services.notifications import VoicemailMailSettings
from appliance.services.transcription import (
    TRANSCRIBE_JOB,
    VoicemailBuilder,
    transcribe_handler,
)

log = logging.getLogger(__name__)

# Email retries quickly at first (a relay restarting), then backs off to hourly for a day or so.
MAIL_RETRY = RetryPolicy(
    intervals=tuple(timedelta(seconds=s) for s in (10, 30, 60, 120, 300)), max_attempts=30)
EXPORT_RETRY = RetryPolicy(
    intervals=tuple(timedelta(seconds=s) for s in (10, 30, 60, 300)), max_attempts=30)
TRANSCRIBE_RETRY = RetryPolicy(intervals=(timedelta(seconds=30),), max_attempts=3)


class WebhookExporter:
    """A webhook target as a TicketExporter: the event id is the receiver's idempotency key."""

    def __init__(self, webhook: HttpWebhook) -> None:
        self._webhook = webhook

    async def export(self, event_kind: str, fields: ExportFields) -> None:
        key = str(fields.get("event_id") or "")
        await self._webhook.post(event_kind, dict(fields), idempotency_key=key)


@overload
def exporter_for(target: OdbcTarget) -> OdbcExporter: ...
@overload
def exporter_for(target: SoapTarget) -> SoapExporter: ...
@overload
def exporter_for(target: WebhookTarget) -> WebhookExporter: ...
def exporter_for(target: Target) -> OdbcExporter | SoapExporter | WebhookExporter:
    """A fresh adapter for one stored target."""
    if isinstance(target, OdbcTarget):
        return OdbcExporter(target.connection, target.statements)
    if isinstance(target, SoapTarget):
        operations = {k: SoapOperation(c.name, c.fields) for k, c in target.operations.items()}
        return SoapExporter(SoapSettings(
            wsdl_url=target.wsdl_url, operations=operations, username=target.username,
            password=target.password, timeout_s=target.timeout_s,
            transient_fault_codes=frozenset(target.transient_fault_codes)))
    return WebhookExporter(HttpWebhook(WebhookSettings(target.url, target.secret, target.timeout_s)))


class StoredIntegrations:
    """The integrations as stored now, with adapters kept until the stored version changes
    (adapters hold connection slots and a loaded WSDL worth keeping between jobs)."""

    def __init__(self, store: Store, transcription_workers: int = 1) -> None:
        self._store, self._workers = store, max(1, transcription_workers)
        self._current = Integrations(version=-1)
        self._exporters: dict[str, TicketExporter] = {}
        self._transcriber: VoskTranscriber | None = None

    async def current(self) -> Integrations:
        latest = await asyncio.to_thread(load_integrations, self._store)
        if latest.version != self._current.version:
            self._current, self._exporters, self._transcriber = latest, {}, None
        return self._current

    async def exporter(self, name: str) -> TicketExporter:
        integrations = await self.current()
        target = integrations.targets.get(name)
        if target is None:
            raise PermanentDeliveryError(f"export target {name!r} is no longer configured")
        if name not in self._exporters:
            self._exporters[name] = exporter_for(target)
        return self._exporters[name]

    async def transcriber(self) -> Transcriber:
        integrations = await self.current()
        if self._transcriber is None:
            paths = {lang: Path(p) for lang, p in integrations.models.items()}
            self._transcriber = VoskTranscriber(paths, max_concurrent=self._workers)
        return self._transcriber


def export_dispatch(targets: StoredIntegrations, store: Store, public_url: str) -> Handler:
    """Export jobs name their target; message events get the message's link and transcript."""

    async def handle(job: OutboxJob) -> None:
        exporter = await targets.exporter(str(job.payload.get("target")))
        fields = dict(job.payload.get("fields", {}))
        message_id = job.payload.get("message_id")
        if message_id:
            fields.setdefault("message_url", f"{public_url.rstrip('/')}/messages/{message_id}")
            message = await asyncio.to_thread(store.get_message, str(message_id))
            if message is not None and message.transcript_status is TranscriptStatus.DONE:
                fields["transcript"] = message.transcript
        await export_handler(exporter)(replace(job, payload={**job.payload, "fields": fields}))

    return handle


def public_url(settings: Settings) -> str:
    web = settings.web
    return web.public_url or f"http://{web.bind}:{web.port}"


def build_handlers(
    settings: Settings, store: Store, clock: Clock, *, mailer: Mailer,
    targets: StoredIntegrations | None = None,
) -> dict[str, Handler]:
    """One handler per outbox job kind: "voicemail", "export" and "transcribe"."""
    targets = targets or StoredIntegrations(store, settings.limits.transcription_workers)
    mail = VoicemailMailSettings(sender=settings.smtp.from_address, public_url=public_url(settings))
    emails = VoicemailBuilder(store, clock, mail, targets.current)
    return {
        VOICEMAIL_JOB: mail_handler(mailer, emails.build),
        EXPORT_JOB: export_dispatch(targets, store, public_url(settings)),
        TRANSCRIBE_JOB: transcribe_handler(store, targets.transcriber),
    }


def build_workers(
    settings: Settings, store: Store, clock: Clock, *, mailer: Mailer
) -> list[DeliveryWorker]:
    """Transcription gets its own worker: a voicemail waiting for its transcript holds a mail
    slot, and must never hold the slot the transcript needs."""
    handlers = build_handlers(settings, store, clock, mailer=mailer)
    node = settings.node.name
    retry = {VOICEMAIL_JOB: MAIL_RETRY, EXPORT_JOB: EXPORT_RETRY, TRANSCRIBE_JOB: TRANSCRIBE_RETRY}
    delivery = {k: v for k, v in handlers.items() if k != TRANSCRIBE_JOB}
    speech = {TRANSCRIBE_JOB: handlers[TRANSCRIBE_JOB]}
    return [
        DeliveryWorker(store, delivery, clock, WorkerSettings(
            worker_id=node, retry=MAIL_RETRY, concurrency=settings.limits.delivery_workers,
            poll_interval_s=0.5), retry_by_kind=retry),
        DeliveryWorker(store, speech, clock, WorkerSettings(
            worker_id=f"{node}-stt", retry=TRANSCRIBE_RETRY,
            concurrency=max(1, settings.limits.transcription_workers), poll_interval_s=0.5,
            lease=timedelta(minutes=15)), retry_by_kind=retry),
    ]


def start_delivery(
    settings: Settings, store: Store, clock: Clock, mailer: Mailer
) -> Callable[[], Awaitable[None]]:
    """Start the outbox workers on the running loop; returns the coroutine function that stops them."""
    workers = build_workers(settings, store, clock, mailer=mailer)
    tasks = [asyncio.create_task(w.run(), name=f"delivery-{i}") for i, w in enumerate(workers)]

    async def stop() -> None:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*tasks)

    return stop

