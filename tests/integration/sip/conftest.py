"""A real SipEngine on 127.0.0.1 (free SIP port, a private RTP range) driven by a small in-test
call handler, the stand-in for the call-flow service."""

from __future__ import annotations

import asyncio
import random
import wave
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from appliance.adapters.sip.engine import EngineConfig, SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.ports.telephony import (
    CallLeg,
    DigitReceived,
    LegEvent,
    PlaybackFinished,
    RecordingStopped,
    RemoteHangup,
    TransferResult,
)
from tests.support.sipp import ASSETS, free_udp_port

PROMPT_WAV = ASSETS / "media" / "speech_8k.wav"


def prompt_frames(seconds: float = 3.0) -> list[bytes]:
    with wave.open(str(PROMPT_WAV)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1)
        pcm = w.readframes(int(8000 * seconds))
    pcm += bytes(-len(pcm) % 320)
    return [pcm[i : i + 320] for i in range(0, len(pcm), 320)]


def frames_for(names: Sequence[str]) -> list[bytes]:
    # the in-test prompt library: every name is the same speech sample
    return [f for _ in names for f in prompt_frames()]


@dataclass
class CallLog:
    leg: CallLeg
    events: list[LegEvent] = field(default_factory=list)
    transfer: TransferResult | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def digits(self) -> str:
        return "".join(e.digit for e in self.events if isinstance(e, DigitReceived))


@dataclass
class DemoApp:
    """Answers (after `ring` s), plays the prompt, then follows its script:
    collect digits until '#' (then hang up), or record, or transfer, or just wait."""

    ring: float = 0.0
    hangup_on: str | None = "#"
    record_to: Path | None = None
    transfer_to: str | None = None
    hangup_after: float | None = None
    calls: list[CallLog] = field(default_factory=list)

    async def __call__(self, leg: CallLeg) -> None:
        log = CallLog(leg)
        self.calls.append(log)
        try:
            await self._script(leg, log)
        finally:
            log.ended.set()

    async def _script(self, leg: CallLeg, log: CallLog) -> None:
        if self.ring:
            await asyncio.sleep(self.ring)
        await leg.answer()
        leg.play(["welcome"], barge_in=True)
        if self.record_to is not None:
            leg.start_recording(self.record_to, max_seconds=30, silence_seconds=8)
        if self.transfer_to is not None:
            await asyncio.sleep(0.5)
            log.transfer = await leg.transfer(self.transfer_to, timeout=10)
            await leg.hangup()
            return
        hangup_at = (asyncio.get_running_loop().time() + self.hangup_after
                     if self.hangup_after is not None else None)
        events = leg.events()
        while True:
            timeout = None if hangup_at is None else hangup_at - asyncio.get_running_loop().time()
            try:
                event = await asyncio.wait_for(anext(events), timeout)
            except (StopAsyncIteration, TimeoutError):
                break
            log.events.append(event)
            if isinstance(event, RemoteHangup):
                break
            if isinstance(event, DigitReceived) and event.digit == self.hangup_on:
                break
            if isinstance(event, RecordingStopped) and self.hangup_on is None:
                continue
            if isinstance(event, PlaybackFinished):
                continue
        await leg.hangup()
        async for event in events:  # drain what the close produced (RecordingStopped)
            log.events.append(event)

    async def wait_calls(self, count: int, timeout: float = 30.0) -> list[CallLog]:
        async def ended() -> None:
            while len(self.calls) < count:
                await asyncio.sleep(0.05)
            for call in self.calls[:count]:
                await call.ended.wait()

        await asyncio.wait_for(ended(), timeout)
        return self.calls[:count]


def engine_config(**overrides: object) -> EngineConfig:
    # below the kernel's ephemeral range (32768+), where free_udp_port() picks SIPp's ports
    base = random.randrange(20000, 32000, 400)
    values: dict[str, object] = {
        "bind_ip": "127.0.0.1",
        "port": free_udp_port(),
        "rtp_low": base,
        "rtp_high": base + 398,
    }
    values.update(overrides)
    return EngineConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def app() -> DemoApp:
    return DemoApp()


@pytest.fixture
async def engine(app: DemoApp) -> AsyncIterator[SipEngine]:
    eng = SipEngine(engine_config(), default_kit(frames_for))
    eng.set_call_handler(app)
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


def target(engine: SipEngine) -> str:
    return f"127.0.0.1:{engine.config.port}"
