"""Escalation emails: what the outbox's "callback_failed" jobs send to a service's staff when a
callback was given up, with the history of every attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from appliance.adapters.mail.compose import stable_message_id
from appliance.domain.records import Callback, CallbackAttempt, OutboxJob
from appliance.errors import PermanentDeliveryError
from appliance.ports.store import Store
from appliance.services.business import load_catalog

_TEXT = {
    "es": {"subject": "Llamada de regreso no lograda: ticket {ticket} ({service})",
           "intro": "No pudimos comunicarnos con el cliente; la llamada de regreso se cerró.",
           "number": "Número", "service": "Servicio", "ticket": "Ticket",
           "requested": "Solicitada", "attempts": "Intentos"},
    "en": {"subject": "Callback not reached: ticket {ticket} ({service})",
           "intro": "We could not reach the customer; the callback was closed.",
           "number": "Number", "service": "Service", "ticket": "Ticket",
           "requested": "Requested", "attempts": "Attempts"},
}


@dataclass(frozen=True)
class CallbackMailSettings:
    sender: str
    fallback_recipients: tuple[str, ...] = ("staff@localhost",)


class CallbackFailureEmails:
    def __init__(self, store: Store, settings: CallbackMailSettings) -> None:
        self._store, self._settings = store, settings

    async def build(self, job: OutboxJob) -> EmailMessage:
        return await asyncio.to_thread(self._build, job)

    def _build(self, job: OutboxJob) -> EmailMessage:
        callback = self._store.get_callback(str(job.payload["callback_id"]))
        if callback is None:
            raise PermanentDeliveryError(f"callback {job.payload['callback_id']} no longer exists")
        ticket = self._store.get_ticket(callback.ticket_id) if callback.ticket_id else None
        attempts = self._store.list_attempts(callback.id)
        profile = load_catalog(self._store).profiles.get(callback.service)
        local: Callable[[datetime], datetime] = profile.calendar.local if profile else _same
        text = _TEXT.get(str(job.payload.get("language", "es")), _TEXT["es"])
        number = ticket.number if ticket else "-"
        msg = EmailMessage()
        msg["From"] = self._settings.sender
        recipients = tuple(job.payload.get("to") or ()) or self._settings.fallback_recipients
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = text["subject"].format(ticket=number, service=callback.service)
        msg["Date"] = format_datetime(callback.closed_at or job.created_at)
        domain = self._settings.sender.rpartition("@")[2] or "localhost"
        msg["Message-ID"] = stable_message_id(job.id, domain)
        msg.set_content(body(callback, number, attempts, text, local))
        return msg


def _same(at: datetime) -> datetime:
    return at


def body(callback: Callback, ticket: str, attempts: list[CallbackAttempt],
         text: dict[str, str], local: Callable[[datetime], datetime] = _same) -> str:
    """The plain-text history: who, which ticket, and one line per attempt."""

    def when(at: datetime) -> str:
        return f"{local(at):%Y-%m-%d %H:%M:%S %Z}".strip()

    lines = [text["intro"], "",
             f"{text['ticket']}: {ticket}", f"{text['service']}: {callback.service}",
             f"{text['number']}: {callback.number}",
             f"{text['requested']}: {when(callback.created_at)}", "",
             f"{text['attempts']}: {len(attempts)}"]
    for n, attempt in enumerate(attempts, start=1):
        amd = f", AMD {attempt.amd_verdict}" if attempt.amd_verdict else ""
        status = attempt.detail.get("customer_status") or attempt.detail.get("agent_status")
        sip = f", SIP {status}" if status else ""
        seconds = f", {attempt.duration_s:.0f} s" if attempt.duration_s is not None else ""
        lines.append(f"  {n}. {when(attempt.started_at)}  {attempt.outcome}{sip}{amd}{seconds}")
    return "\n".join(lines) + "\n"
