"""G.711 codecs against ITU reference values, the stdlib reference implementation and error bounds."""

from __future__ import annotations

import struct
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from appliance.adapters.media import g711
from appliance.errors import MediaError

ALL_SAMPLES = struct.pack("<65536h", *range(-32768, 32768))


def _pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


@pytest.mark.parametrize(
    ("sample", "ulaw", "alaw"),
    [
        (0, 0xFF, 0xD5),
        (-1, 0x7E, 0x55),  # the reference floors negatives on the 14-bit scale
        (8, 0xFE, 0xD5),
        (32767, 0x80, 0xAA),
        (-32768, 0x00, 0x2A),
    ],
)
def test_known_encodings(sample: int, ulaw: int, alaw: int) -> None:
    assert g711.ulaw_encode(_pcm(sample)) == bytes([ulaw])
    assert g711.alaw_encode(_pcm(sample)) == bytes([alaw])


@pytest.mark.parametrize(
    ("code", "ulaw_value", "alaw_value"),
    [
        (0xFF, 0, 848),
        (0x7F, 0, -848),
        (0x80, 32124, 5504),
        (0x00, -32124, -5504),
        (0xD5, 716, 8),
        (0x55, -716, -8),
        (0xAA, 5372, 32256),
        (0x2A, -5372, -32256),
    ],
)
def test_known_decodings(code: int, ulaw_value: int, alaw_value: int) -> None:
    assert g711.ulaw_decode(bytes([code])) == _pcm(ulaw_value)
    assert g711.alaw_decode(bytes([code])) == _pcm(alaw_value)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="audioop was removed in Python 3.13")
def test_matches_stdlib_reference_for_every_sample_and_code() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    codes = bytes(range(256))
    assert g711.ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(ALL_SAMPLES, 2)
    assert g711.alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES, 2)
    assert g711.ulaw_decode(codes) == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_decode(codes) == audioop.alaw2lin(codes, 2)


@pytest.mark.parametrize(
    ("encode", "decode", "clip"),
    [(g711.ulaw_encode, g711.ulaw_decode, 32124), (g711.alaw_encode, g711.alaw_decode, 32256)],
)
def test_round_trip_error_is_bounded(
    encode: Callable[[bytes], bytes], decode: Callable[[bytes], bytes], clip: int
) -> None:
    original = np.frombuffer(ALL_SAMPLES, dtype="<i2").astype(np.int32)
    restored = np.frombuffer(decode(encode(ALL_SAMPLES)), dtype="<i2").astype(np.int32)
    inside = np.abs(original) <= clip
    error = np.abs(original - restored)[inside]
    # Logarithmic quantiser: the error grows with the level; half a step is at most ~5 % of it
    # (μ-law just above a segment edge) and 11 LSB near zero.
    bound = np.maximum(12, np.abs(original[inside]) / 18)
    assert bool(np.all(error <= bound))
    assert bool(np.all(np.abs(restored[~inside]) == clip))


def test_codes_survive_decode_then_encode() -> None:
    codes = bytes(range(256))
    assert g711.alaw_encode(g711.alaw_decode(codes)) == codes
    ulaw = g711.ulaw_encode(g711.ulaw_decode(codes))
    # 0x7F is μ-law's "negative zero": it decodes to 0, which encodes as 0xFF.
    assert ulaw == codes.replace(b"\x7f", b"\xff")


def test_odd_length_pcm_is_a_media_error() -> None:
    with pytest.raises(MediaError):
        g711.ulaw_encode(b"\x00\x00\x00")


def test_codec_for_payload_types() -> None:
    assert g711.codec_for(0) == (g711.ulaw_encode, g711.ulaw_decode)
    assert g711.codec_for(8) == (g711.alaw_encode, g711.alaw_decode)
    assert g711.silence(8, 4) == b"\xd5" * 4
    with pytest.raises(MediaError):
        g711.codec_for(18)


def test_frame_encode_decode_costs_a_few_microseconds() -> None:
    frame = struct.pack("<160h", *(int(8000 * np.sin(i / 5)) for i in range(160)))
    rounds = 20000
    start = time.perf_counter()
    for _ in range(rounds):
        g711.ulaw_decode(g711.ulaw_encode(frame))
    per_frame_us = (time.perf_counter() - start) / rounds * 1e6
    # 300 calls x 50 frames/s x both directions is 30 000 conversions a second: 20 µs each is 60 %
    # of one core at worst; a few µs is expected.
    assert per_frame_us < 20, per_frame_us


def test_pcma_capture_from_the_test_kit_matches_its_source_wav() -> None:
    import wave
    from pathlib import Path

    from tests.unit.media.pcap import read_rtp

    assets = Path(__file__).parents[2] / "assets" / "media"
    payload = b"".join(p.payload for p in read_rtp(assets / "speech_pcma.pcap"))
    with wave.open(str(assets / "speech_8k.wav"), "rb") as w:
        pcm = w.readframes(w.getnframes())
    assert g711.alaw_encode(pcm) == payload[: len(pcm) // 2]
    original = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    decoded = np.frombuffer(g711.alaw_decode(payload[: len(pcm) // 2]), dtype="<i2")
    noise = original - decoded
    snr_db = 10 * np.log10(np.sum(original**2) / np.sum(noise**2))
    assert snr_db > 30  # G.711 gives ~37 dB on speech; an inverted sign bit gives < 0
