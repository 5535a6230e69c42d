"""In-band DTMF: a SIPp caller that offers PCMU only (no telephone-event) sends its keys as
sox-synthesised dual tones inside its speech; the engine with default_kit(inband_dtmf=True)
reads them, once each, and the speech before them gives no false digits."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.adapters.sip.engine import SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.ports.telephony import DigitReceived
from tests.integration.sip.conftest import DemoApp, engine_config, frames_for, target
from tests.support.rtp_pcap import caller_pcap
from tests.support.sipp import ASSETS, Sipp
from tests.support.tools import require_tool

SPEECH = ASSETS / "media" / "speech_8k.wav"  # 4.9 s
TONES = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477), "0": (941, 1336),
         "#": (941, 1477)}


def dtmf_wav(out: Path, keys: str, *, tone_s: float = 0.12, gap_s: float = 0.12) -> Path:
    """Keys as dual tones (each -6 dBFS at its peak, mixed), with silence between them."""
    sox = require_tool("sox")
    parts: list[str] = []
    for index, key in enumerate(keys):
        low, high = TONES[key]
        part = out.with_name(f"{out.stem}-{index}.wav")
        subprocess.run([sox, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(part), "synth", str(tone_s), "sine", str(low), "sine", str(high),
                        "remix", "-", "gain", "-n", "-6", "pad", "0", str(gap_s)], check=True)
        parts.append(str(part))
    subprocess.run([sox, *parts, str(out)], check=True)
    return out


@pytest.fixture
async def inband_engine(app: DemoApp) -> AsyncIterator[SipEngine]:
    eng = SipEngine(engine_config(), default_kit(frames_for, inband_dtmf=True))
    eng.set_call_handler(app)
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


async def _call(engine: SipEngine, tmp_path: Path, pcap: Path) -> None:
    xml = (ASSETS / "uac_inband_dtmf.xml").read_text().replace("@PCAP@", str(pcap))
    script = tmp_path / "uac_inband_dtmf.xml"
    script.write_text(xml)
    result = await Sipp(str(script), tmp_path / "sipp", target=target(engine)).run(timeout=60)
    assert result.returncode == 0, result.explain()  # the engine hung up after the '#'


async def test_inband_tones_are_read_as_digits(
    inband_engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    keys = dtmf_wav(tmp_path / "keys.wav", "1590#")
    pcap = caller_pcap(tmp_path / "caller.pcap", 12.0, speech=[(0.5, SPEECH), (6.0, keys)])
    await _call(inband_engine, tmp_path, pcap)
    (call,) = await app.wait_calls(1)
    assert call.digits == "1590#"
    digits = [e for e in call.events if isinstance(e, DigitReceived)]
    assert {e.source for e in digits} == {"inband"}


async def test_inband_is_off_by_default(engine: SipEngine, app: DemoApp, tmp_path: Path) -> None:
    # the same caller against the default kit: no digit at all, the call ends on our timer
    app.hangup_after = 5.0
    keys = dtmf_wav(tmp_path / "keys.wav", "1#")
    pcap = caller_pcap(tmp_path / "caller.pcap", 4.0, speech=[(1.0, keys)])
    await _call(engine, tmp_path, pcap)
    (call,) = await app.wait_calls(1)
    assert call.digits == ""


async def test_inband_is_ignored_when_telephone_event_was_negotiated(
    inband_engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    # a phone that offers telephone-event sends its keys that way; tones in its audio (its
    # own key beeps, or both at once) must not add digits
    tones = dtmf_wav(tmp_path / "tones.wav", "15")
    pcap = caller_pcap(tmp_path / "caller.pcap", 6.0, speech=[(1.0, tones)],
                       digits=[(3.0, "9#")])
    xml = (ASSETS / "e2e" / "uac_menu_hungup.xml").read_text().replace("@PCAP@", str(pcap))
    script = tmp_path / "uac_menu_hungup.xml"
    script.write_text(xml)
    result = await Sipp(str(script), tmp_path / "sipp", target=target(inband_engine)).run(60)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1)
    assert call.digits == "9#"
    assert {e.source for e in call.events if isinstance(e, DigitReceived)} == {"rfc4733"}
