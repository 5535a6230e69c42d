"""Mid-call offers from SIPp callers keep the call and its stream: UPDATE a=sendonly puts us on
hold (answer recvonly, no RTP sent) and UPDATE a=sendrecv resumes on the same port, SSRC and
sequence; a re-INVITE that offers only PCMA switches our PCMU stream to PCMA in place, and the
caller's A-law speech after the switch is recorded."""

from __future__ import annotations

import itertools
import re
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.adapters.sip.engine import SipEngine
from appliance.ports.telephony import RemoteHangup
from tests.integration.sip.capture import ALAW, Capture
from tests.integration.sip.conftest import DemoApp, target
from tests.support.sipp import Sipp, SippResult


@dataclass(frozen=True)
class Arrival:
    at: float  # capture time, seconds
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def arrivals(path: Path) -> list[Arrival]:
    """RTP packets of a loopback capture with their capture times (capture.read_rtp drops them)."""
    data = path.read_bytes()
    link = {1: 14, 113: 16, 0: 4}[struct.unpack_from("<I", data, 20)[0]]
    out: list[Arrival] = []
    pos = 24
    while pos + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, pos)
        ip = data[pos + 16 + link : pos + 16 + incl]
        pos += 16 + incl
        rtp = ip[(ip[0] & 0x0F) * 4 + 8 :]
        if len(rtp) >= 12 and rtp[0] >> 6 == 2:
            first, second, seq, ts, ssrc = struct.unpack_from("!BBHII", rtp)
            out.append(Arrival(sec + usec / 1e6, second & 0x7F, seq, ts, ssrc,
                               rtp[12 + 4 * (first & 0x0F) :]))
    return out


def _answers(result: SippResult) -> list[str]:
    return [m for m in result.traced() if m.startswith("SIP/2.0 200") and "m=audio" in m]


def _sdp(message: str, pattern: str) -> str:
    match = re.search(pattern, message, re.MULTILINE)
    assert match is not None, message
    return match.group(1)


def _assert_one_stream(packets: list[Arrival]) -> None:
    assert len({p.ssrc for p in packets}) == 1  # never restarted
    assert {(b.seq - a.seq) & 0xFFFF for a, b in itertools.pairwise(packets)} == {1}


async def test_update_hold_and_resume_keep_the_stream(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.hangup_on = None  # the caller sends BYE
    sipp = Sipp("uac_hold_update.xml", tmp_path, target=target(engine))
    async with Capture(tmp_path / "heard.pcap", sipp.media_port) as capture:
        result = await sipp.run(timeout=40)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1, timeout=10)
    assert any(isinstance(e, RemoteHangup) for e in call.events)  # alive until the BYE

    initial, hold, resume = _answers(result)
    assert {_sdp(m, r"^m=audio (\d+)") for m in (initial, hold, resume)} == {
        _sdp(initial, r"^m=audio (\d+)")}
    assert _sdp(hold, r"^a=(sendrecv|sendonly|recvonly|inactive)") == "recvonly"
    assert _sdp(resume, r"^a=(sendrecv|sendonly|recvonly|inactive)") == "sendrecv"

    packets = arrivals(capture.path)
    _assert_one_stream(packets)
    gaps = [(b.at - a.at, a, b) for a, b in itertools.pairwise(packets)]
    silent, before, after = max(gaps, key=lambda g: g[0])
    assert 2.5 < silent < 3.6  # nothing sent while held (3 s)
    assert sum(g < 0.1 for g, _, _ in gaps) >= len(gaps) - 3  # otherwise a steady stream
    assert packets[-1].at - after.at > 1.5  # and it really resumed
    # the timestamp kept pace with the clock through the hold (RFC 3550 §5.1)
    assert abs((after.timestamp - before.timestamp) / 8000 - silent) < 0.2


async def test_reinvite_switches_pcmu_to_pcma_in_place(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.hangup_on = None
    app.record_to = tmp_path / "caller.wav"
    sipp = Sipp("uac_reinvite_pcma.xml", tmp_path, target=target(engine))
    async with Capture(tmp_path / "heard.pcap", sipp.media_port) as capture:
        result = await sipp.run(timeout=40)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1, timeout=10)
    assert call.leg.codec == "PCMA"

    initial, switched = _answers(result)
    assert _sdp(initial, r"^m=audio \d+ RTP/AVP (\d+)") == "0"
    assert _sdp(switched, r"^m=audio \d+ RTP/AVP (\d+)") == "8"
    assert _sdp(initial, r"^m=audio (\d+)") == _sdp(switched, r"^m=audio (\d+)")

    packets = arrivals(capture.path)
    _assert_one_stream(packets)
    kinds = [p.payload_type for p in packets]
    switch = kinds.index(8)
    assert set(kinds[:switch]) == {0} and set(kinds[switch:]) == {8}  # switched once
    assert switch > 50  # about 2 s of PCMU first
    # what we send after the switch is A-law silence (the prompt ended long before): μ-law
    # silence (0xFF) labelled PCMA would decode to +-848 with the reference table
    tail = [ALAW[b] for p in packets[-50:] for b in p.payload]
    assert max(abs(x) for x in tail) < 100

    with wave.open(str(app.record_to)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    after_switch = audio[3 * 8000 :]  # the caller's speech comes after the re-INVITE
    assert float(np.sqrt(np.mean(after_switch**2))) > 300
