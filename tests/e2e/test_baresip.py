"""A real softphone through the demo: baresip dials the demo's extension, presses 2 (RFC 4733,
180 ms digits), speaks from its WAV microphone and ends with #; the message is stored with a
plausible duration, recorded with the speech in it, and emailed as an .eml."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from tests.support.appliance_proc import running_demo, wait_for
from tests.support.baresip import padded_wav, running_baresip
from tests.support.sipp import ASSETS

SPEECH = ASSETS / "media" / "speech_8k.wav"  # 4.9 s
LEAD_S = 9.0  # the speech starts this long after the answer: after the prompt and the tone


def _rms(path: Path) -> float:
    with wave.open(str(path)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0


async def test_baresip_leaves_a_message_through_the_menu(tmp_path: Path) -> None:
    mic = padded_wav(tmp_path / "mic.wav", SPEECH, lead_s=LEAD_S, total_s=60.0)
    with running_demo(tmp_path / "var") as demo:
        async with running_baresip(tmp_path / "baresip", mic) as phone:
            await phone.command("dial", f"sip:100@127.0.0.1:{demo.sip_port}")
            await phone.wait_event("CALL_ESTABLISHED")
            await asyncio.sleep(1.0)
            await phone.command("sndcode", "2")  # during the greeting: barge-in
            await asyncio.sleep(LEAD_S + 6.0)  # the speech is over
            await phone.command("sndcode", "#")
            await phone.wait_event("CALL_CLOSED", timeout=30.0)
        log = demo.log()
        assert "dtmf key=2 stage=menu" in log, log[-3000:]
        assert "hung up by us" in log  # the demo ended the call after its goodbye
        [message] = demo.api("messages")
        assert message["caller"] == "+56922223333" and not message["partial"]
        # recording starts after the prompt and tone (~7 s after the 2), ends at the #
        assert 4.0 <= float(str(message["duration_s"])) <= 10.0, message
        assert _rms(Path(str(message["path"]))) > 300  # the speech, not just line noise
        mail_dir = demo.data_dir / "mail"
        wait_for(lambda: any(mail_dir.glob("*.eml")))
        [eml] = mail_dir.glob("*.eml")
        assert "+56922223333" in eml.read_text(encoding="utf-8", errors="replace")
    [heard] = phone.recordings("dec")
    assert _rms(heard) > 300  # the caller heard the greeting and prompts
