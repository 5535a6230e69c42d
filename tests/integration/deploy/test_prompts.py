"""The shipped prompt set: every prompt in sounds/prompts.tsv, in both languages, in the
telephony format, audible and below full scale; and make_prompts.sh rebuilds one the same way."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.domain.prompts import DEFAULT_PROMPTS
from tests.support.tools import require_tool

SOUNDS = Path(__file__).resolve().parents[3] / "sounds"
LANGS = ("es", "en")
# Every name the menu can play, plus those the call flow, callbacks and incidents play.
REQUIRED = set(DEFAULT_PROMPTS) | {
    "asap",
    "callback_agent_whisper",
    "callback_next_opening",
    "incident_default",
    "message_too_short",
    "recording_failed",
}


def _table() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in (SOUNDS / "prompts.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, es, en = line.split("\t")
            rows[name] = (es, en)
    return rows


TABLE = _table()


TELEPHONY = (8000, 1, 2, "NONE")  # rate, channels, bytes per sample, no compression


def _read(path: Path) -> tuple[tuple[int, int, int, str], np.ndarray]:
    """The WAV's format and its samples (read as 16-bit: the format check says if that is wrong)."""
    with wave.open(str(path), "rb") as w:
        fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype())
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return fmt, samples


def test_table_names_every_prompt_the_menu_plays() -> None:
    assert TABLE.keys() >= REQUIRED, sorted(REQUIRED - TABLE.keys())


def test_readme_lists_every_prompt_with_its_text() -> None:
    readme = (SOUNDS / "README.md").read_text(encoding="utf-8")
    for name, (es, en) in TABLE.items():
        assert f"| `{name}` | {es} | {en} |" in readme, name


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(TABLE))
def test_prompt_is_audible_8khz_mono_pcm16(name: str, lang: str) -> None:
    path = SOUNDS / lang / f"{name}.wav"
    fmt, samples = _read(path)
    assert fmt == TELEPHONY, path
    assert len(samples) >= 1600, f"{path} is shorter than 0.2 s"
    peak = int(np.abs(samples.astype(np.int32)).max())
    if TABLE[name][0 if lang == "es" else 1].startswith("@silence"):
        assert peak == 0, path
        return
    # Normalised to -3 dBFS (23197): audible, with headroom for the G.711 encoder.
    assert 16384 < peak < 32767, f"{path} peak {peak}"
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 500, f"{path} is nearly silent (rms {rms:.0f})"


def test_beep_is_a_1khz_tone() -> None:
    fmt, samples = _read(SOUNDS / "es" / "beep.wav")
    assert fmt == TELEPHONY
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    peak_hz = float(np.argmax(spectrum)) * 8000 / len(samples)
    assert abs(peak_hz - 1000) < 10
    assert len(samples) == 3200  # 400 ms


def test_script_rebuilds_prompts_in_the_same_format(tmp_path: Path) -> None:
    require_tool("espeak-ng")
    require_tool("sox")
    names = ["digit_7", "menu_business", "beep"]
    subprocess.run(
        ["bash", str(SOUNDS / "make_prompts.sh"), "--out", str(tmp_path), *names],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for lang in LANGS:
        for name in names:
            built, shipped = tmp_path / lang / f"{name}.wav", SOUNDS / lang / f"{name}.wav"
            fmt, built_samples = _read(built)
            assert fmt == TELEPHONY, built
            # Same length within 15%: not byte equality, another espeak-ng release may differ.
            ratio = len(built_samples) / len(_read(shipped)[1])
            assert 0.85 < ratio < 1.15, f"{built} length ratio {ratio:.2f}"
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme == (SOUNDS / "README.md").read_text(encoding="utf-8")


def test_script_refuses_an_unknown_prompt_name(tmp_path: Path) -> None:
    require_tool("espeak-ng")
    require_tool("sox")
    result = subprocess.run(
        ["bash", str(SOUNDS / "make_prompts.sh"), "--out", str(tmp_path), "no_such_prompt"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "no_such_prompt" in result.stderr
