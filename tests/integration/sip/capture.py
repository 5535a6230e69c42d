"""What a SIPp caller really heard: tshark captures the RTP sent to its media port on lo, and
this module reads the pcap and decodes G.711 with its own reference tables (Sun g711.c), so a
codec bug in the appliance cannot cancel out in the check."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass
from pathlib import Path

from tests.support.tools import require_tool


@dataclass
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool


class Capture:
    def __init__(self, path: Path, udp_port: int) -> None:
        self.path = path
        self.port = udp_port
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Capture:
        self._proc = await asyncio.create_subprocess_exec(
            require_tool("tshark"), "-i", "lo", "-f", f"udp dst port {self.port}",
            "-F", "pcap", "-w", str(self.path),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stderr is not None
        line = await asyncio.wait_for(self._proc.stderr.readline(), 15)
        while b"Capturing on" not in line:
            line = await asyncio.wait_for(self._proc.stderr.readline(), 15)
            if not line:
                raise RuntimeError("tshark did not start capturing")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._proc is not None
        await asyncio.sleep(0.3)  # let the last packets land
        self._proc.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._proc.communicate(), 10)

    def packets(self) -> list[RtpPacket]:
        return read_rtp(self.path)


def read_rtp(path: Path) -> list[RtpPacket]:
    data = path.read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", data)
    assert magic == 0xA1B2C3D4, "expected a little-endian libpcap file"
    link_len = {1: 14, 113: 16, 0: 4}[linktype]
    out: list[RtpPacket] = []
    pos = 24
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        ip = frame[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        rtp = ip[(ip[0] & 0x0F) * 4 + 8 :]
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        first, second, seq, ts, ssrc = struct.unpack_from("!BBHII", rtp)
        out.append(RtpPacket(second & 0x7F, seq, ts, ssrc, rtp[12 + 4 * (first & 0x0F) :],
                             bool(second & 0x80)))
    return out


def _alaw_to_linear(code: int) -> int:
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        value += 8
    elif segment == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (segment - 1)
    return value if code & 0x80 else -value


def _ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    value = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - value if code & 0x80 else value - 0x84


ALAW = [_alaw_to_linear(c) for c in range(256)]
ULAW = [_ulaw_to_linear(c) for c in range(256)]


def decode(packets: list[RtpPacket], payload_type: int) -> list[int]:
    table = ALAW if payload_type == 8 else ULAW
    return [table[b] for p in packets if p.payload_type == payload_type for b in p.payload]
