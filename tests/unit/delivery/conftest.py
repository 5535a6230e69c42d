"""Fixtures for delivery unit tests: a small recording on disk."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest


def write_tone(path: Path, *, seconds: float = 0.5, rate: int = 8000, width: int = 2) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    pcm = (np.sin(2 * np.pi * 440 * t) * 20000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(
            pcm.tobytes() if width == 2 else ((pcm >> 8) + 128).astype(np.uint8).tobytes()
        )
    return path


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "rec.wav")
