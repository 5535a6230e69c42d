"""The appliance killed with SIGKILL while a SIPp caller is still talking into a recording: after the
restart the partial recording is a readable WAV, its message row exists (partial) and its email
goes out with it. Nothing the caller said before the crash is lost (up to the last flush)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import wave
from pathlib import Path

from tests.e2e.delivery_support import SPEECH, api, sipp_caller, wait_for, write_config
from tests.support.appliance_proc import running_appliance
from tests.support.rtp_pcap import caller_pcap
from tests.support.smtp import smtp_server


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return float(wav.getnframes() / wav.getframerate())


async def test_sigkill_mid_recording_keeps_the_partial_message_and_emails_it(
    tmp_path: Path,
) -> None:
    # 2 at once, then speech without pauses long enough to stop the recording on silence.
    talk = [(9.0 + 4.9 * i, SPEECH) for i in range(8)]
    pcap = caller_pcap(tmp_path / "long.pcap", 50.0, speech=talk, digits=[(1.0, "2")])
    recordings = tmp_path / "var" / "recordings"
    with smtp_server() as smtp:
        config = write_config(tmp_path, smtp.port)
        with running_appliance(config) as first:
            sipp = sipp_caller(first, tmp_path / "sipp", pcap)
            await sipp.start()
            try:
                await asyncio.to_thread(
                    wait_for, lambda: any(recordings.rglob("*.pending.json")), 40,
                    "a recording in progress")
                await asyncio.sleep(4.0)  # a few seconds of message, flushed each second
                os.kill(first.process.pid, signal.SIGKILL)
                first.process.wait(10)
            finally:
                await sipp.stop()
        [sidecar] = recordings.rglob("*.pending.json")
        [wav_path] = recordings.rglob("*.wav")
        assert smtp.sink.messages == []

        with running_appliance(config) as second:
            wait_for(lambda: smtp.sink.messages, what="the recovered message's email")
            [message] = api(second, "messages")
            assert "recovered an interrupted recording" in second.log()

    assert message["partial"] is True and message["path"] == str(wav_path)
    assert not sidecar.exists()
    with wave.open(str(wav_path)) as kept:  # the header was repaired to cover what was flushed
        seconds = kept.getnframes() / kept.getframerate()
    assert 2.0 <= seconds <= 15.0
    assert abs(float(str(message["duration_s"])) - seconds) < 0.1
    [(_, mail)] = smtp.sink.messages
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "audio/wav"]
    assert abs(wav_seconds(part.get_content()) - seconds) < 0.1
