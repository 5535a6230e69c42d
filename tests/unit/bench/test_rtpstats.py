"""RTP pacing statistics from tshark field rows."""

from __future__ import annotations

import itertools

import pytest

from bench.rtpstats import (
    RtpPacket,
    parse_event_fields,
    parse_fields,
    split_streams,
    stream_stats,
    summarize_streams,
)


def _stream(src: int, n: int, gap_at: int | None = None, gap_s: float = 0.1) -> list[RtpPacket]:
    packets, t = [], 1000.0
    for i in range(n):
        if i == gap_at:
            t += gap_s - 0.02
        packets.append(RtpPacket(t, src, 40000, 0, i, i * 160))
        t += 0.02
    return packets


def test_parse_fields_skips_rows_tshark_could_not_dissect() -> None:
    text = ("1795382130.5\t21044\t48874\t0\t17\t3200\n"
            "1795382130.52\t21044\t48874\t\t\t\n"
            "garbage\n")
    assert parse_fields(text) == [RtpPacket(1795382130.5, 21044, 48874, 0, 17, 3200)]


def test_a_perfect_stream_is_50_packets_per_second_without_jitter() -> None:
    stats = stream_stats(_stream(21044, 500))
    assert stats.pps == pytest.approx(50.0)
    assert stats.ipd_p99_ms == pytest.approx(20.0)
    assert stats.jitter_ms == pytest.approx(0.0, abs=1e-6)


def test_a_100_ms_stall_shows_in_the_max_gap_and_the_jitter() -> None:
    stats = stream_stats(_stream(21044, 500, gap_at=250))
    assert stats.max_gap_ms == pytest.approx(100.0)
    assert stats.ipd_p99_ms == pytest.approx(20.0)  # one gap in 499 is above p99
    assert stats.pps == pytest.approx(499 / (498 * 0.02 + 0.1))


def test_alternating_15_and_25_ms_gaps_settle_at_5_ms_of_jitter() -> None:
    packets, t = [], 0.0
    for i in range(500):
        packets.append(RtpPacket(t, 21044, 40000, 0, i, i * 160))
        t += 0.015 if i % 2 else 0.025
    assert stream_stats(packets).jitter_ms == pytest.approx(5.0, abs=0.01)


def test_streams_are_split_by_port_pair_and_short_ones_dropped() -> None:
    packets = _stream(21044, 100) + _stream(21046, 100) + _stream(21048, 10)
    streams = split_streams(reversed(packets))
    assert [s[0].src for s in streams] == [21044, 21046]
    assert all(a.t < b.t for s in streams for a, b in itertools.pairwise(s))


def test_summary_takes_the_worst_stream_for_the_minimum_rate() -> None:
    streams = split_streams(_stream(21044, 500) + _stream(21046, 500, gap_at=100, gap_s=1.0))
    summary = summarize_streams(streams)
    assert summary.streams == 2 and summary.packets == 1000
    assert summary.pps_min == pytest.approx(stream_stats(streams[1]).pps)
    assert summary.pps_min < summary.pps_mean < 50.0
    assert summary.ipd_max_ms == pytest.approx(1000.0)


def test_key_presses_on_the_wire_count_each_event_start_once() -> None:
    rows = "\n".join([
        "21044\t2\t1000", "21044\t2\t1000", "21044\t2\t1000",  # updates and end packets
        "21044\t11\t9000", "21044\t11\t9000",
        "21046\t2\t5000", "21046\t11\t7000",
        "21048\t\t", "bad line",
    ])
    assert parse_event_fields(rows) == {"2": 2, "#": 2}
