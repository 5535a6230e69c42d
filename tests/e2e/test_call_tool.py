"""`desborde call` against the demo: the newcomer's way to try the flow without a PBX."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.calltool import Step, parse_script
from tests.support.appliance_proc import running_demo

SPEECH = Path(__file__).resolve().parents[1] / "assets" / "sipp" / "media" / "speech_8k.wav"


def test_a_scripted_call_leaves_a_message_and_saves_what_it_heard(tmp_path: Path) -> None:
    heard = tmp_path / "heard.wav"
    with running_demo(tmp_path / "var") as demo:
        script = f"wait 1; press 2; wait 8; say {SPEECH}; press #; wait 25"
        done = subprocess.run(
            [sys.executable, "-m", "appliance", "call", "--to", f"sip:100@127.0.0.1:{demo.sip_port}",
             "--script", script, "--save-heard", str(heard)],
            capture_output=True, text=True, timeout=90, check=False)
        assert done.returncode == 0, done.stdout + done.stderr + demo.log()[-3000:]
        assert "answered (200)" in done.stdout and "the far end hung up" in done.stdout
        deadline = time.monotonic() + 10
        while not (messages := json.loads(demo.get("/api/v1/messages", token=demo.api_token)[1])):
            assert time.monotonic() < deadline, "no message stored"
            time.sleep(0.2)
        assert 4.0 <= messages[0]["duration_s"] <= 9.0
    with wave.open(str(heard)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    # The prompts it heard (greeting, record-after-tone, reference number) are real audio.
    assert len(samples) / 8000 > 10
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300


@pytest.mark.parametrize(
    ("text", "steps"),
    [("wait 1; press 2", [Step("wait", "1"), Step("press", "2")]),
     ("say a.wav\npress 12#", [Step("say", "a.wav"), Step("press", "12#")]),
     ("", [])],
)
def test_scripts_parse(text: str, steps: list[Step]) -> None:
    assert parse_script(text) == steps


@pytest.mark.parametrize("bad", ["wait soon", "press 2x", "dance", "say"])
def test_bad_scripts_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_script(bad)
