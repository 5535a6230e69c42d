"""AMD: app_amd's rules on synthetic frame patterns, on espeak-ng speech and on the test kit's
answering-machine greeting."""

from __future__ import annotations

import struct
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from appliance.domain.amd import AmdDetector, AmdResult, AmdSettings, Verdict, classify
from tests.support.tools import require_tool

ASSETS = Path(__file__).parents[2] / "assets" / "media"
VOICE = [1000, -1000] * 80  # 20 ms, mean |x| 1000 > 256
QUIET = [30, -30] * 80  # 20 ms, under the threshold


def frames(*pattern: tuple[str, int]) -> list[list[int] | None]:
    """("v", ms) voice, ("s", ms) silence, ("n", ms) no packets at all."""
    out: list[list[int] | None] = []
    for kind, ms in pattern:
        frame = {"v": VOICE, "s": QUIET, "n": None}[kind]
        out += [frame] * (ms // 20)
    return out


def wav_frames(path: Path) -> list[Sequence[int]]:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        data = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(data) // 2}h", data)
    return [samples[i : i + 160] for i in range(0, len(samples), 160)]


@pytest.mark.parametrize(
    ("pattern", "verdict", "cause"),
    [
        ((("s", 3000),), Verdict.MACHINE, "INITIALSILENCE-2500-2500"),
        ((("n", 3000),), Verdict.MACHINE, "INITIALSILENCE-2500-2500"),
        ((("s", 300), ("v", 600), ("s", 1000)), Verdict.HUMAN, "HUMAN-800-800"),
        ((("s", 300), ("v", 3000)), Verdict.MACHINE, "LONGGREETING-1500-1500"),
        # three words of 200 ms in a row: more than max_words=2
        (
            (("s", 200), ("v", 200), ("s", 100), ("v", 200), ("s", 100), ("v", 200)),
            Verdict.MACHINE,
            "MAXWORDS-3-2",
        ),
        # two words then a pause: a person saying "hello, yes?"
        (
            (("s", 200), ("v", 300), ("s", 200), ("v", 300), ("s", 900)),
            Verdict.HUMAN,
            "HUMAN-800-800",
        ),
        # clicks shorter than a word never end the initial silence nor start a greeting
        ((("s", 1000),) + (("v", 60), ("s", 700)) * 6, Verdict.NOTSURE, "TOOLONG-5000"),
    ],
)
def test_rules_on_frame_patterns(
    pattern: tuple[tuple[str, int], ...], verdict: Verdict, cause: str
) -> None:
    assert classify(frames(*pattern)) == AmdResult(verdict, cause)


def test_speech_from_the_first_frame_is_not_counted_as_a_word() -> None:
    # app_amd starts in STATE_IN_WORD: 3 bursts from t=0 make only 2 words -> not MAXWORDS.
    result = classify(
        frames(("v", 200), ("s", 100), ("v", 200), ("s", 100), ("v", 200), ("s", 900))
    )
    assert result == AmdResult(Verdict.HUMAN, "HUMAN-800-800")


def test_max_word_length() -> None:
    settings = AmdSettings(greeting_ms=4000, max_word_length_ms=1000)
    assert classify(frames(("s", 100), ("v", 2000)), settings).cause == "MAXWORDLENGTH-1000"


def test_audio_that_ends_undecided_is_notsure() -> None:
    assert classify(frames(("s", 500))) == AmdResult(Verdict.NOTSURE, "HANGUP-500")


def test_verdict_is_sticky_once_reached() -> None:
    detector = AmdDetector(AmdSettings(initial_silence_ms=100))
    verdicts = [detector.feed(QUIET) for _ in range(8)] + [detector.feed(VOICE)]
    assert verdicts[:4] == [None, None, None, None]
    assert set(verdicts[4:]) == {Verdict.MACHINE}


def test_threshold_is_configurable() -> None:
    loud_noise = [400, -400] * 80
    assert classify([loud_noise] * 200).verdict is Verdict.MACHINE  # one 4 s "word"
    quiet = AmdSettings(silence_threshold=500)
    assert classify([loud_noise] * 200, quiet).cause == "INITIALSILENCE-2500-2500"


def test_answering_machine_greeting_from_the_test_kit() -> None:
    result = classify(wav_frames(ASSETS / "am_greeting_beep_8k.wav"))
    assert result.verdict is Verdict.MACHINE, result


def test_alo_then_silence_is_human(tmp_path: Path) -> None:
    espeak, sox = require_tool("espeak-ng"), require_tool("sox")
    raw, wav = tmp_path / "alo_raw.wav", tmp_path / "alo.wav"
    subprocess.run([espeak, "-v", "es-419", "-s", "150", "-w", str(raw), "¿Aló?"], check=True)
    subprocess.run(
        [
            sox,
            str(raw),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(wav),
            "gain",
            "-n",
            "-3",
            "pad",
            "0.3",
            "3",
        ],
        check=True,
    )
    result = classify(wav_frames(wav))
    assert result.verdict is Verdict.HUMAN, result


def test_long_spoken_greeting_is_machine(tmp_path: Path) -> None:
    espeak, sox = require_tool("espeak-ng"), require_tool("sox")
    raw, wav = tmp_path / "greeting_raw.wav", tmp_path / "greeting.wav"
    text = (
        "Hola, te comunicaste con Ana. No puedo atenderte ahora, deja tu mensaje después del tono."
    )
    subprocess.run([espeak, "-v", "es-419", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        [
            sox,
            str(raw),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(wav),
            "gain",
            "-n",
            "-3",
            "pad",
            "0.5",
            "1",
        ],
        check=True,
    )
    assert classify(wav_frames(wav)).verdict is Verdict.MACHINE


def test_white_noise_only_is_a_long_greeting() -> None:
    import random

    rng = random.Random(3)
    noise = [[round(rng.gauss(0, 2000)) for _ in range(160)] for _ in range(300)]
    assert classify(noise).cause.startswith("LONGGREETING")
