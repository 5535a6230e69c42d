"""Caller audio for SIPp: an RTP pcap (one SSRC, continuous seq/timestamps) with speech and
RFC 4733 digits placed on a timeline, for `<exec play_pcap_audio=...>`. Adapted from the
test kit's mkrtp_pcap.py; G.711 comes from the appliance's own codec."""

from __future__ import annotations

import random
import struct
import wave
from collections.abc import Sequence
from pathlib import Path

from appliance.adapters.media.g711 import alaw_encode, ulaw_encode

EVENTS = {c: i for i, c in enumerate("0123456789*#")}
SPP = 160  # samples per 20 ms packet
DIGIT_PACKETS = 6  # 120 ms of tone per digit by default, then the end packet three times


def ip_checksum(header: bytes) -> int:
    total = int(sum(struct.unpack(f"!{len(header) // 2}H", header)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _frame(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return b"\0\0\0\0\0\x02\0\0\0\0\0\x01\x08\x00" + ip + udp


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (8000, 1, 2):
            raise ValueError(f"{path}: need 8 kHz mono 16-bit PCM")
        return w.readframes(w.getnframes())


def digit_packets(
    digits: Sequence[tuple[float, str]], *, digit_ms: int = 120, gap_ms: int = 120
) -> dict[int, tuple[int, int, bool, bool, int]]:
    """Packet slot -> (event, duration, end, first, start slot) for each key of each string."""
    events: dict[int, tuple[int, int, bool, bool, int]] = {}
    n = max(1, digit_ms // 20)
    for at, keys in digits:
        slot = int(at * 50)
        for key in keys:
            for k in range(n + 2):  # updates, then the end packet sent three times
                events[slot + k] = (EVENTS[key], min(k + 1, n) * SPP, k >= n - 1, k == 0, slot)
            slot += n + 2 + max(1, gap_ms // 20)
    return events


def caller_pcap(
    out: Path,
    seconds: float,
    *,
    speech: Sequence[tuple[float, Path]] = (),
    digits: Sequence[tuple[float, str]] = (),
    codec: str = "pcmu",
    digit_ms: int = 120,
    gap_ms: int = 120,
) -> Path:
    """Write `seconds` of caller audio: each WAV starts at its time, each digit string at its."""
    packets = int(seconds * 50)
    pcm = bytearray(packets * SPP * 2)
    for at, wav in speech:
        audio = read_wav(wav)
        start = int(at * 8000) * 2
        pcm[start:start + len(audio)] = audio[: len(pcm) - start]
    events = digit_packets(digits, digit_ms=digit_ms, gap_ms=gap_ms)
    encode, pt = (ulaw_encode, 0) if codec == "pcmu" else (alaw_encode, 8)
    ssrc, seq, ts0 = random.getrandbits(32), random.getrandbits(15), random.getrandbits(31)
    with out.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(packets):
            if i in events:
                event, duration, end, first, start = events[i]
                kind, marker, ts = 101, first, ts0 + start * SPP
                payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            else:
                kind, marker, ts = pt, i == 0, ts0 + i * SPP
                payload = encode(bytes(pcm[i * SPP * 2:(i + 1) * SPP * 2]))
            rtp = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | kind, (seq + i) & 0xFFFF,
                              ts & 0xFFFFFFFF, ssrc)
            packet = _frame(rtp + payload)
            sec, usec = divmod(i * 20_000, 1_000_000)
            f.write(struct.pack("<IIII", 1_600_000_000 + sec, usec, len(packet), len(packet)))
            f.write(packet)
    return out
