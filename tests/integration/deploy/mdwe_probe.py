"""Run the appliance's native-code libraries with W^X enforced, as MemoryDenyWriteExecute=yes does.

Usage: python mdwe_probe.py PROMPT.wav VOSK_MODEL_DIR. Exit 0 and print "ok" when all of them work.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import sys
import wave

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1


def enforce_wx() -> None:
    """Turn on the kernel's memory-deny-write-execute for this process, and prove it is on."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_MDWE) failed: errno {ctypes.get_errno()}")
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        return
    sys.exit("a writable+executable mapping was still allowed")


def exercise(wav_path: str, model_dir: str) -> None:
    import argon2
    import numpy as np
    import vosk

    matrix = np.random.default_rng(1).random((200, 200))
    assert float((matrix @ matrix).sum()) > 0
    assert argon2.PasswordHasher().verify(argon2.PasswordHasher().hash("pw"), "pw")
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
    assert callback(1) == 2
    vosk.SetLogLevel(-2)
    with wave.open(wav_path, "rb") as w:
        recognizer = vosk.KaldiRecognizer(vosk.Model(model_dir), w.getframerate())
        recognizer.AcceptWaveform(w.readframes(w.getnframes()))
    assert "text" in json.loads(recognizer.FinalResult())


if __name__ == "__main__":
    enforce_wx()
    exercise(sys.argv[1], sys.argv[2])
    print("ok")
