"""Reading RTP packets out of the test kit's classic pcap captures (Ethernet, IPv4, UDP)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def read_rtp(path: Path) -> list[RtpPacket]:
    """Every UDP datagram of the capture parsed as RTP, in capture order."""
    data = path.read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and linktype == 1, "classic little-endian Ethernet pcap expected"
    packets, offset = [], 24
    while offset + 16 <= len(data):
        caplen = struct.unpack("<I", data[offset + 8 : offset + 12])[0]
        frame = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        ihl = (frame[14] & 0x0F) * 4
        rtp = frame[14 + ihl + 8 :]
        seq, ts, ssrc = struct.unpack("!HII", rtp[2:12])
        cc = rtp[0] & 0x0F
        packets.append(
            RtpPacket(rtp[1] & 0x7F, bool(rtp[1] & 0x80), seq, ts, ssrc, rtp[12 + 4 * cc :])
        )
    return packets
