"""Media against SIPp callers: a PCMA caller hears the prompt (checked on the wire), RFC 4733
digits are read by timestamp, the caller is recorded, and the clock paces every stream."""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import numpy as np

from appliance.adapters.sip.engine import SipEngine
from appliance.ports.telephony import RecordingStopped
from tests.integration.sip.capture import Capture, RtpPacket, decode
from tests.integration.sip.conftest import DemoApp, prompt_frames, target
from tests.support.sipp import Sipp


def _correlation(heard: list[int], sent: bytes) -> float:
    expected = np.frombuffer(sent, dtype="<i2").astype(np.float64)
    got = np.asarray(heard[: len(expected)], dtype=np.float64)
    expected = expected[: len(got)]
    return float(np.dot(expected, got) / (np.linalg.norm(expected) * np.linalg.norm(got)))


async def test_pcma_caller_hears_the_prompt_and_is_recorded(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.record_to = tmp_path / "message.wav"
    sipp = Sipp("uac_ivr_pcma.xml", tmp_path, target=target(engine))
    async with Capture(tmp_path / "heard.pcap", sipp.media_port) as capture:
        result = await sipp.run(timeout=40)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1)
    assert call.digits == "123#"
    assert call.leg.codec == "PCMA"

    packets = capture.packets()
    assert {p.payload_type for p in packets} == {8}
    assert len({p.ssrc for p in packets}) == 1
    # the first frames on the wire are the prompt: decoded with the reference A-law table they
    # must match what we played (an inverted sign bit would give -1, a wrong law ~0)
    prompt = b"".join(prompt_frames())
    assert _correlation(decode(packets, 8), prompt) > 0.99

    stops = [e for e in call.events if isinstance(e, RecordingStopped)]
    assert len(stops) == 1 and stops[0].reason == "digit"  # "#" ends a message
    with wave.open(str(app.record_to)) as w:
        assert w.getframerate() == 8000
        seconds = w.getnframes() / 8000
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert 7.0 < seconds < 15.0
    # the caller's 7 s of speech reached the file (not just silence padding)
    assert float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) > 300


async def test_rfc4733_digits_from_pcaps(engine: SipEngine, app: DemoApp, tmp_path: Path) -> None:
    app.hangup_on = None  # the caller hangs up
    sipp = Sipp("uac_media_dtmf.xml", tmp_path, target=target(engine))
    async with Capture(tmp_path / "sent.pcap", sipp.media_port) as capture:
        result = await sipp.run(timeout=40)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1)
    assert call.digits == "12#1234#"
    assert all(e.source == "rfc4733" for e in call.events if hasattr(e, "source"))
    packets = capture.packets()
    assert packets[0].payload_type == 0  # PCMU first in the offer
    _assert_paced(packets)


def _assert_paced(packets: list[RtpPacket]) -> None:
    # one shared clock: 50 packets/s, timestamps step by exactly one frame
    steps = [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(packets)]
    assert steps.count(160) >= len(steps) - 2
    seqs = [(b.seq - a.seq) & 0xFFFF for a, b in itertools.pairwise(packets)]
    assert set(seqs) == {1}
