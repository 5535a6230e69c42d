"""The delivery benchmark: callers leave messages and hang up; the appliance emails each one to
an aiosmtpd server run here; per message, the time from the caller's "#" and from the hangup
to the moment the SMTP server accepted the DATA."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from appliance.adapters.store.sql_store import SqlStore
from bench.appliance_proc import (
    REPO,
    BenchConfig,
    free_port,
    free_udp_port,
    running_appliance,
)
from bench.calls import make_caller_audio
from bench.sipp_load import LoadPlan, SippCounts, run_load
from bench.stats import Summary, summarize

_MESSAGE_URL = re.compile(r"/messages/([0-9a-f]{32})")


@dataclass
class TimedSink:
    """aiosmtpd handler: the wall-clock instant each message was accepted, by message id."""

    accepted: dict[str, float] = field(default_factory=dict)
    unmatched: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.time()  # before parsing: the 250 goes out right after this returns
        message_id = message_id_in(envelope.original_content or b"")
        with self._lock:
            if message_id is None:
                self.unmatched += 1
            else:
                self.accepted.setdefault(message_id, now)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)


def message_id_in(raw: bytes) -> str | None:
    """The appliance's message id, from the "listen to the message" link in any text part."""
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            found = _MESSAGE_URL.search(str(part.get_content()))
            if found:
                return found.group(1)
    return None


@dataclass(frozen=True)
class DeliveryResult:
    calls: int
    sipp: SippCounts
    emails: int
    unmatched_emails: int
    partial_emails: int  # emails of messages filed as partial while the caller still spoke
    from_hash_ms: Summary  # "#" detected (message_recorded) -> 250 to DATA
    from_hangup_ms: Summary  # call ended_at (the caller's BYE) -> 250 to DATA


@dataclass
class Latencies:
    from_hash: list[float] = field(default_factory=list)
    from_hangup: list[float] = field(default_factory=list)
    partial: int = 0  # emails for partial (crash-recovered) messages: not what the callers left


def latencies(store_url: str, accepted: dict[str, float]) -> Latencies:
    store = SqlStore.open(store_url, migrate=False)
    out = Latencies()
    try:
        for message_id, at in accepted.items():
            message = store.get_message(message_id)
            found = store.get_call(message.call_id) if message and message.call_id else None
            if message is None or found is None:
                continue
            if message.partial:
                out.partial += 1
                continue
            call, events = found
            recorded = [e.at for e in events if e.kind == "message_recorded"]
            if recorded:
                out.from_hash.append((at - recorded[0].timestamp()) * 1000)
            if call.ended_at is not None:
                out.from_hangup.append((at - call.ended_at.timestamp()) * 1000)
    finally:
        store.close()
    return out


def _wait_for(sink: TimedSink, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sink.count() < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def run_delivery(calls: int, concurrent: int, work: Path, source: Path = REPO) -> DeliveryResult:
    work.mkdir(parents=True, exist_ok=True)
    make_caller_audio(work)
    sink = TimedSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    cfg = BenchConfig(data_dir=work / "var", sip_port=free_port(socket.SOCK_DGRAM),
                      web_port=free_port(), smtp_port=smtp_port)
    # the caller hangs up 16.3 s after the answer: `concurrent` calls in progress at a time
    plan = LoadPlan(level=concurrent, calls=calls, rate=concurrent / 16.5)
    try:
        with running_appliance(cfg, work, source) as app:
            sipp = run_load(plan, f"127.0.0.1:{cfg.sip_port}", free_udp_port(),
                            free_udp_port(pair=True), work, scenario="uac_message_hangup.xml")
            _wait_for(sink, sipp.counts.successful, timeout=60)
            if app.process.poll() is not None:
                raise RuntimeError(f"appliance died:\n{app.log_tail()}")
    finally:
        controller.stop()
    found = latencies(f"sqlite:///{cfg.data_dir / 'desborde.sqlite3'}", dict(sink.accepted))
    return DeliveryResult(calls=calls, sipp=sipp.counts, emails=sink.count(),
                          unmatched_emails=sink.unmatched, partial_emails=found.partial,
                          from_hash_ms=summarize(found.from_hash),
                          from_hangup_ms=summarize(found.from_hangup))
