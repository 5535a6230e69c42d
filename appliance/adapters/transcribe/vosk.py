"""`VoskTranscriber`: offline speech to text, one Vosk model per language loaded once and shared.

Decoding is CPU-bound and a model holds hundreds of MB, so it runs in worker threads behind a
semaphore (bounded concurrency) and never on the call path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import wave
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import ConfigError, MediaError

log = logging.getLogger(__name__)

_models: dict[Path, Any] = {}  # every transcriber in the process shares one model per path
_models_lock = threading.Lock()
_CHUNK_FRAMES = 4000


def load_model(path: Path) -> Any:
    """The loaded model at `path`, loading it on first use; ConfigError names a missing path."""
    resolved = model_dir(path)
    with _models_lock:
        model = _models.get(resolved)
        if model is None:
            import vosk  # the optional "stt" extra: only needed once transcription is on

            vosk.SetLogLevel(-1)  # Kaldi logs every load step to stderr otherwise
            model = vosk.Model(str(resolved))
            _models[resolved] = model
            log.info("Vosk model loaded from %s", resolved)
        return model


def model_dir(path: Path) -> Path:
    """The resolved model directory, or ConfigError naming the path when it holds no model."""
    resolved = path.expanduser().resolve()
    if not (resolved / "am").is_dir() or not (resolved / "conf").is_dir():
        raise ConfigError(f"no Vosk model at {resolved} (expected its am/ and conf/ folders)")
    return resolved


class VoskTranscriber:
    def __init__(
        self,
        model_paths: Mapping[str, Path],
        *,
        max_concurrent: int = 1,
        grammars: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`grammars` optionally limits a language to fixed phrases (fast and exact)."""
        self._paths = dict(model_paths)
        self._grammars = {k: list(v) for k, v in (grammars or {}).items()}
        self._slots = asyncio.Semaphore(max_concurrent)

    def check(self) -> None:
        """Raise ConfigError if any configured model directory is missing (for start-up)."""
        for path in self._paths.values():
            model_dir(path)

    async def transcribe(self, wav_path: Path, language: str) -> str:
        path = self._paths.get(language)
        if path is None:
            raise ConfigError(f"no Vosk model configured for language {language!r}")
        async with self._slots:
            return await asyncio.to_thread(self._decode, path, wav_path, language)

    def _decode(self, model_path: Path, wav_path: Path, language: str) -> str:
        import vosk

        model = load_model(model_path)
        rate, pcm = _read_pcm16(wav_path)
        grammar = self._grammars.get(language)
        if grammar is not None:
            phrases = json.dumps([*grammar, "[unk]"], ensure_ascii=False)
            recognizer = vosk.KaldiRecognizer(model, rate, phrases)
        else:
            recognizer = vosk.KaldiRecognizer(model, rate)
        step = _CHUNK_FRAMES * 2
        for start in range(0, len(pcm), step):
            recognizer.AcceptWaveform(pcm[start : start + step])
        text: str = json.loads(recognizer.FinalResult()).get("text", "")
        return text.replace("[unk]", "").strip()


def _read_pcm16(path: Path) -> tuple[int, bytes]:
    """Mono 16-bit little-endian PCM and its rate, whatever PCM WAV the recorder wrote."""
    try:
        with wave.open(str(path), "rb") as wf:
            channels, width, rate = wf.getnchannels(), wf.getsampwidth(), wf.getframerate()
            raw = wf.readframes(wf.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise MediaError(f"cannot read recording {path}: {exc}") from exc
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    else:
        raise MediaError(f"recording {path} has {width * 8}-bit samples; expected 8 or 16")
    if channels > 1:
        usable = len(samples) - len(samples) % channels
        samples = samples[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return rate, samples.astype("<i2").tobytes()
