"""The WAV we attach to emails: 8 kHz mono PCM, 16-bit signed or 8-bit unsigned as configured.

8-bit is what Portav ships (half the size, still intelligible for speech); 16-bit is selectable.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from appliance.errors import MediaError

SampleWidth = Literal[1, 2]
RATE = 8000


def attachment_wav(path: Path, sample_width: SampleWidth) -> bytes:
    """Read a recording and return it as WAV bytes with the requested sample width."""
    samples = read_mono_int16(path)
    return encode_wav(samples, sample_width)


def read_mono_int16(path: Path) -> npt.NDArray[np.int16]:
    try:
        with wave.open(str(path), "rb") as wf:
            channels, width, rate = wf.getnchannels(), wf.getsampwidth(), wf.getframerate()
            raw = wf.readframes(wf.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise MediaError(f"cannot read recording {path}: {exc}") from exc
    if rate != RATE:
        raise MediaError(f"recording {path} is {rate} Hz; recordings are written at {RATE} Hz")
    samples = _to_int16(raw, width, path)
    if channels > 1:
        # Downmix by averaging in a wider type so two loud channels cannot overflow.
        frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
        samples = frames.astype(np.int32).mean(axis=1).astype(np.int16)
    return samples


def encode_wav(samples: npt.NDArray[np.int16], sample_width: SampleWidth) -> bytes:
    if sample_width == 1:
        # WAV 8-bit is unsigned with 128 as silence: keep the top byte of each sample.
        data = ((samples.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
    else:
        data = samples.astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(sample_width)
        out.setframerate(RATE)
        out.writeframes(data)
    return buf.getvalue()


def _to_int16(raw: bytes, width: int, path: Path) -> npt.NDArray[np.int16]:
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if width == 1:
        return ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    raise MediaError(f"recording {path} has {width * 8}-bit samples; expected 8 or 16")
