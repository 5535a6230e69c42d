"""Prompt lookup, cache and framing; upload normalisation with the real sox."""

from __future__ import annotations

import os
import struct
import subprocess
import wave
from pathlib import Path

import pytest

from appliance.adapters.media.prompts import (
    FRAME_BYTES,
    PromptLibrary,
    UploadLimits,
    normalise_upload,
    split_frames,
)
from appliance.adapters.media.silence import frame_rms_dbfs
from appliance.errors import MediaError
from tests.support.tools import require_tool


def write_wav(path: Path, samples: list[int], rate: int = 8000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    shipped, override = tmp_path / "sounds", tmp_path / "service"
    write_wav(shipped / "es" / "welcome.wav", [1] * 400)
    write_wav(shipped / "es" / "goodbye.wav", [2] * 100)
    write_wav(shipped / "en" / "welcome.wav", [3] * 160)
    write_wav(shipped / "en" / "only_en.wav", [4] * 160)
    write_wav(override / "es" / "welcome.wav", [5] * 160)
    return override, shipped


def test_override_dir_wins_then_shipped_set(roots: tuple[Path, Path]) -> None:
    override, shipped = roots
    library = PromptLibrary([override, shipped])
    assert library.resolve("welcome") == override / "es" / "welcome.wav"
    assert library.resolve("goodbye") == shipped / "es" / "goodbye.wav"
    assert library.resolve("welcome", "en") == shipped / "en" / "welcome.wav"


def test_language_fallbacks(roots: tuple[Path, Path]) -> None:
    library = PromptLibrary(roots, fallback_language="en")
    assert library.resolve("goodbye", "es-419").parent.name == "es"
    assert library.resolve("only_en", "es").parent.name == "en"
    with pytest.raises(MediaError, match="not found"):
        PromptLibrary(roots).resolve("only_en", "es")


@pytest.mark.parametrize("name", ["../es/welcome", "/etc/passwd", "a b", "", "x/../y"])
def test_unsafe_names_are_refused(roots: tuple[Path, Path], name: str) -> None:
    with pytest.raises(MediaError, match="invalid prompt name"):
        PromptLibrary(roots).resolve(name)


def test_bad_language_tag_is_refused(roots: tuple[Path, Path]) -> None:
    with pytest.raises(MediaError, match="invalid language"):
        PromptLibrary(roots).resolve("welcome", "../es")


def test_frames_concatenate_and_pad(roots: tuple[Path, Path]) -> None:
    library = PromptLibrary(roots)
    frames = library.frames(["welcome", "goodbye"])  # 160 + 100 samples
    assert [len(f) for f in frames] == [FRAME_BYTES, FRAME_BYTES]
    assert frames[1][:200] == struct.pack("<100h", *[2] * 100)
    assert frames[1][200:] == bytes(120)
    assert split_frames(b"") == []


def test_cache_loads_once_and_reloads_a_replaced_file(roots: tuple[Path, Path]) -> None:
    override, _ = roots
    library = PromptLibrary(roots)
    first = library.pcm("welcome")
    assert library.pcm("welcome") is first
    path = write_wav(override / "es" / "welcome.wav", [9] * 320)
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse-grained file systems
    assert library.pcm("welcome") == struct.pack("<320h", *[9] * 320)


def test_wrong_format_is_a_clear_media_error(tmp_path: Path) -> None:
    write_wav(tmp_path / "es" / "wide.wav", [0] * 320, rate=16000)
    write_wav(tmp_path / "es" / "stereo.wav", [0] * 320, channels=2)
    (tmp_path / "es" / "junk.wav").write_bytes(b"this is not audio")
    library = PromptLibrary([tmp_path])
    with pytest.raises(MediaError, match="16000 Hz, 1 channel"):
        library.frames(["wide"])
    with pytest.raises(MediaError, match="8000 Hz, 2 channel"):
        library.frames(["stereo"])
    with pytest.raises(MediaError, match="not a PCM WAV"):
        library.frames(["junk"])


def test_ulaw_wav_is_refused(tmp_path: Path) -> None:
    sox = require_tool("sox")
    target = tmp_path / "es" / "ulaw.wav"
    target.parent.mkdir()
    subprocess.run(
        [
            sox,
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "u-law",
            str(target),
            "synth",
            "0.5",
            "sine",
            "440",
        ],
        check=True,
    )
    with pytest.raises(MediaError, match="8000 Hz mono 16-bit"):
        PromptLibrary([tmp_path]).frames(["ulaw"])


# --- uploads ---------------------------------------------------------------------------------


def synth(
    tmp_path: Path, name: str, *effects: str, rate: str = "44100", channels: str = "2"
) -> Path:
    sox = require_tool("sox")
    out = tmp_path / name
    subprocess.run([sox, "-n", "-r", rate, "-c", channels, str(out), "synth", *effects], check=True)
    return out


def read_prompt(path: Path) -> tuple[int, int, int, bytes]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


@pytest.mark.parametrize("suffix", ["wav", "mp3", "ogg"])
def test_upload_is_converted_and_normalised(tmp_path: Path, suffix: str) -> None:
    src = synth(tmp_path, f"upload.{suffix}", "2", "sine", "440", "gain", "-20")
    dst = tmp_path / "prompts" / "es" / "welcome.wav"
    info = normalise_upload(src, dst)
    assert info.seconds == pytest.approx(2.0, abs=0.1)  # MP3 adds encoder padding
    assert info.peak_dbfs == pytest.approx(-20, abs=1.0)
    rate, channels, width, pcm = read_prompt(dst)
    assert (rate, channels, width) == (8000, 1, 2)
    peak = max(abs(s) for s in struct.unpack(f"<{len(pcm) // 2}h", pcm))
    assert peak == pytest.approx(32768 * 10 ** (-3 / 20), rel=0.02)  # -3 dBFS
    assert PromptLibrary([tmp_path / "prompts"]).frames(["welcome"])


def test_spoken_upload(tmp_path: Path) -> None:
    espeak = require_tool("espeak-ng")
    src = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "es-419", "-w", str(src), "Gracias por llamar"], check=True)
    info = normalise_upload(src, tmp_path / "out.wav")
    assert 0.8 < info.seconds < 3
    _, _, _, pcm = read_prompt(tmp_path / "out.wav")
    assert frame_rms_dbfs(pcm) > -30


