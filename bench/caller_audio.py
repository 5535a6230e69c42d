"""The load callers' audio: one RTP pcap (one SSRC, continuous seq/timestamps) of PCMU speech
with RFC 4733 digits on a timeline, for SIPp's play_pcap_audio. Adapted from the test kit's
mkrtp_pcap.py; the mu-law comes from the appliance's own codec."""

from __future__ import annotations

import random
import struct
import wave
from collections.abc import Sequence
from pathlib import Path

from appliance.adapters.media.g711 import ulaw_encode

EVENTS = {c: i for i, c in enumerate("0123456789*#")}
SPP = 160  # samples per 20 ms packet
DIGIT_PACKETS = 6  # 120 ms of tone per digit, then the end packet three times
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet link type


def ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def ethernet_frame(payload: bytes) -> bytes:
    """SIPp replays only the RTP inside; addresses and ports here are placeholders."""
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


def digit_packets(digits: Sequence[tuple[float, str]]) -> dict[int, tuple[int, int, bool, bool, int]]:
    """Packet slot -> (event, duration, end, first, start slot) for each key of each string."""
    events: dict[int, tuple[int, int, bool, bool, int]] = {}
    for at, keys in digits:
        slot = int(at * 50)
        for key in keys:
            start = slot
            for k in range(DIGIT_PACKETS + 2):
                n = min(k + 1, DIGIT_PACKETS)
                events[slot + k] = (EVENTS[key], n * SPP, k >= DIGIT_PACKETS - 1, k == 0, start)
            slot += DIGIT_PACKETS + 2 + DIGIT_PACKETS  # the next key after a 120 ms gap
    return events


def caller_pcap(out: Path, seconds: float, *, speech: Sequence[tuple[float, Path]] = (),
                digits: Sequence[tuple[float, str]] = ()) -> Path:
    """Write `seconds` of PCMU caller audio: each WAV starts at its time, each digit string at its."""
    packets = int(seconds * 50)
    pcm = bytearray(packets * SPP * 2)
    for at, wav in speech:
        audio, start = read_wav(wav), int(at * 8000) * 2
        pcm[start:start + len(audio)] = audio[: len(pcm) - start]
    events = digit_packets(digits)
    ssrc, seq, ts0 = random.getrandbits(32), random.getrandbits(15), random.getrandbits(31)
    with out.open("wb") as f:
        f.write(PCAP_HEADER)
        for i in range(packets):
            if i in events:
                event, duration, end, marker, start = events[i]
                pt, ts = 101, ts0 + start * SPP
                payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            else:
                pt, marker, ts = 0, i == 0, ts0 + i * SPP
                payload = ulaw_encode(bytes(pcm[i * SPP * 2:(i + 1) * SPP * 2]))
            rtp = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, (seq + i) & 0xFFFF,
                              ts & 0xFFFFFFFF, ssrc)
            frame = ethernet_frame(rtp + payload)
            sec, usec = divmod(i * 20_000, 1_000_000)
            f.write(struct.pack("<IIII", 1_600_000_000 + sec, usec, len(frame), len(frame)))
            f.write(frame)
    return out
