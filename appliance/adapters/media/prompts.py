"""Prompt audio: finding `<root>/<lang>/<name>.wav` (per-service overrides before the shipped set),
keeping it in memory as 8 kHz mono PCM16, cutting it into 20 ms frames for playback, and turning
an admin's upload (WAV/MP3/OGG) into such a prompt with sox.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.adapters.media.silence import to_dbfs
from appliance.errors import MediaError

SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono
_NAME = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class PromptLibrary:
    """Resolves and caches prompts; `root_dirs` are searched in order (overrides first).

    A language such as "es-419" falls back to "es", then to `fallback_language`. The cache is
    keyed by file identity (path, size, mtime), so a prompt replaced from the web UI is reloaded.
    """

    def __init__(
        self,
        root_dirs: Sequence[str | os.PathLike[str]],
        language: str = "es",
        fallback_language: str | None = None,
    ) -> None:
        self.root_dirs = [Path(d) for d in root_dirs]
        self.language = language
        self.fallback_language = fallback_language
        self._cache: dict[Path, tuple[tuple[int, int], bytes]] = {}

    def resolve(self, name: str, language: str | None = None) -> Path:
        """The file that plays for `name` in `language`; MediaError if there is none."""
        if not _NAME.fullmatch(name):
            raise MediaError(f"invalid prompt name {name!r}")
        for lang in self._languages(language or self.language):
            for root in self.root_dirs:
                candidate = root / lang / f"{name}.wav"
                if candidate.is_file():
                    return candidate
        roots = ", ".join(str(r) for r in self.root_dirs)
        raise MediaError(f"prompt {name!r} ({language or self.language}) not found under {roots}")

    def pcm(self, name: str, language: str | None = None) -> bytes:
        """The prompt's samples as 8 kHz mono little-endian PCM16."""
        path = self.resolve(name, language)
        try:
            st = path.stat()
        except OSError as exc:
            raise MediaError(f"cannot read prompt {path}: {exc}") from exc
        identity = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is None or cached[0] != identity:
            cached = (identity, load_pcm16(path))
            self._cache[path] = cached
        return cached[1]

    def frames(self, names: Sequence[str], language: str | None = None) -> list[bytes]:
        """The prompts one after another, as 320-byte 20 ms frames, the last padded with silence."""
        audio = b"".join(self.pcm(name, language) for name in names)
        return split_frames(audio)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _languages(self, language: str) -> list[str]:
        if not _LANG.fullmatch(language):
            raise MediaError(f"invalid language tag {language!r}")
        chain = [language, language.split("-")[0]]
        if self.fallback_language:
            chain.append(self.fallback_language)
        return list(dict.fromkeys(chain))


def split_frames(pcm16: bytes, frame_bytes: int = FRAME_BYTES) -> list[bytes]:
    """Cut PCM into fixed frames, padding the last one with silence."""
    frames = [pcm16[i : i + frame_bytes] for i in range(0, len(pcm16), frame_bytes)]
    if frames and len(frames[-1]) < frame_bytes:
        frames[-1] = frames[-1].ljust(frame_bytes, b"\x00")
    return frames


def load_pcm16(path: Path) -> bytes:
    """Read an 8 kHz mono 16-bit PCM WAV; MediaError naming the file and its format otherwise."""
    try:
        with wave.open(str(path), "rb") as reader:
            rate, channels, width = (
                reader.getframerate(),
                reader.getnchannels(),
                reader.getsampwidth(),
            )
            if (rate, channels, width) != (SAMPLE_RATE, 1, 2):
                raise MediaError(
                    f"prompt {path} is {rate} Hz, {channels} channel(s), {8 * width}-bit: "
                    "prompts must be 8000 Hz mono 16-bit PCM WAV (upload it again to convert it)"
                )
            return reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise MediaError(
            f"prompt {path} is not a PCM WAV file ({exc}): prompts must be 8000 Hz mono 16-bit PCM"
        ) from exc
    except OSError as exc:
        raise MediaError(f"cannot read prompt {path}: {exc}") from exc


@dataclass(frozen=True)
class UploadLimits:
    max_seconds: float = 120.0
    min_seconds: float = 0.3
    silent_below_dbfs: float = -45.0  # peak of the whole upload
    clipped_fraction: float = 0.001  # share of samples at full scale that means distortion


@dataclass(frozen=True)
class UploadInfo:
    seconds: float
    peak_dbfs: float  # of the upload as received, before normalising to -3 dBFS
    rms_dbfs: float
    sox_warnings: str


_SOX_FORMAT = ["-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
_SOX_TIMEOUT_S = 60
_SOX_CLIPPED = re.compile(r"clipped (\d+) samples")


def normalise_upload(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    limits: UploadLimits | None = None,
) -> UploadInfo:
    """Convert an uploaded WAV/MP3/OGG to an 8 kHz mono 16-bit prompt peaking at -3 dBFS.

    Refuses (MediaError, with a message for the admin) unreadable files, silence, clipping and
    recordings too short or too long. Blocking: call it from a worker thread.
    """
    limits = limits or UploadLimits()
    sox = shutil.which("sox")
    if sox is None:
        raise MediaError("sox is not installed: it is needed to convert uploaded prompts")
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="desborde-upload-") as tmp:
        raw = Path(tmp) / "raw.wav"
        warnings = _sox(sox, [os.fspath(src), *_SOX_FORMAT, str(raw)])
        info = _check_levels(load_pcm16(raw), limits, warnings)
        out = Path(tmp) / "out.wav"
        _sox(sox, [os.fspath(src), *_SOX_FORMAT, str(out), "gain", "-n", "-3"])
        # Replace atomically: a prompt being played never reads a half-written file.
        shutil.move(str(out), os.fspath(dst) + ".tmp")
        os.replace(os.fspath(dst) + ".tmp", dst)
    return info


def _sox(sox: str, args: list[str]) -> str:
    try:
        done = subprocess.run(
            [sox, "-V2", *args], capture_output=True, text=True, timeout=_SOX_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError("the uploaded file took too long to convert") from exc
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or ["unknown error"]
        raise MediaError(f"cannot read the uploaded file as WAV, MP3 or OGG audio: {reason[0]}")
    return done.stderr.strip()


def _check_levels(pcm16: bytes, limits: UploadLimits, warnings: str) -> UploadInfo:
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.int32)
    seconds = samples.size / SAMPLE_RATE
    if seconds > limits.max_seconds:
        raise MediaError(
            f"the recording lasts {seconds:.0f} s; prompts may last {limits.max_seconds:.0f} s"
        )
    if seconds < limits.min_seconds:
        raise MediaError(f"the recording lasts only {seconds:.2f} s")
    peak = int(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    info = UploadInfo(round(seconds, 3), round(to_dbfs(peak), 2), round(to_dbfs(rms), 2), warnings)
    if info.peak_dbfs < limits.silent_below_dbfs:
        raise MediaError(f"the recording is silent (peak {info.peak_dbfs:.0f} dBFS)")
    # Flat tops at full scale, or sox itself clipping while resampling ("rate clipped N samples").
    at_full_scale = int(np.count_nonzero(np.abs(samples) >= 32700))
    at_full_scale += sum(int(n) for n in _SOX_CLIPPED.findall(warnings))
    if at_full_scale > limits.clipped_fraction * samples.size:
        raise MediaError("the recording is clipped (distorted): record it again at a lower level")
    return info
