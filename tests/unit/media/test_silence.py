"""Frame levels and the silence timer."""

from __future__ import annotations

import math
import struct

import pytest

from appliance.adapters.media.silence import (
    FLOOR_DBFS,
    SilenceDetector,
    frame_rms_dbfs,
    frame_stats,
)


def sine_frame(amplitude: float, hz: float = 400.0) -> bytes:
    return struct.pack(
        "<160h", *(round(amplitude * math.sin(2 * math.pi * hz * i / 8000)) for i in range(160))
    )


QUIET = bytes(320)


def test_levels() -> None:
    assert frame_rms_dbfs(sine_frame(32767)) == pytest.approx(-3.01, abs=0.05)
    assert frame_rms_dbfs(sine_frame(3277)) == pytest.approx(-23.0, abs=0.1)
    assert frame_rms_dbfs(QUIET) == FLOOR_DBFS
    assert frame_rms_dbfs(b"") == FLOOR_DBFS


def test_timeout_after_continuous_quiet() -> None:
    detector = SilenceDetector(timeout_ms=100)
    assert [detector.feed(QUIET) for _ in range(5)] == [False] * 4 + [True]


def test_voice_restarts_the_timer_and_none_is_quiet() -> None:
    detector = SilenceDetector(timeout_ms=60)
    results = [detector.feed(f) for f in (None, None, sine_frame(8000), None, QUIET, None)]
    assert results == [False, False, False, False, False, True]
    assert detector.voiced_ms == 20


def test_line_noise_is_quiet_and_threshold_is_configurable() -> None:
    noise = sine_frame(60)  # about -58 dBFS
    assert SilenceDetector().is_quiet(noise)
    assert not SilenceDetector(threshold_dbfs=-70).is_quiet(noise)
    assert not SilenceDetector().is_quiet(sine_frame(3000))


def test_frame_stats_and_feed_level() -> None:
    peak, sum_squares, count = frame_stats(struct.pack("<3h", -32768, 3, 4))
    assert (peak, sum_squares, count) == (32768, 32768.0**2 + 25, 3)
    assert frame_stats(b"") == (0, 0.0, 0)
    detector = SilenceDetector(timeout_ms=40, threshold_dbfs=-30)
    assert [detector.feed_level(x) for x in (-20.0, -31.0, None)] == [False, False, True]