def test_silence_is_refused(tmp_path: Path) -> None:
    src = synth(tmp_path, "quiet.wav", "2", "sine", "440", "gain", "-70")
    dst = tmp_path / "out.wav"
    with pytest.raises(MediaError, match="silent"):
        normalise_upload(src, dst)
    assert not dst.exists()


def test_clipping_is_refused(tmp_path: Path) -> None:
    sox = require_tool("sox")
    clean = synth(tmp_path, "clean.wav", "2", "sine", "440", rate="8000", channels="1")
    clipped = tmp_path / "clipped.wav"
    subprocess.run([sox, "-V1", str(clean), str(clipped), "gain", "12"], check=True)  # sox clips
    with pytest.raises(MediaError, match="clipped"):
        normalise_upload(clipped, tmp_path / "out.wav")


def test_too_long_and_too_short_are_refused(tmp_path: Path) -> None:
    src = synth(tmp_path, "long.wav", "3", "sine", "440", "gain", "-10")
    with pytest.raises(MediaError, match="prompts may last 2 s"):
        normalise_upload(src, tmp_path / "out.wav", UploadLimits(max_seconds=2))
    short = synth(tmp_path, "short.wav", "0.1", "sine", "440", "gain", "-10")
    with pytest.raises(MediaError, match=r"only 0\.10 s"):
        normalise_upload(short, tmp_path / "out.wav")


def test_unreadable_upload_is_refused(tmp_path: Path) -> None:
    require_tool("sox")
    src = tmp_path / "fake.mp3"
    src.write_text("<html>not audio</html>")
    with pytest.raises(MediaError, match="cannot read the uploaded file"):
        normalise_upload(src, tmp_path / "out.wav")
