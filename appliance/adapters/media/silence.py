"""Frame levels and a silence timer on 20 ms PCM16 frames: ends a recording after N seconds of
quiet, and tells whether a finished recording holds any voice at all.
"""

from __future__ import annotations

import math

import numpy as np

FULL_SCALE = 32768.0
FLOOR_DBFS = -96.0  # reported for digital silence instead of -inf


def frame_rms_dbfs(pcm16: bytes) -> float:
    """RMS level of little-endian signed 16-bit samples, in dB relative to full scale."""
    _, sum_squares, count = frame_stats(pcm16)
    return rms_dbfs(sum_squares, count)


def frame_stats(pcm16: bytes) -> tuple[int, float, int]:
    """(peak |sample|, sum of squares, sample count) of little-endian signed 16-bit PCM."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    if samples.size == 0:
        return 0, 0.0, 0
    as_float = samples.astype(np.float64)
    peak = max(int(samples.max()), -int(samples.min()))
    return peak, float(np.dot(as_float, as_float)), int(samples.size)


def rms_dbfs(sum_squares: float, count: int) -> float:
    return to_dbfs(math.sqrt(sum_squares / count)) if count else FLOOR_DBFS


def to_dbfs(amplitude: float) -> float:
    """dBFS of a linear amplitude, floored at FLOOR_DBFS."""
    if amplitude <= 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(amplitude / FULL_SCALE))


class SilenceDetector:
    """Counts consecutive quiet frames; `feed` says when the quiet has lasted `timeout_ms`.

    A missing frame (None: no RTP this tick) is quiet. The default threshold sits above line
    noise (-60..-50 dBFS) and well below speech (-35..-15 dBFS).
    """

    def __init__(
        self, timeout_ms: int = 5000, threshold_dbfs: float = -45.0, frame_ms: int = 20
    ) -> None:
        self.timeout_ms = timeout_ms
        self.threshold_dbfs = threshold_dbfs
        self.frame_ms = frame_ms
        self.silent_ms = 0
        self.voiced_ms = 0

    def is_quiet(self, pcm16: bytes | None) -> bool:
        return pcm16 is None or frame_rms_dbfs(pcm16) < self.threshold_dbfs

    def feed(self, pcm16: bytes | None) -> bool:
        """Account one frame; True once silence has lasted at least timeout_ms."""
        return self.feed_level(None if pcm16 is None else frame_rms_dbfs(pcm16))

    def feed_level(self, level_dbfs: float | None) -> bool:
        """Same as feed() for a frame whose level the caller already measured (None: no frame)."""
        if level_dbfs is None or level_dbfs < self.threshold_dbfs:
            self.silent_ms += self.frame_ms
        else:
            self.silent_ms = 0
            self.voiced_ms += self.frame_ms
        return self.silent_ms >= self.timeout_ms

    def reset(self) -> None:
        self.silent_ms = 0
        self.voiced_ms = 0
