"""Crash-safe WAV recording of a caller's message, repair of files left by a crash, and the
8-bit conversion used for small email attachments.

The header is valid from the first byte on and its sizes are rewritten after every flush (~1 s),
so a process killed mid-message leaves a file any WAV reader opens, short of the last second.
"""

from __future__ import annotations

import os
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from appliance.adapters.media.silence import SilenceDetector, frame_stats, rms_dbfs, to_dbfs
from appliance.errors import MediaError

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")  # canonical 44-byte PCM header, data chunk last
_RIFF_SIZE_AT, _DATA_SIZE_AT = 4, 40


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    seconds: float
    bytes: int  # audio data bytes (the file is 44 bytes longer)
    peak_dbfs: float
    rms_dbfs: float
    voiced_seconds: float
    silent: bool  # no voice worth keeping: under `min_voice_ms` of non-quiet frames


def wav_header(data_bytes: int, sample_rate: int = 8000, sample_width: int = 2) -> bytes:
    """A mono PCM WAV header announcing `data_bytes` of samples."""
    return _HEADER.pack(
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, 1, sample_rate,
        sample_rate * sample_width, sample_width, 8 * sample_width, b"data", data_bytes,
    )  # fmt: skip


def pcm16_to_u8(pcm16: bytes) -> bytes:
    """Signed 16-bit to unsigned 8-bit linear (WAV's 8-bit format), by dropping the low byte."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    converted: bytes = ((samples >> 8) + 128).astype(np.uint8).tobytes()
    return converted


def u8_to_pcm16(data: bytes) -> bytes:
    samples = np.frombuffer(data, dtype=np.uint8).astype(np.int16)
    converted: bytes = ((samples - 128) << 8).astype("<i2").tobytes()
    return converted


class WavRecorder:
    """Appends 20 ms frames of PCM16 to a WAV file, one per media-clock tick.

    `write_frame` only touches the disk once a second; `close` fsyncs and should run in a
    worker thread (asyncio.to_thread) so the media clock never waits on the disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_width: int = 2,
        *,
        sample_rate: int = 8000,
        frame_ms: int = 20,
        flush_every_ms: int = 1000,
        silence_threshold_dbfs: float = -45.0,
        min_voice_ms: int = 200,
    ) -> None:
        if sample_width not in (1, 2):
            raise MediaError(f"WAV sample width must be 1 or 2 bytes, not {sample_width}")
        self.path = Path(path)
        self.sample_width, self.sample_rate = sample_width, sample_rate
        self._silence_frame = bytes(2 * sample_rate * frame_ms // 1000)
        self._flush_bytes = sample_rate * sample_width * flush_every_ms // 1000
        self._quiet = SilenceDetector(threshold_dbfs=silence_threshold_dbfs, frame_ms=frame_ms)
        self._min_voice_ms = min_voice_ms
        self._pending = bytearray()
        self._written = 0
        self._peak = 0
        self._sum_squares = 0.0
        self._samples = 0
        self._fd: int | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o640)
            _write_all(self._fd, wav_header(0, sample_rate, sample_width))
        except OSError as exc:
            raise MediaError(f"cannot create recording {self.path}: {exc}") from exc

    def write_frame(self, pcm16: bytes | None) -> None:
        """Append one frame; None (no audio this tick) is written as silence to keep wall time."""
        if self._fd is None:
            raise MediaError(f"recording {self.path} is closed")
        if pcm16 is None:
            frame = self._silence_frame
            self._samples += len(frame) // 2
            self._quiet.feed_level(None)
        else:
            frame = pcm16
            self._account(frame)
        self._pending += frame if self.sample_width == 2 else pcm16_to_u8(frame)
        if len(self._pending) >= self._flush_bytes:
            self.flush()

    @property
    def seconds(self) -> float:
        """Audio recorded so far (written or pending)."""
        return (self._written + len(self._pending)) / (self.sample_rate * self.sample_width)

    def flush(self) -> None:
        """Write pending audio, then the header sizes that cover it (data first, header after)."""
        if self._fd is None or not self._pending:
            return
        try:
            _write_all(self._fd, bytes(self._pending))
            self._written += len(self._pending)
            self._pending.clear()
            os.pwrite(self._fd, struct.pack("<I", 36 + self._written), _RIFF_SIZE_AT)
            os.pwrite(self._fd, struct.pack("<I", self._written), _DATA_SIZE_AT)
        except OSError as exc:
            raise MediaError(f"cannot write recording {self.path}: {exc}") from exc

    def close(self) -> RecordingInfo:
        """Flush, fsync the file and its directory, and describe what was recorded."""
        if self._fd is not None:
            self.flush()
            try:
                os.fsync(self._fd)
                os.close(self._fd)
                _fsync_dir(self.path.parent)
            except OSError as exc:
                raise MediaError(f"cannot save recording {self.path}: {exc}") from exc
            finally:
                self._fd = None
        return self._info()

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _account(self, frame: bytes) -> None:
        peak, sum_squares, count = frame_stats(frame)
        self._peak = max(self._peak, peak)
        self._sum_squares += sum_squares
        self._samples += count
        self._quiet.feed_level(rms_dbfs(sum_squares, count) if count else None)

    def _info(self) -> RecordingInfo:
        rms = (self._sum_squares / self._samples) ** 0.5 if self._samples else 0.0
        voiced = self._quiet.voiced_ms
        return RecordingInfo(
            path=self.path,
            seconds=self._written / (self.sample_rate * self.sample_width),
            bytes=self._written,
            peak_dbfs=round(to_dbfs(self._peak), 2),
            rms_dbfs=round(to_dbfs(rms), 2),
            voiced_seconds=voiced / 1000,
            silent=voiced < self._min_voice_ms,
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    # The file's directory entry must reach the disk too, or a power cut can lose the whole file.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def convert_wav(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], sample_width: int
) -> float:
    """Copy a mono PCM WAV to `sample_width` (1: unsigned 8-bit, 2: signed 16-bit); returns seconds."""
    if sample_width not in (1, 2):
        raise MediaError(f"WAV sample width must be 1 or 2 bytes, not {sample_width}")
    try:
        with wave.open(os.fspath(src), "rb") as reader:
            params, data = reader.getparams(), reader.readframes(reader.getnframes())
        if params.nchannels != 1 or params.sampwidth not in (1, 2):
            raise MediaError(f"{src}: expected mono 8/16-bit PCM WAV")
        pcm16 = data if params.sampwidth == 2 else u8_to_pcm16(data)
        out = pcm16 if sample_width == 2 else pcm16_to_u8(pcm16)
        with wave.open(os.fspath(dst), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(sample_width)
            writer.setframerate(params.framerate)
            writer.writeframes(out)
    except (OSError, EOFError, wave.Error) as exc:
        raise MediaError(f"cannot convert {src}: {exc}") from exc
    return params.nframes / params.framerate


def repair_wav(path: str | os.PathLike[str]) -> float:
    """Fix the RIFF and data sizes of a WAV cut short by a crash; returns its seconds of audio.

    The audio is taken to run from the data chunk to the end of the file (how WavRecorder
    writes), unless the declared sizes already account for the whole file.
    """
    try:
        with open(path, "r+b") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(min(size, 4096))
            block_align, byte_rate, data_at, declared = _parse_header(head, path)
            if _consistent(f, size, data_at, declared):
                return declared / byte_rate
            audio = (size - data_at) // block_align * block_align
            f.truncate(data_at + audio)
            f.seek(_RIFF_SIZE_AT)
            f.write(struct.pack("<I", data_at + audio - 8))
            f.seek(data_at - 4)
            f.write(struct.pack("<I", audio))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise MediaError(f"cannot repair recording {path}: {exc}") from exc
    return audio / byte_rate


def _parse_header(head: bytes, path: object) -> tuple[int, int, int, int]:
    """(block_align, byte_rate, offset of the audio, declared data size) of a PCM WAV."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise MediaError(f"{path} is not a WAV file")
    offset, fmt = 12, None
    while offset + 8 <= len(head):
        chunk, length = struct.unpack_from("<4sI", head, offset)
        if chunk == b"fmt " and offset + 24 <= len(head):
            fmt = struct.unpack_from("<HHIIH", head, offset + 8)
        elif chunk == b"data":
            if fmt is None or fmt[4] == 0 or fmt[3] == 0:
                break
            return fmt[4], fmt[3], offset + 8, length
        offset += 8 + length + (length & 1)
    raise MediaError(f"{path}: no usable fmt/data chunks in its header")


def _consistent(f: BinaryIO, size: int, data_at: int, declared: int) -> bool:
    end = data_at + declared + (declared & 1)
    if declared == 0 or end > size:
        return False
    if end == size:
        return True
    # Something follows the audio: leave the file alone only if it is exactly one more chunk.
    f.seek(end)
    trailer = f.read(8)
    if len(trailer) < 8 or not trailer[:4].isalnum():
        return False
    (length,) = struct.unpack("<I", trailer[4:])
    return end + 8 + int(length) == size
