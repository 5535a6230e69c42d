"""The demo end to end with a SIPp caller: 2 leaves a message (an .eml with the WAV appears),
3 then 1 takes a ticket with a callback (visible in the API), 1 goes back to the queue (REFER)."""

from __future__ import annotations

import email
import io
import wave
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from tests.support.appliance_proc import DemoProcess, running_demo, wait_for
from tests.support.rtp_pcap import caller_pcap
from tests.support.sipp import ASSETS, Sipp, SippResult

SPEECH = ASSETS / "media" / "speech_8k.wav"


async def _call(demo: DemoProcess, work: Path, scenario: str, pcap: Path) -> SippResult:
    xml = (ASSETS / "e2e" / scenario).read_text().replace("@PCAP@", str(pcap))
    script = work / scenario
    script.write_text(xml)
    sipp = Sipp(str(script), work / "sipp", target=f"127.0.0.1:{demo.sip_port}", service="100")
    result = await sipp.run(timeout=120)
    assert result.returncode == 0, result.explain() + demo.log()[-4000:]
    return result


def _finished_call(demo: DemoProcess) -> dict[str, object]:
    wait_for(lambda: demo.api("calls") and demo.api("calls")[0]["ended_at"] is not None)
    return demo.api("calls")[0]


async def test_pressing_2_leaves_a_message_that_is_emailed_with_its_wav(tmp_path: Path) -> None:
    # Press 2 during the greeting (barge-in), speak after the tone, end with #.
    pcap = caller_pcap(tmp_path / "caller.pcap", 20.0, speech=[(9.0, SPEECH)],
                       digits=[(1.0, "2"), (16.0, "#")])
    with running_demo(tmp_path / "var") as demo:
        await _call(demo, tmp_path, "uac_menu_hungup.xml", pcap)
        call = _finished_call(demo)
        assert call["outcome"] == "message_left"
        [message] = demo.api("messages")
        assert message["caller"] == "+56912345678" and not message["partial"]
        assert 4.0 <= float(str(message["duration_s"])) <= 10.0
        mail_dir = demo.data_dir / "mail"
        wait_for(lambda: any(mail_dir.glob("*.eml")))
        [eml] = mail_dir.glob("*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert "+56912345678" in str(parsed["Subject"])
    [attachment] = [p for p in parsed.iter_attachments() if p.get_content_type().startswith("audio/")]
    with wave.open(io.BytesIO(attachment.get_content())) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
        assert wav.getnframes() / 8000 >= 4.0


async def test_pressing_3_then_1_creates_a_ticket_with_a_callback(tmp_path: Path) -> None:
    pcap = caller_pcap(tmp_path / "caller.pcap", 8.0, digits=[(1.0, "3"), (5.0, "1")])
    with running_demo(tmp_path / "var") as demo:
        await _call(demo, tmp_path, "uac_menu_hungup.xml", pcap)
        call = _finished_call(demo)
        assert call["outcome"] == "callback_scheduled"
        [ticket] = demo.api("tickets")
        assert ticket["callback_number"] == "+56912345678"
        assert ticket["call_id"] == call["id"]
        number = str(ticket["number"])
        assert number.isdigit() and len(number) >= 2


async def test_pressing_1_returns_the_caller_to_the_queue_with_a_refer(tmp_path: Path) -> None:
    pcap = caller_pcap(tmp_path / "caller.pcap", 10.0, digits=[(1.0, "1")])
    with running_demo(tmp_path / "var") as demo:
        result = await _call(demo, tmp_path, "uac_menu_refer.xml", pcap)
        [refer] = [m for m in result.traced("received") if m.startswith("REFER ")]
        assert "Refer-To: <sip:600@127.0.0.1>" in refer or "sip:600@127.0.0.1" in refer
        call = _finished_call(demo)
        assert call["outcome"] == "returned_to_queue"
