"""Building the voicemail email: templated subject and body, plain text + HTML parts, WAV attached.

Templates are `string.Template` text ($caller, $service, ...): admins write them, callers only fill
values, and no value can reach attributes or HTML markup.
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from appliance.adapters.mail.wav import SampleWidth, attachment_wav
from appliance.errors import ConfigError

PLACEHOLDERS = frozenset(
    {"caller", "caller_name", "service", "time", "duration", "ticket", "link", "transcript"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class VoicemailFacts:
    caller: str  # caller ID as received: untrusted text
    caller_name: str  # display name as received: untrusted text
    service: str
    received_at: datetime  # aware, already in the service's time zone
    duration_s: float
    ticket: str | None
    message_url: str
    transcript: str | None  # None: the transcript was not ready in time (or is disabled)
    transcription_on: bool = True  # False: the service does not transcribe; say so, not "pending"


@dataclass(frozen=True)
class MailTemplates:
    subject: str
    body: str
    transcript_pending: str
    transcript_off: str = "-"
    no_ticket: str = "-"
    time_format: str = "%Y-%m-%d %H:%M %Z"


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: tuple[str, ...]
    message_id: str  # from stable_message_id(): the same on every retry of one job


DEFAULT_TEMPLATES: dict[str, MailTemplates] = {
    "es": MailTemplates(
        subject="Mensaje de voz de $caller ($service) - ticket $ticket",
        body="Nuevo mensaje de voz.\n\nDe: $caller $caller_name\nServicio: $service\n"
        "Fecha: $time\nDuración: $duration\nTicket: $ticket\n\nEscuchar: $link\n\n"
        "Transcripción:\n$transcript\n",
        transcript_pending="(la transcripción no estaba lista; véala en la página del mensaje)",
        transcript_off="(este servicio no transcribe los mensajes)",
    ),
    "en": MailTemplates(
        subject="Voicemail from $caller ($service) - ticket $ticket",
        body="New voicemail.\n\nFrom: $caller $caller_name\nService: $service\n"
        "Time: $time\nDuration: $duration\nTicket: $ticket\n\nListen: $link\n\n"
        "Transcript:\n$transcript\n",
        transcript_pending="(the transcript was not ready; see it on the message page)",
        transcript_off="(this service does not transcribe messages)",
    ),
}


def stable_message_id(job_id: str, domain: str) -> str:
    """A Message-ID derived from the outbox job id, so a resend after a crash is recognisable."""
    return f"<desborde.{job_id}@{domain}>"


def validate_templates(templates: MailTemplates) -> None:
    """Raise ConfigError naming any placeholder we do not fill, or a malformed `$`."""
    for name, text in (("subject", templates.subject), ("body", templates.body)):
        tpl = string.Template(text)
        if not tpl.is_valid():
            raise ConfigError(f"mail {name} template has a malformed '$' placeholder: {text!r}")
        unknown = set(tpl.get_identifiers()) - PLACEHOLDERS
        if unknown:
            raise ConfigError(f"mail {name} template uses unknown placeholders {sorted(unknown)}")


def compose_voicemail(
    facts: VoicemailFacts,
    templates: MailTemplates,
    envelope: Envelope,
    wav_path: Path,
    *,
    sample_width: SampleWidth = 1,
) -> EmailMessage:
    validate_templates(templates)
    values = _values(facts, templates)
    msg = EmailMessage()
    msg["From"] = envelope.sender
    msg["To"] = ", ".join(envelope.recipients)
    msg["Subject"] = _one_line(string.Template(templates.subject).substitute(values))
    msg["Date"] = format_datetime(facts.received_at)
    msg["Message-ID"] = envelope.message_id
    msg.set_content(string.Template(templates.body).substitute(values))
    msg.add_alternative(_html_body(templates.body, values, facts.message_url), subtype="html")
    wav = attachment_wav(wav_path, sample_width)
    name = f"voicemail-{facts.ticket or facts.received_at.strftime('%Y%m%d-%H%M%S')}.wav"
    msg.add_attachment(wav, maintype="audio", subtype="wav", filename=name)
    return msg


def _values(facts: VoicemailFacts, templates: MailTemplates) -> dict[str, str]:
    minutes, seconds = divmod(round(facts.duration_s), 60)
    if facts.transcript:
        transcript = facts.transcript
    elif facts.transcription_on:
        transcript = templates.transcript_pending
    else:
        transcript = templates.transcript_off
    return {
        "caller": _one_line(facts.caller) or "?",
        "caller_name": _one_line(facts.caller_name),
        "service": _one_line(facts.service),
        "time": facts.received_at.strftime(templates.time_format),
        "duration": f"{minutes}:{seconds:02d}",
        "ticket": facts.ticket or templates.no_ticket,
        "link": facts.message_url,
        "transcript": transcript,
    }


def _one_line(text: str) -> str:
    # Caller-provided text must never break a header line or smuggle in control characters.
    return _CONTROL.sub(" ", text).strip()[:200]


def _html_body(template: str, values: dict[str, str], url: str) -> str:
    escaped = {k: html.escape(v) for k, v in values.items()}
    escaped["link"] = f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'
    text = string.Template(html.escape(template)).substitute(escaped)
    lines = "<br>\n".join(text.splitlines())
    return f'<!DOCTYPE html>\n<html><body><p style="font-family:sans-serif">\n{lines}\n</p></body></html>\n'
