"""Voicemail email end to end through `desborde run` with [smtp] pointing at a real aiosmtpd server:
the WAV arrives; a relay down for a while delivers every message exactly once when it returns;
a 550 leaves the job failed with the relay's words, visible and replayable over the JSON API."""

from __future__ import annotations

import io
import json
import wave
from email.message import EmailMessage
from pathlib import Path

from tests.e2e.delivery_support import api, leave_message, wait_for, write_config
from tests.support.appliance_proc import DemoProcess, running_appliance
from tests.support.smtp import Sink, free_port, smtp_server


def wav_format(message: EmailMessage) -> tuple[int, int, int, float]:
    """(rate, channels, sample width, seconds) of the email's WAV attachment."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "audio/wav"]
    with wave.open(io.BytesIO(part.get_content())) as wav:
        rate = wav.getframerate()
        return rate, wav.getnchannels(), wav.getsampwidth(), wav.getnframes() / rate


def voicemail_jobs(demo: DemoProcess) -> list[dict[str, object]]:
    return api(demo, "outbox?kind=voicemail")


async def test_a_message_is_emailed_with_its_wav_through_smtp(tmp_path: Path) -> None:
    with smtp_server() as smtp, running_appliance(write_config(tmp_path, smtp.port)) as demo:
        await leave_message(demo, tmp_path)
        wait_for(lambda: smtp.sink.messages, what="the email at the SMTP server")
        [message] = api(demo, "messages")
    [(envelope, mail)] = smtp.sink.messages
    assert envelope.rcpt_tos == ["staff@localhost"]
    assert "+56912345678" in str(mail["Subject"]) and str(message["id"]) in mail.as_string()
    rate, channels, width, seconds = wav_format(mail)
    assert (rate, channels, width) == (8000, 1, 1) and seconds >= 4.0


async def test_relay_down_for_a_while_then_every_message_arrives_once(tmp_path: Path) -> None:
    port = free_port()  # nobody listens yet: the relay is down
    with running_appliance(write_config(tmp_path, port)) as demo:
        await leave_message(demo, tmp_path / "one", "one")
        await leave_message(demo, tmp_path / "two", "two")
        wait_for(lambda: len(voicemail_jobs(demo)) == 2 and all(
            j["attempts"] and j["status"] == "pending" for j in voicemail_jobs(demo)),
            what="both emails tried and waiting")
        assert all("Connect" in str(j["last_error"]) or "refused" in str(j["last_error"])
                   for j in voicemail_jobs(demo))
        with smtp_server(port=port) as smtp:  # the relay is back on the same address
            wait_for(lambda: all(j["status"] == "done" for j in voicemail_jobs(demo)),
                     timeout=60, what="both emails delivered")
        messages = api(demo, "messages")
    assert len(messages) == 2
    ids = smtp.sink.message_ids()
    assert len(ids) == 2 and len(set(ids)) == 2  # each message once, no repeats
    bodies = [m.as_string() for _, m in smtp.sink.messages]
    for message in messages:
        assert sum(str(message["id"]) in body for body in bodies) == 1


async def test_a_550_fails_the_job_with_the_reply_visible_and_replayable(tmp_path: Path) -> None:
    sink = Sink(replies=["550 5.1.1 <staff@localhost>: mailbox unavailable"])
    with smtp_server(sink) as smtp, running_appliance(write_config(tmp_path, smtp.port)) as demo:
        await leave_message(demo, tmp_path)
        wait_for(lambda: voicemail_jobs(demo) and voicemail_jobs(demo)[0]["status"] == "failed",
                 what="the job failed")
        [job] = voicemail_jobs(demo)
        assert "550" in str(job["last_error"]) and "mailbox unavailable" in str(job["last_error"])
        assert job["attempts"] == 1 and smtp.sink.messages == []

        status, body = demo.post(f"/api/v1/outbox/{job['id']}/replay", token=demo.api_token)
        assert status == 200 and json.loads(body)["status"] == "pending"
        wait_for(lambda: voicemail_jobs(demo)[0]["status"] == "done", what="the replay delivered")
        assert demo.post(f"/api/v1/outbox/{job['id']}/cancel", token=demo.api_token)[0] == 409
        assert demo.get("/api/v1/outbox")[0] == 401  # no token, no outbox
    assert len(smtp.sink.messages) == 1
