"""Callback dialler against real SIP peers: a SipEngine on 127.0.0.1 (free ports), SIPp callback
targets and hunt groups from tests/assets/sipp/callbacks, a real store and the shipped prompts."""

from __future__ import annotations

import asyncio
import email
import random
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.prompt_catalog import PromptCatalog, shipped_sounds_dir
from appliance.adapters.sip.engine import EngineConfig, SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.callbacks import CallbackPolicy
from appliance.domain.records import Callback, Ticket
from appliance.domain.retry import RetryPolicy
from appliance.domain.service_profile import Destinations, ServiceProfile
from appliance.ports.clock import SystemClock
from appliance.services.business import load_catalog, save_profile
from appliance.services.callback_mail import CallbackFailureEmails, CallbackMailSettings
from appliance.services.callbacks import CALLBACK_FAILED_JOB, CallbackDialler, DiallerSettings
from appliance.services.delivery import DeliveryWorker, WorkerSettings, mail_handler
from appliance.services.intake import Intake, TicketRequest
from tests.support.rtp_pcap import caller_pcap as caller_pcap
from tests.support.sipp import ASSETS, Sipp, free_udp_port
from tests.support.tools import require_tool

SCENARIOS = ASSETS / "callbacks"
NUMBER = "+56912345678"

FAST_RETRY = RetryPolicy(intervals=(timedelta(seconds=1),), backoff_factor=1.0, max_attempts=3)
FAST = CallbackPolicy(ring_timeout_s=3.0, agent_ring_timeout_s=5.0, retry=FAST_RETRY)


def engine_config() -> EngineConfig:
    base = random.randrange(30000, 60000, 400)
    return EngineConfig(bind_ip="127.0.0.1", port=free_udp_port(), rtp_low=base,
                        rtp_high=base + 398)


@pytest.fixture
async def engine() -> AsyncIterator[SipEngine]:
    eng = SipEngine(engine_config(), default_kit())
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    yield opened
    opened.close()


@pytest.fixture
def prompts(tmp_path: Path) -> PromptCatalog:
    return PromptCatalog(tmp_path / "prompts", shipped_sounds_dir())


def espeak_wav(out: Path, text: str, pad: str = "0") -> Path:
    raw = out.with_suffix(".raw.wav")
    subprocess.run([require_tool("espeak-ng"), "-v", "es-419", "-s", "150", "-w", str(raw), text],
                   check=True)
    subprocess.run([require_tool("sox"), str(raw), "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(out), "gain", "-n", "-3", "pad", pad, "0"],
                   check=True)
    return out


def tone_wav(out: Path, hz: int, seconds: float) -> Path:
    subprocess.run([require_tool("sox"), "-n", "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(out), "synth", str(seconds), "sine", str(hz),
                    "gain", "-n", "-6"], check=True)
    return out


def human_pcap(work: Path, seconds: float = 20.0,
               extra: tuple[tuple[float, Path], ...] = ()) -> Path:
    """A person who says "¿Aló?" 0.3 s after answering, then waits (plus any `extra` audio)."""
    alo = espeak_wav(work / "alo.wav", "¿Aló?")
    return caller_pcap(work / f"human-{len(extra)}.pcap", seconds,
                       speech=[(0.3, alo), *extra])


def scenario(work: Path, name: str, pcap: Path | None = None, talk_s: float = 60.0) -> str:
    """A copy of a callbacks scenario with @PCAP@ and @TALK_MS@ filled in; its path for Sipp."""
    text = (SCENARIOS / name).read_text().replace("@TALK_MS@", str(int(talk_s * 1000)))
    if pcap is not None:
        text = text.replace("@PCAP@", str(pcap))
    out = work / f"{random.randrange(10**6)}-{name}"
    out.write_text(text)
    return str(out)


async def listening(sipp: Sipp) -> Sipp:
    await sipp.start()
    await asyncio.sleep(0.3)  # SIPp binds its socket
    return sipp


@dataclass
class Rig:
    store: SqlStore
    engine: SipEngine
    prompts: PromptCatalog
    work: Path

    def profile(self, target: str, strategy: str = "customer_first", **changes: object) -> None:
        profile = ServiceProfile(name="default", callback_target=target,
                                 callback_strategy=strategy,
                                 destinations=Destinations(business=("staff@example.com",)))
        profile = replace(profile, **changes)  # type: ignore[arg-type]
        version = load_catalog(self.store).version
        save_profile(self.store, profile, expected_version=version, actor="test",
                     now=datetime.now(UTC))

    def request(self, number: str = NUMBER, request_type: str | None = None) -> tuple[Ticket, Callback]:
        now = datetime.now(UTC)
        ticket, merged = Intake(self.store).create_ticket(TicketRequest(
            call_id=None, service="default", caller=number, callback_number=number,
            callback=True, request_type=request_type, due_at=now), now)
        assert not merged
        [callback] = [c for c in self.store.list_callbacks() if c.ticket_id == ticket.id]
        return ticket, callback

    def dialler(self, target_port: int, policy: CallbackPolicy = FAST, *, node: str = "node-a",
                store: SqlStore | None = None, max_outbound: int = 4) -> CallbackDialler:
        settings = DiallerSettings(
            node=node, max_outbound=max_outbound, poll_interval_s=0.2,
            lease=timedelta(seconds=30), caller_id="600",
            number_format=f"sip:{{number}}@127.0.0.1:{target_port}", default_policy=policy,
            policies={"default": replace(policy, max_outbound=max_outbound)})
        return CallbackDialler(store or self.store, self.engine, SystemClock(), self.prompts,
                               settings)


@pytest.fixture
def rig(store: SqlStore, engine: SipEngine, prompts: PromptCatalog, tmp_path: Path) -> Rig:
    return Rig(store, engine, prompts, tmp_path)


async def run_until_closed(dialler: CallbackDialler, store: SqlStore, callback_id: str,
                           timeout: float = 60.0) -> Callback:
    """Run the dialler until the callback is closed (done / not reached)."""
    task = asyncio.create_task(dialler.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            current = store.get_callback(callback_id)
            assert current is not None
            if current.closed_at is not None:
                await dialler.idle()
                return current
            await asyncio.sleep(0.2)
        raise AssertionError(f"callback still {current.status} after {timeout} s")
    finally:
        dialler.stop()
        await task


async def escalation_emails(store: SqlStore, spool: Path) -> list[EmailMessage]:
    """Deliver the pending "callback_failed" jobs into an .eml spool and read them back."""
    emails = CallbackFailureEmails(store, CallbackMailSettings(sender="desborde@example.com"))
    worker = DeliveryWorker(
        store, {CALLBACK_FAILED_JOB: mail_handler(SpoolMailer(spool), emails.build)},
        SystemClock(), WorkerSettings(worker_id="test", retry=RetryPolicy()))
    await worker.run_once()
    out = []
    for path in sorted(spool.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out
