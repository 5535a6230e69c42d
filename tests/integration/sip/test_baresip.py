"""baresip against the engine itself: its RFC 4733 digits are 180 ms long and only ~16 ms
apart, so they are told apart by their event timestamps, never by silence between them; and
its speech (the WAV microphone) is what we record."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from appliance.adapters.sip.engine import SipEngine
from appliance.ports.telephony import DigitReceived
from tests.integration.sip.conftest import DemoApp
from tests.support.baresip import padded_wav, running_baresip
from tests.support.sipp import ASSETS

SPEECH = ASSETS / "media" / "speech_8k.wav"


async def test_back_to_back_digits_each_count_once(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.record_to = tmp_path / "heard.wav"
    mic = padded_wav(tmp_path / "mic.wav", SPEECH, lead_s=0.5, total_s=30.0)
    async with running_baresip(tmp_path / "baresip", mic) as phone:
        await phone.command("dial", f"sip:100@127.0.0.1:{engine.config.port}")
        await phone.wait_event("CALL_ESTABLISHED")
        await phone.wait_event("CALL_RTPESTAB")
        await asyncio.sleep(6.0)  # the speech
        await phone.command("sndcode", "1122#")  # repeated keys too: only timestamps differ
        await phone.wait_event("CALL_CLOSED")  # we hang up on '#'
    (call,) = await app.wait_calls(1)
    assert call.digits == "1122#"
    assert {e.source for e in call.events if isinstance(e, DigitReceived)} == {"rfc4733"}
    with wave.open(str(app.record_to)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    assert float(np.sqrt(np.mean(audio**2))) > 300  # baresip's microphone reached us

