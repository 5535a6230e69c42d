"""DTMF: RFC 4733 events (incl. the test kit's real capture), SIP INFO bodies, in-band Goertzel."""

from __future__ import annotations

import math
import random
import wave
from pathlib import Path

import pytest

from appliance.adapters.media import g711
from appliance.domain.dtmf import (
    DIGITS,
    GoertzelDetector,
    Rfc4733Receiver,
    encode_events,
    parse_dtmf_relay,
    parse_telephone_event,
)
from tests.unit.media.pcap import read_rtp

ASSETS = Path(__file__).parents[2] / "assets" / "media"
RATE = 8000
FREQS = {
    d: (r, c)
    for r, row in zip((697, 770, 852, 941), ("123A", "456B", "789C", "*0#D"), strict=True)
    for c, d in zip((1209, 1336, 1477, 1633), row, strict=True)
}


def _event(event: int, end: bool, duration: int) -> bytes:
    return bytes([event, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")


# --- RFC 4733 -------------------------------------------------------------------------------


def test_parse_telephone_event_fields() -> None:
    ev = parse_telephone_event(b"\x0b\x8a\x03\x20")
    assert ev is not None
    assert (ev.event, ev.end, ev.volume, ev.duration, ev.digit) == (11, True, 10, 800, "#")
    assert parse_telephone_event(b"\x01\x02") is None


def test_real_capture_gives_1234hash_once_each() -> None:
    receiver = Rfc4733Receiver()
    events = [p for p in read_rtp(ASSETS / "dtmf_1234hash_pcmu.pcap") if p.payload_type == 101]
    digits = [receiver.feed(p.timestamp, p.payload, p.marker) for p in events]
    assert "".join(d for d in digits if d) == "1234#"


def test_end_packet_retransmissions_do_not_duplicate() -> None:
    receiver = Rfc4733Receiver()
    got = [receiver.feed(1000, _event(5, False, 160), True)]
    got += [receiver.feed(1000, _event(5, True, 320)) for _ in range(3)]
    assert got == ["5", None, None, None]


def test_back_to_back_digits_16_ms_apart_are_separate() -> None:
    # baresip: 180 ms digits, the next one starting 16 ms (128 samples) after the previous end.
    receiver = Rfc4733Receiver()
    got = []
    ts = 0
    for digit in (1, 1, 2):
        got.append(receiver.feed(ts, _event(digit, False, 160), True))
        got.extend(receiver.feed(ts, _event(digit, True, 1440)) for _ in range(3))
        ts += 1440 + 128
    assert [d for d in got if d] == ["1", "1", "2"]


def test_lost_start_packet_still_reports_the_digit_once() -> None:
    receiver = Rfc4733Receiver()
    assert receiver.feed(500, _event(9, False, 320)) == "9"
    assert receiver.feed(500, _event(9, True, 640)) is None


def test_late_packet_of_previous_event_after_reordering_is_ignored() -> None:
    receiver = Rfc4733Receiver()
    assert receiver.feed(100, _event(1, False, 160), True) == "1"
    assert receiver.feed(2000, _event(2, False, 160), True) == "2"
    assert receiver.feed(100, _event(1, True, 800)) is None


def test_events_beyond_16_and_garbage_are_ignored() -> None:
    receiver = Rfc4733Receiver()
    assert receiver.feed(1, _event(16, False, 160)) is None  # flash hook
    assert receiver.feed(2, b"\x01") is None


def test_reset_forgets_timestamps() -> None:
    receiver = Rfc4733Receiver()
    assert receiver.feed(7, _event(3, False, 160)) == "3"
    receiver.reset()
    assert receiver.feed(7, _event(3, False, 160)) == "3"


def test_encode_events_matches_the_real_senders_layout() -> None:
    packets = encode_events("#", 100)
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert [p.end for p in packets] == [False] * 4 + [True] * 3
    durations = [int.from_bytes(p.payload[2:4], "big") for p in packets]
    assert durations == [160, 320, 480, 640, 800, 800, 800]
    assert {p.payload[0] for p in packets} == {11}
    receiver = Rfc4733Receiver()
    assert [receiver.feed(42, p.payload, p.marker) for p in packets].count("#") == 1


def test_encode_short_event_has_one_marked_packet() -> None:
    packets = encode_events("a", 10)
    assert [(p.marker, p.end) for p in packets] == [(True, True), (False, True), (False, True)]
    with pytest.raises(ValueError):
        encode_events("x")


# --- SIP INFO -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("Signal=5\r\nDuration=160\r\n", "5"),
        ("Signal= #\r\nDuration= 250", "#"),
        ("signal=*\nduration=100", "*"),
        ("Signal=11\r\nDuration=160", "#"),
        ("Signal=d", "D"),
        ("7", "7"),
        ("  *\r\n", "*"),
        ("Duration=160", None),
        ("Signal=x", None),
        ("", None),
        ("hello", None),
    ],
)
def test_parse_dtmf_relay(body: str, digit: str | None) -> None:
    assert parse_dtmf_relay(body) == digit


