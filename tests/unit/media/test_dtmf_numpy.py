"""The numpy in-band DTMF detector against the pure domain one on the same inputs: the same
digits at the same moment (per fed chunk), on tones, ulaw, noise, twist, speech and random
audio fed in awkward chunk sizes; and the per-block tone powers agree."""

from __future__ import annotations

import math
import random
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.adapters.media import g711
from appliance.adapters.media.dtmf_numpy import NumpyGoertzelDetector
from appliance.domain.dtmf import DIGITS, GoertzelDetector, GoertzelSettings

ASSETS = Path(__file__).parents[2] / "assets" / "media"
RATE = 8000
FREQS = {
    d: (r, c)
    for r, row in zip((697, 770, 852, 941), ("123A", "456B", "789C", "*0#D"), strict=True)
    for c, d in zip((1209, 1336, 1477, 1633), row, strict=True)
}


def _tone(digit: str, ms: int, low_amp: float = 6000, high_amp: float = 6000) -> list[int]:
    low, high = FREQS[digit]
    return [round(low_amp * math.sin(2 * math.pi * low * i / RATE)
                  + high_amp * math.sin(2 * math.pi * high * i / RATE))
            for i in range(ms * RATE // 1000)]


def _silence(ms: int) -> list[int]:
    return [0] * (ms * RATE // 1000)


def _ulaw(samples: list[int]) -> list[int]:
    data = g711.ulaw_decode(g711.ulaw_encode(struct.pack(f"<{len(samples)}h", *samples)))
    return list(struct.unpack(f"<{len(samples)}h", data))


def _wav(name: str) -> list[int]:
    with wave.open(str(ASSETS / name), "rb") as w:
        frames = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(frames) // 2}h", frames))


def _keyed_sequence(rng: random.Random) -> list[int]:
    out: list[int] = []
    for digit in rng.choices(DIGITS, k=12):
        out += _tone(digit, rng.choice((15, 30, 40, 60, 120)), rng.uniform(30, 9000),
                     rng.uniform(30, 9000))
        out += _silence(rng.choice((0, 10, 30, 60)))
    return [max(-32768, min(32767, s + round(rng.gauss(0, rng.choice((0, 50, 400))))))
            for s in out]


def _cases() -> dict[str, list[int]]:
    rng = random.Random(4733)
    every_key = [s for d in DIGITS for s in _tone(d, 80) + _silence(60)]
    return {
        "every_key": every_key,
        "every_key_ulaw": _ulaw(every_key),
        "long_and_repeated": _tone("5", 900) + _silence(50) + _tone("5", 200),
        "no_gap_change": _tone("1", 200) + _tone("2", 200),
        "twist_18db": _tone("3", 200, 8000, 1000),
        "reverse_twist": _tone("9", 200, 2000, 6000),
        "quiet": _tone("4", 200, 50, 50),
        "speech": _wav("speech_8k.wav"),
        "am_greeting": _wav("am_greeting_beep_8k.wav"),
        "random_keys_1": _keyed_sequence(rng),
        "random_keys_2": _keyed_sequence(rng),
        "white_noise": [round(rng.gauss(0, 3000)) for _ in range(16000)],
    }


CASES = _cases()


def _run(detector: GoertzelDetector, samples: list[int], chunk: int) -> list[tuple[int, str]]:
    """(chunk index, digit) for every digit: when it was reported, not only what."""
    found: list[tuple[int, str]] = []
    for index, start in enumerate(range(0, len(samples), chunk)):
        found += [(index, d) for d in detector.feed(samples[start : start + chunk])]
    return found


@pytest.mark.parametrize("chunk", [160, 37, 102, 1000])
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_digits_at_the_same_time_as_the_pure_detector(name: str, chunk: int) -> None:
    samples = CASES[name]
    assert _run(NumpyGoertzelDetector(), samples, chunk) == _run(GoertzelDetector(), samples,
                                                                  chunk)


def test_the_cases_exercise_both_outcomes() -> None:
    # guard against a comparison that passes because both detectors find nothing
    pure = {name: "".join(d for _, d in _run(GoertzelDetector(), s, 160))
            for name, s in CASES.items()}
    assert pure["every_key"] == DIGITS and pure["every_key_ulaw"] == DIGITS
    assert pure["long_and_repeated"] == "55" and pure["no_gap_change"] == "12"
    assert pure["twist_18db"] == pure["quiet"] == pure["speech"] == ""
    assert len(pure["random_keys_1"]) >= 3


def test_feed_pcm16_matches_feed() -> None:
    samples = CASES["random_keys_2"]
    data = struct.pack(f"<{len(samples)}h", *samples)
    by_bytes: list[str] = []
    detector = NumpyGoertzelDetector()
    for start in range(0, len(data), 320):
        by_bytes += detector.feed_pcm16(data[start : start + 320])
    assert by_bytes == [d for _, d in _run(GoertzelDetector(), samples, 160)]


def test_block_powers_match_the_goertzel_recurrence() -> None:
    settings = GoertzelSettings()
    pure, fast = GoertzelDetector(settings), NumpyGoertzelDetector(settings)
    rng = random.Random(9)
    block = [rng.randint(-20000, 20000) for _ in range(settings.block_size)]
    expected = [pure._goertzel(block, c) for c in pure._coeffs]
    got = np.square(np.asarray(block, dtype=np.float64) @ fast._basis)
    assert np.allclose(got[:8] + got[8:], expected, rtol=1e-9)
