"""The load callers' pcap: RFC 4733 digits on the timeline, one continuous RTP stream."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

from bench.caller_audio import DIGIT_PACKETS, caller_pcap, digit_packets, ip_checksum
from bench.calls import SPEECH


def _rtp_headers(pcap: Path) -> list[tuple[int, int, int, int, bytes]]:
    data, out, off = pcap.read_bytes(), [], 24
    while off < len(data):
        _, _, size, _ = struct.unpack_from("<IIII", data, off)
        frame = data[off + 16: off + 16 + size]
        rtp = frame[14 + 20 + 8:]
        _, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", rtp)
        out.append((b1 & 0x7F, seq, ts, ssrc, rtp[12:]))
        off += 16 + size
    return out


def test_each_key_is_a_run_of_updates_then_three_end_packets() -> None:
    events = digit_packets([(1.0, "2#")])
    first = sorted(k for k, v in events.items() if v[0] == 2)
    assert first == list(range(50, 50 + DIGIT_PACKETS + 2))
    ends = [events[k][2] for k in first]
    assert ends == [False] * (DIGIT_PACKETS - 1) + [True] * 3
    hash_slots = sorted(k for k, v in events.items() if v[0] == 11)
    assert hash_slots[0] == first[-1] + 1 + DIGIT_PACKETS  # a gap between the keys


def test_pcap_is_one_stream_with_the_digits_where_asked(tmp_path: Path) -> None:
    packets = _rtp_headers(caller_pcap(tmp_path / "c.pcap", 4.0, speech=[(0.5, SPEECH)],
                                       digits=[(1.0, "2"), (3.0, "#")]))
    assert len(packets) == 200
    assert len({p[3] for p in packets}) == 1
    assert all((b[1] - a[1]) & 0xFFFF == 1 for a, b in itertools.pairwise(packets))
    events = [(i, p[4][0]) for i, p in enumerate(packets) if p[0] == 101]
    assert events[0] == (50, 2) and events[-1][1] == 11 and events[-1][0] >= 150
    assert any(p[0] == 0 and p[4] != b"\xff" * 160 for p in packets[25:50])  # speech is there


def test_ip_checksum_of_a_header_with_its_checksum_is_zero() -> None:
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    summed = header[:10] + struct.pack("!H", ip_checksum(header)) + header[12:]
    assert ip_checksum(summed) == 0
