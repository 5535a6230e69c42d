"""bridge() between an inbound leg (a SIPp caller) and an outbound leg the engine dials (a SIPp
callee): each side's tone reaches the other on the wire, and RFC 4733 keys pressed on either
side are read there and re-sent as telephone-events to the other. The callee's BYE ends the
bridge and we hang up the caller. (Two dialled legs are covered by tests/integration/callbacks.)
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from appliance.adapters.sip.engine import SipEngine
from appliance.domain.dtmf import Rfc4733Receiver
from appliance.ports.telephony import CallLeg, DialResult, DigitReceived, LegEvent
from tests.integration.sip.capture import Capture, RtpPacket, decode, read_rtp
from tests.integration.sip.conftest import target
from tests.support.rtp_pcap import caller_pcap
from tests.support.sipp import ASSETS, Sipp
from tests.support.tools import require_tool

CALLER_HZ, CALLEE_HZ = 600, 1500


def tone_wav(out: Path, hz: int, seconds: float) -> Path:
    subprocess.run([require_tool("sox"), "-n", "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(out), "synth", str(seconds), "sine", str(hz),
                    "gain", "-n", "-6"], check=True)
    return out


def tone_seconds(samples: list[int], hz: int, other: int) -> float:
    """Seconds of 20 ms blocks where `hz` is loud and well above `other`."""
    usable = len(samples) // 160 * 160
    blocks = np.asarray(samples[:usable], dtype=np.float64).reshape(-1, 160)
    n = np.arange(160)

    def power(f: int) -> npt.NDArray[np.float64]:
        spectrum: npt.NDArray[np.complex128] = blocks @ np.exp(-2j * np.pi * f * n / 8000)
        return np.square(np.abs(spectrum))

    mine, theirs = power(hz), power(other)
    return float(np.count_nonzero((mine > 1e9) & (mine > 20 * theirs))) * 0.02


def event_digits(packets: list[RtpPacket]) -> str:
    receiver = Rfc4733Receiver()
    found = (receiver.feed(p.timestamp, p.payload, p.marker) for p in packets
             if p.payload_type == 101)
    return "".join(d for d in found if d is not None)


@dataclass
class Bridger:
    """The call handler: answer the caller, dial the callee, bridge, hang up the survivor."""

    engine: SipEngine
    callee_uri: str
    dialled: DialResult | None = None
    caller_events: list[LegEvent] = field(default_factory=list)
    callee_events: list[LegEvent] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, leg: CallLeg) -> None:
        try:
            await leg.answer()
            self.dialled = await self.engine.dial(self.callee_uri, caller_id="600",
                                                  display_name="Bridge", ring_timeout=5)
            other = self.dialled.leg
            if other is not None:
                await leg.bridge(other)
                await other.hangup()
                self.callee_events += [e async for e in other.events()]
            await leg.hangup()
            self.caller_events += [e async for e in leg.events()]
        finally:
            self.done.set()


def _scenario(work: Path, name: str, pcap: Path, talk_ms: int = 0) -> str:
    text = (ASSETS / name).read_text().replace("@PCAP@", str(pcap))
    out = work / name.rsplit("/", 1)[-1]
    out.write_text(text.replace("@TALK_MS@", str(talk_ms)))
    return str(out)


def _digits(events: list[LegEvent]) -> str:
    return "".join(e.digit for e in events if isinstance(e, DigitReceived))


async def test_bridge_carries_audio_and_digits_both_ways(
    engine: SipEngine, tmp_path: Path
) -> None:
    caller_audio = caller_pcap(tmp_path / "caller.pcap", 14.0, digits=[(8.5, "12")],
                               speech=[(1.0, tone_wav(tmp_path / "a.wav", CALLER_HZ, 6.0))])
    callee_audio = caller_pcap(tmp_path / "callee.pcap", 11.0, digits=[(9.0, "9")],
                               speech=[(1.0, tone_wav(tmp_path / "b.wav", CALLEE_HZ, 6.0))])
    callee = Sipp(_scenario(tmp_path, "uas_bridge_peer.xml", callee_audio, talk_ms=11000),
                  tmp_path / "callee")
    caller = Sipp(_scenario(tmp_path, "e2e/uac_menu_hungup.xml", caller_audio),
                  tmp_path / "caller", target=target(engine))
    bridger = Bridger(engine, f"sip:5551234@127.0.0.1:{callee.port}")
    engine.set_call_handler(bridger)
    try:
        await callee.start()
        await asyncio.sleep(0.3)  # SIPp binds its socket
        async with Capture(tmp_path / "to_caller.pcap", caller.media_port), \
                Capture(tmp_path / "to_callee.pcap", callee.media_port):
            done_caller = await caller.run(timeout=40)
            done_callee = await callee.wait(20)
    finally:
        await callee.stop()
    assert done_callee.returncode == 0, done_callee.explain()  # its BYE answered
    assert done_caller.returncode == 0, done_caller.explain()  # hung up by us after it
    await asyncio.wait_for(bridger.done.wait(), 10)
    assert bridger.dialled is not None and bridger.dialled.outcome == "answered"

    to_caller, to_callee = read_rtp(tmp_path / "to_caller.pcap"), read_rtp(
        tmp_path / "to_callee.pcap")
    assert tone_seconds(decode(to_caller, 0), CALLEE_HZ, CALLER_HZ) > 4.0  # callee -> caller
    assert tone_seconds(decode(to_callee, 0), CALLER_HZ, CALLEE_HZ) > 4.0  # caller -> callee
    # neither hears itself back
    assert tone_seconds(decode(to_caller, 0), CALLER_HZ, CALLEE_HZ) < 0.2
    assert tone_seconds(decode(to_callee, 0), CALLEE_HZ, CALLER_HZ) < 0.2

    assert _digits(bridger.caller_events) == "12" and _digits(bridger.callee_events) == "9"
    assert event_digits(to_callee) == "12"  # relayed as telephone-events
    assert event_digits(to_caller) == "9"
    assert engine.status().active_channels == 0
