"""Crash-safe WAV recording: header always valid, sizes kept current, a SIGKILLed recorder
leaves a readable file, repair after a crash, levels, and the 8-bit conversion."""

from __future__ import annotations

import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import pytest

from appliance.adapters.media.recorder import WavRecorder, convert_wav, repair_wav, wav_header
from appliance.errors import MediaError

REPO = Path(__file__).parents[3]


def sine_frame(index: int, amplitude: float = 16384.0) -> bytes:
    start = index * 160
    samples = (
        round(amplitude * math.sin(2 * math.pi * 440 * (start + i) / 8000)) for i in range(160)
    )
    return struct.pack("<160h", *samples)


def read_wav(path: Path) -> tuple[wave._wave_params, bytes]:
    with wave.open(str(path), "rb") as w:
        return w.getparams(), w.readframes(w.getnframes())


def test_header_is_valid_from_the_start(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "sub" / "m.wav")
    params, data = read_wav(recorder.path)
    assert (params.nchannels, params.sampwidth, params.framerate, params.nframes) == (1, 2, 8000, 0)
    assert data == b""
    recorder.close()


def test_sizes_are_updated_every_second_while_recording(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "m.wav")
    for i in range(60):
        recorder.write_frame(sine_frame(i))
    params, data = read_wav(recorder.path)
    assert params.nframes == 8000  # the first second is on disk, 0.2 s still pending
    assert data == b"".join(sine_frame(i) for i in range(50))
    assert recorder.seconds == pytest.approx(1.2)
    info = recorder.close()
    assert read_wav(recorder.path)[0].nframes == 9600
    assert (info.seconds, info.bytes) == (pytest.approx(1.2), 19200)


def test_missing_frames_are_silence_and_levels_are_reported(tmp_path: Path) -> None:
    with WavRecorder(tmp_path / "m.wav") as recorder:
        for i in range(25):
            recorder.write_frame(sine_frame(i))
            recorder.write_frame(None)
    info = recorder.close()  # closing twice is harmless
    _, data = read_wav(recorder.path)
    assert data[320:640] == bytes(320)
    assert info.seconds == pytest.approx(1.0)
    assert info.peak_dbfs == pytest.approx(-6.02, abs=0.01)
    assert info.rms_dbfs == pytest.approx(-12.04, abs=0.05)  # sine -9 dBFS, half the time
    assert info.voiced_seconds == pytest.approx(0.5)
    assert info.silent is False


def test_silent_recording_is_flagged(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "m.wav")
    for i in range(100):
        recorder.write_frame(None if i % 2 else sine_frame(i, amplitude=40))  # line noise only
    info = recorder.close()
    assert info.silent is True
    assert info.seconds == pytest.approx(2.0)


def test_eight_bit_recording(tmp_path: Path) -> None:
    recorder = WavRecorder(tmp_path / "m8.wav", sample_width=1)
    for i in range(50):
        recorder.write_frame(sine_frame(i))
    info = recorder.close()
    params, data = read_wav(recorder.path)
    assert (params.sampwidth, params.nframes, info.bytes) == (1, 8000, 8000)
    expected = [(s >> 8) + 128 for s in struct.unpack("<160h", sine_frame(0))]
    assert list(data[:160]) == expected


def test_misuse_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        WavRecorder(tmp_path / "x.wav", sample_width=3)
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(MediaError):
        WavRecorder(tmp_path / "file" / "x.wav")
    recorder = WavRecorder(tmp_path / "x.wav")
    recorder.close()
    with pytest.raises(MediaError):
        recorder.write_frame(None)


CHILD = textwrap.dedent(
    """
    import math, struct, sys, time
    from appliance.adapters.media.recorder import WavRecorder

    recorder = WavRecorder(sys.argv[1])
    frames, pace = int(sys.argv[2]), float(sys.argv[3])
    i = 0
    while True:
        samples = (round(16384 * math.sin(2 * math.pi * 440 * (i * 160 + k) / 8000)) for k in range(160))
        recorder.write_frame(struct.pack("<160h", *samples))
        i += 1
        if i == frames:
            print("ready", flush=True)
        time.sleep(pace)
    """
)


def _start_child(path: Path, frames: int, pace: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(frames), str(pace)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sigkill_after_3_5_seconds_keeps_the_first_3(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    child = _start_child(path, frames=175, pace=0.0)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdout.close()
        os.kill(child.pid, signal.SIGSTOP)  # freeze it right after frame 175, then kill
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    params, data = read_wav(path)
    assert params.nframes >= 24000  # 150 frames flushed; 25 at most in the lost buffer
    assert data[: 150 * 320] == b"".join(sine_frame(i) for i in range(150))


def test_sigkill_at_a_random_moment_then_repair(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    child = _start_child(path, frames=1, pace=0.0005)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdout.close()
        time.sleep(0.7)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    readable = read_wav(path)[0].nframes
    assert readable > 0 and readable % 8000 == 0  # whole flushed seconds
    seconds = repair_wav(path)
    params, data = read_wav(path)
    assert params.nframes == round(seconds * 8000) >= readable
    assert path.stat().st_size == 44 + 2 * params.nframes
    whole = params.nframes // 160
    assert data[: whole * 320] == b"".join(sine_frame(i) for i in range(whole))


def test_repair_fixes_stale_sizes_and_a_torn_sample(tmp_path: Path) -> None:
    path = tmp_path / "crashed.wav"
    audio = b"".join(sine_frame(i) for i in range(10))
    path.write_bytes(wav_header(0) + audio + b"\x01")  # header never updated, half a sample
    assert repair_wav(path) == pytest.approx(0.2)
    params, data = read_wav(path)
    assert (params.nframes, data) == (1600, audio)


def test_repair_leaves_good_files_alone(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    with wave.open(str(good), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(sine_frame(0) * 50)
    before = good.read_bytes()
    assert repair_wav(good) == pytest.approx(1.0)
    assert good.read_bytes() == before
    with_list = tmp_path / "list.wav"
    tail = b"LIST" + struct.pack("<I", 4) + b"INFO"
    body = before[44:] + tail
    with_list.write_bytes(
        wav_header(len(before) - 44)[:4] + struct.pack("<I", 36 + len(body)) + before[8:44] + body
    )
    snapshot = with_list.read_bytes()
    assert repair_wav(with_list) == pytest.approx(1.0)
    assert with_list.read_bytes() == snapshot


def test_repair_refuses_what_is_not_a_wav(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"ID3" + bytes(100))
    with pytest.raises(MediaError):
        repair_wav(bogus)
    with pytest.raises(MediaError):
        repair_wav(tmp_path / "absent.wav")


def test_convert_wav_to_8_bit_and_back(tmp_path: Path) -> None:
    src, small, back = tmp_path / "a.wav", tmp_path / "a8.wav", tmp_path / "a16.wav"
    recorder = WavRecorder(src)
    for i in range(25):
        recorder.write_frame(sine_frame(i))
    recorder.close()
    assert convert_wav(src, small, 1) == pytest.approx(0.5)
    assert read_wav(small)[0].sampwidth == 1
    assert convert_wav(small, back, 2) == pytest.approx(0.5)
    original = struct.unpack("<4000h", read_wav(src)[1])
    restored = struct.unpack("<4000h", read_wav(back)[1])
    assert max(abs(a - b) for a, b in zip(original, restored, strict=True)) < 256


def test_convert_refuses_stereo(tmp_path: Path) -> None:
    stereo = tmp_path / "s.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(400))
    with pytest.raises(MediaError):
        convert_wav(stereo, tmp_path / "o.wav", 1)
