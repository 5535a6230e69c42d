"""The voicemail email: templates, escaping, transcript note, WAV attachment formats."""

from __future__ import annotations

import io
import wave
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from appliance.adapters.mail.compose import (
    DEFAULT_TEMPLATES,
    Envelope,
    MailTemplates,
    VoicemailFacts,
    compose_voicemail,
    stable_message_id,
    validate_templates,
)
from appliance.adapters.mail.wav import attachment_wav
from appliance.errors import ConfigError, MediaError
from tests.unit.delivery.conftest import write_tone

SANTIAGO = ZoneInfo("America/Santiago")
ENVELOPE = Envelope("vm@example.test", ("help@example.test", "b@example.test"), "<desborde.j1@x>")


def facts(**over: object) -> VoicemailFacts:
    base: dict[str, object] = dict(
        caller="+56912345678",
        caller_name='<script>alert("x")</script> & Co',
        service="soporte",
        received_at=datetime(2026, 3, 1, 10, 30, tzinfo=SANTIAGO),
        duration_s=65.4,
        ticket="T-000123",
        message_url="https://vm.example.test/messages/7?a=1&b=2",
        transcript="hola, necesito ayuda",
    )
    base.update(over)
    return VoicemailFacts(**base)  # type: ignore[arg-type]


def roundtrip(msg: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def test_subject_and_plain_body_carry_the_facts(recording: Path) -> None:
    msg = roundtrip(compose_voicemail(facts(), DEFAULT_TEMPLATES["en"], ENVELOPE, recording))
    assert msg["Subject"] == "Voicemail from +56912345678 (soporte) - ticket T-000123"
    assert msg["Message-ID"] == "<desborde.j1@x>"
    assert msg["To"] == "help@example.test, b@example.test"
    plain, _ = parts(msg)
    assert "Duration: 1:05" in plain and "Time: 2026-03-01 10:30 -03" in plain
    assert "hola, necesito ayuda" in plain
    assert "https://vm.example.test/messages/7?a=1&b=2" in plain


def test_html_part_escapes_caller_text_and_links_the_message(recording: Path) -> None:
    _, rich = parts(
        roundtrip(compose_voicemail(facts(), DEFAULT_TEMPLATES["en"], ENVELOPE, recording))
    )
    assert "<script>" not in rich
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in rich
    assert '<a href="https://vm.example.test/messages/7?a=1&amp;b=2">' in rich


def test_missing_transcript_says_it_was_not_ready(recording: Path) -> None:
    msg = roundtrip(
        compose_voicemail(facts(transcript=None), DEFAULT_TEMPLATES["es"], ENVELOPE, recording)
    )
    plain, rich = parts(msg)
    assert "la transcripción no estaba lista" in plain
    assert "la transcripción no estaba lista" in rich


def test_a_service_without_transcription_says_so(recording: Path) -> None:
    off = facts(transcript=None, transcription_on=False)
    plain, _ = parts(roundtrip(compose_voicemail(off, DEFAULT_TEMPLATES["en"], ENVELOPE, recording)))
    assert "this service does not transcribe messages" in plain
    assert "not ready" not in plain


def test_caller_text_cannot_inject_header_lines(recording: Path) -> None:
    evil = facts(caller="+569\r\nBcc: victim@example.test")
    msg = roundtrip(compose_voicemail(evil, DEFAULT_TEMPLATES["en"], ENVELOPE, recording))
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"]


def test_no_ticket_uses_placeholder(recording: Path) -> None:
    msg = compose_voicemail(facts(ticket=None), DEFAULT_TEMPLATES["en"], ENVELOPE, recording)
    assert msg["Subject"].endswith("ticket -")


@pytest.mark.parametrize("width", [1, 2])
def test_attachment_is_8khz_mono_with_configured_width(recording: Path, width: int) -> None:
    msg = roundtrip(
        compose_voicemail(facts(), DEFAULT_TEMPLATES["en"], ENVELOPE, recording, sample_width=width)  # type: ignore[arg-type]
    )
    att = next(msg.iter_attachments())
    assert att.get_content_type() == "audio/wav" and att.get_filename() == "voicemail-T-000123.wav"
    with wave.open(io.BytesIO(att.get_content()), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, width, 8000)
        assert w.getnframes() == 4000


def test_8bit_conversion_keeps_the_waveform(recording: Path) -> None:
    data = attachment_wav(recording, 1)
    with wave.open(io.BytesIO(data), "rb") as w:
        u8 = np.frombuffer(w.readframes(w.getnframes()), dtype=np.uint8)
    with wave.open(str(recording), "rb") as w:
        s16 = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert np.array_equal(u8.astype(np.int32) - 128, s16.astype(np.int32) >> 8)
    assert u8.min() < 60 and u8.max() > 196  # a loud tone, not silence


def test_8bit_input_converts_to_16bit(tmp_path: Path) -> None:
    src = write_tone(tmp_path / "u8.wav", width=1)
    with wave.open(io.BytesIO(attachment_wav(src, 2)), "rb") as w:
        s16 = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert s16.max() > 15000 and s16.min() < -15000


def test_wrong_rate_or_garbage_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="16000 Hz"):
        attachment_wav(write_tone(tmp_path / "wide.wav", rate=16000), 2)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav")
    with pytest.raises(MediaError):
        attachment_wav(junk, 2)


def test_unknown_or_malformed_placeholders_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="callr"):
        validate_templates(MailTemplates(subject="From $callr", body="x", transcript_pending="-"))
    with pytest.raises(ConfigError, match="malformed"):
        validate_templates(MailTemplates(subject="Cost $5", body="x", transcript_pending="-"))


def test_message_id_is_stable_per_job() -> None:
    assert stable_message_id("42", "vm.example") == stable_message_id("42", "vm.example")
    assert stable_message_id("42", "vm.example") != stable_message_id("43", "vm.example")