# --- In-band --------------------------------------------------------------------------------


def _tone(digit: str, ms: int, amplitude: float = 6000, phase: float = 0.0) -> list[int]:
    low, high = FREQS[digit]
    n = ms * RATE // 1000
    return [
        round(
            amplitude
            * (
                math.sin(2 * math.pi * low * i / RATE + phase)
                + math.sin(2 * math.pi * high * i / RATE)
            )
        )
        for i in range(n)
    ]


def _silence(ms: int) -> list[int]:
    return [0] * (ms * RATE // 1000)


def _detect(samples: list[int], chunk: int = 160) -> str:
    detector = GoertzelDetector()
    found: list[str] = []
    for i in range(0, len(samples), chunk):
        found += detector.feed(samples[i : i + chunk])
    return "".join(found)


def _through_ulaw(samples: list[int]) -> list[int]:
    import struct

    data = g711.ulaw_decode(g711.ulaw_encode(struct.pack(f"<{len(samples)}h", *samples)))
    return list(struct.unpack(f"<{len(samples)}h", data))


def test_every_key_is_detected_once() -> None:
    samples: list[int] = []
    for digit in DIGITS:
        samples += _tone(digit, 80) + _silence(60)
    assert _detect(samples) == DIGITS


def test_40_ms_tones_with_40_ms_gaps_through_ulaw() -> None:
    samples: list[int] = _silence(13)
    for digit in "159#0":
        samples += _tone(digit, 40) + _silence(40)
    assert _detect(_through_ulaw(samples)) == "159#0"


def test_long_press_is_one_digit_and_repeats_need_a_gap() -> None:
    assert _detect(_tone("5", 900)) == "5"
    assert _detect(_tone("5", 200) + _silence(50) + _tone("5", 200)) == "55"


def test_digit_change_without_gap_reports_both() -> None:
    assert _detect(_tone("1", 200) + _tone("2", 200)) == "12"


@pytest.mark.parametrize(
    "offset", range(0, 102, 7)
)  # every alignment against the 102-sample blocks
def test_tone_length_limits_at_any_alignment(offset: int) -> None:
    # Q.24: >= 40 ms must be detected; very short tones (here <= 15 ms) must not.
    assert _detect([0] * offset + _tone("7", 40) + _silence(100)) == "7"
    assert _detect([0] * offset + _tone("7", 15) + _silence(100)) == ""


def test_twist_beyond_limits_is_rejected() -> None:
    low, high = FREQS["3"]
    n = 200 * RATE // 1000
    samples = [
        round(
            8000 * math.sin(2 * math.pi * low * i / RATE)
            + 1000 * math.sin(2 * math.pi * high * i / RATE)
        )
        for i in range(n)
    ]  # 18 dB twist
    assert _detect(samples) == ""


def test_tone_under_noise_is_still_detected() -> None:
    rng = random.Random(1)
    samples = [s + round(rng.gauss(0, 300)) for s in _tone("8", 120) + _silence(80)]
    assert _detect(samples, chunk=37) == "8"


def test_quiet_tone_below_threshold_is_ignored() -> None:
    assert _detect(_tone("4", 200, amplitude=50)) == ""


def test_feed_pcm16_bytes() -> None:
    import struct

    samples = _tone("6", 100) + _silence(40)
    assert GoertzelDetector().feed_pcm16(struct.pack(f"<{len(samples)}h", *samples)) == ["6"]


def _wav_samples(path: Path) -> list[int]:
    import struct

    with wave.open(str(path), "rb") as w:
        frames = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(frames) // 2}h", frames))


@pytest.mark.parametrize("name", ["speech_8k.wav", "am_greeting_beep_8k.wav"])
def test_speech_gives_no_false_digits(name: str) -> None:
    assert _detect(_wav_samples(ASSETS / name)) == ""


def test_speech_like_noise_gives_no_false_digits() -> None:
    # Voiced-speech stand-in: a 120-220 Hz glottal pulse train with harmonics, amplitude-modulated.
    rng = random.Random(7)
    samples: list[int] = []
    for _ in range(40):
        f0 = rng.uniform(110, 220)
        for i in range(1600):
            voiced = sum(math.sin(2 * math.pi * f0 * k * i / RATE) / k for k in range(1, 20))
            samples.append(
                round(3000 * voiced * (0.5 + 0.5 * math.sin(i / 300)) + rng.gauss(0, 200))
            )
    assert _detect(samples) == ""
