"""What a caller leaves, kept: messages, tickets and callback requests written to the store together
with the outbox jobs that deliver them, in one transaction each. Blocking: run in a worker thread.

A recording in progress has a sidecar file (`<wav>.pending.json`) describing it; the sidecar is
removed only after the message row is committed, so a crash (even SIGKILL) mid-recording leaves a
sidecar that `recover_pending` turns into a message at the next start.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.adapters.media.recorder import repair_wav
from appliance.domain.dialplan import mask
from appliance.domain.hours import Mode
from appliance.domain.records import (
    Callback,
    Message,
    OutboxJob,
    Ticket,
    TranscriptStatus,
    new_id,
)
from appliance.domain.service_profile import ServiceProfile
from appliance.domain.tickets import TicketNumber
from appliance.errors import ConfigError
from appliance.ports.store import Store
from appliance.services.integrations import Integrations, load_integrations

log = logging.getLogger(__name__)

VOICEMAIL_JOB = "voicemail"
EXPORT_JOB = "export"
TRANSCRIBE_JOB = "transcribe"


@dataclass(frozen=True)
class PendingRecording:
    """Everything needed to file a recording as a message, even after a crash."""

    call_id: str
    service: str
    caller: str
    mode: str
    language: str
    started_at: datetime
    path: Path
    node: str = ""  # the appliance recording it: only that node may file it before it is stale

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(".pending.json")

    def write_sidecar(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"call_id": self.call_id, "service": self.service, "caller": self.caller,
                "mode": self.mode, "language": self.language,
                "started_at": self.started_at.isoformat(), "path": self.path.name,
                "node": self.node}
        tmp = self.sidecar.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.sidecar)

    @classmethod
    def read_sidecar(cls, sidecar: Path) -> PendingRecording:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        return cls(call_id=data["call_id"], service=data["service"], caller=data["caller"],
                   mode=data["mode"], language=data["language"],
                   started_at=datetime.fromisoformat(data["started_at"]),
                   path=sidecar.parent / data["path"], node=data.get("node", ""))


@dataclass(frozen=True)
class MessageFacts:
    seconds: float
    too_short: bool
    silent: bool
    partial: bool


def _job(kind: str, payload: dict[str, Any], now: datetime, dedup: str) -> OutboxJob:
    return OutboxJob(id=new_id(), kind=kind, payload=payload, due_at=now, created_at=now,
                     updated_at=now, dedup_key=dedup)


class Intake:
    """Files messages and tickets; every write carries the jobs that deliver it."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _integrations(self) -> Integrations:
        # Export targets and speech models are business settings read per message, so an
        # admin's change applies to the next caller; a broken document must not lose a message.
        try:
            return load_integrations(self._store)
        except ConfigError as exc:
            log.error("stored integrations unusable, filing without exports: %s", exc)
            return Integrations()

    def save_message(
        self, pending: PendingRecording, facts: MessageFacts, profile: ServiceProfile, now: datetime
    ) -> tuple[Message, str]:
        """Commit the message row and its delivery jobs; returns the message and its reference."""
        reference = TicketNumber(self._store.allocate_ticket_sequence()).digits
        size = pending.path.stat().st_size if pending.path.exists() else 0
        integrations = self._integrations()
        transcribe = profile.transcription and pending.language in integrations.models
        message = Message(
            id=new_id(), call_id=pending.call_id, service=pending.service, caller=pending.caller,
            recorded_at=pending.started_at, duration_s=round(facts.seconds, 2),
            path=str(pending.path), size=size, too_short=facts.too_short, silent=facts.silent,
            partial=facts.partial,
            transcript_status=TranscriptStatus.PENDING if transcribe else TranscriptStatus.NONE,
        )
        recipients = list(profile.destinations.for_mode(Mode(pending.mode)))
        payload = {"message_id": message.id, "reference": reference, "to": recipients,
                   "mode": pending.mode, "language": pending.language}
        jobs = [_job(VOICEMAIL_JOB, payload, now, f"voicemail:{message.id}")]
        if transcribe:
            jobs.append(_job(TRANSCRIBE_JOB, {"message_id": message.id,
                                              "language": pending.language},
                             now, f"transcribe:{message.id}"))
        fields = message_fields(message, reference, pending)
        jobs += [_job(EXPORT_JOB, {"target": t, "event_kind": "message_left",
                                   "message_id": message.id, "fields": fields},
                      now, f"{t}:message:{message.id}")
                 for t in integrations.targets_for("message_left")]
        self._store.save_message(message, jobs=jobs)
        pending.sidecar.unlink(missing_ok=True)
        log.info("%s message %s saved: %.1f s, reference %s", pending.call_id, message.id,
                 facts.seconds, reference)
        return message, reference

    def create_ticket(
        self, request: TicketRequest, now: datetime
    ) -> tuple[Ticket, bool]:
        """Create the ticket (and its callback). Returns (ticket, merged into an open one)."""
        sequence = self._store.allocate_ticket_sequence()
        ticket = Ticket(
            id=new_id(), number=TicketNumber(sequence).digits, sequence=sequence,
            service=request.service, caller=request.caller, created_at=now,
            callback_number=request.callback_number, request_type=request.request_type,
            customer_id=request.customer_id, call_id=request.call_id,
        )
        fields = ticket_fields(ticket, request)
        jobs = [_job(EXPORT_JOB, {"target": t, "event_kind": "ticket_created",
                                  "ticket_id": ticket.id, "fields": fields},
                     now, f"{t}:ticket:{ticket.id}")
                for t in self._integrations().targets_for("ticket_created")]
        if not (request.callback and request.callback_number):
            self._store.create_ticket(ticket, jobs=jobs)
            return ticket, False
        callback = Callback(
            id=new_id(), ticket_id=ticket.id, service=request.service,
            number=request.callback_number, due_at=request.due_at or now, created_at=now,
            slot_start=request.slot,
        )
        kept, merged = self._store.create_or_merge_callback(callback, ticket=ticket, jobs=jobs)
        if merged:
            existing = self._store.get_ticket(kept.ticket_id) if kept.ticket_id else None
            log.info("%s callback to %s merged into %s", request.call_id,
                     mask(request.callback_number), kept.id)
            return (existing or ticket), True
        return ticket, False

    def recover_pending(self, recordings_dir: Path, profiles: dict[str, ServiceProfile],
                        now: datetime, *, node: str | None, stale_after: timedelta) -> list[Message]:
        """File every recording a crash left behind (sidecar still present) as a partial message.

        `node`'s sidecars are filed at once: pass our node only at start-up, when nothing of ours
        can be recording; None files nothing at once. Every other sidecar only once older than
        `stale_after`, since with a shared recordings directory its node may still be recording.
        """
        recovered = []
        for sidecar in sorted(recordings_dir.rglob("*.pending.json")):
            try:
                pending = PendingRecording.read_sidecar(sidecar)
            except (OSError, ValueError, KeyError) as exc:
                log.error("unreadable recording sidecar %s: %s", sidecar, exc)
                continue
            if (node is None or pending.node != node) and now - pending.started_at < stale_after:
                continue
            seconds = repair_wav(pending.path) if pending.path.exists() else 0.0
            profile = profiles.get(pending.service) or next(iter(profiles.values()))
            facts = MessageFacts(seconds=seconds, too_short=seconds < 1.0, silent=False, partial=True)
            message, _ = self.save_message(pending, facts, profile, now)
            log.warning("%s recovered an interrupted recording: %.1f s", pending.call_id, seconds)
            recovered.append(message)
        return recovered


@dataclass(frozen=True)
class TicketRequest:
    call_id: str | None
    service: str
    caller: str
    callback_number: str | None
    callback: bool
    request_type: str | None = None
    customer_id: str | None = None
    slot: datetime | None = None
    due_at: datetime | None = None



# Export fields (appliance.ports.delivery.EXPORT_FIELDS) travel as JSON: instants as ISO text.


def message_fields(message: Message, reference: str, pending: PendingRecording) -> dict[str, Any]:
    return {"kind": "message", "ticket": reference, "caller": message.caller,
            "service": message.service, "mode": pending.mode, "language": pending.language,
            "created_at": message.recorded_at.isoformat(), "duration_s": message.duration_s,
            "transcript": None}


def ticket_fields(ticket: Ticket, request: TicketRequest) -> dict[str, Any]:
    scheduled = request.due_at if request.callback and request.callback_number else None
    return {"kind": "ticket", "ticket": ticket.number, "caller": ticket.caller,
            "callback_number": ticket.callback_number, "service": ticket.service,
            "created_at": ticket.created_at.isoformat(), "request_type": ticket.request_type,
            "id_number": ticket.customer_id,
            "scheduled_for": scheduled.isoformat() if scheduled else None}
