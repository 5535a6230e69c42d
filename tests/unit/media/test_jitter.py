"""Jitter buffer: ordering, loss, duplicates, wrap-around, restarts and bursts."""

from __future__ import annotations

import random
from pathlib import Path

from appliance.adapters.media.jitter import JitterBuffer
from tests.unit.media.pcap import read_rtp

ASSETS = Path(__file__).parents[2] / "assets" / "media"


def frame(n: int) -> bytes:
    return n.to_bytes(2, "big") * 80


def push(jb: JitterBuffer, seq: int, ssrc: int = 1, ts: int | None = None) -> None:
    jb.push(seq % 65536, (seq * 160 if ts is None else ts) % (1 << 32), ssrc, frame(seq % 65536))


def drain(jb: JitterBuffer, ticks: int) -> list[int | None]:
    out: list[int | None] = []
    for _ in range(ticks):
        f = jb.pop()
        out.append(None if f is None else int.from_bytes(f[:2], "big"))
    return out


def test_waits_for_depth_then_plays_in_order() -> None:
    jb = JitterBuffer(depth_ms=60)
    push(jb, 10)
    push(jb, 11)
    assert jb.pop() is None  # 40 ms buffered: still priming
    push(jb, 12)
    assert drain(jb, 3) == [10, 11, 12]


def test_reordering_and_duplicates() -> None:
    jb = JitterBuffer()
    for seq in (1, 3, 2, 2, 4, 3):
        push(jb, seq)
    assert jb.stats.duplicates == 2
    assert drain(jb, 4) == [1, 2, 3, 4]


def test_lost_packet_is_a_none_slot() -> None:
    jb = JitterBuffer()
    for seq in (1, 2, 3, 5, 6):
        push(jb, seq)
    assert drain(jb, 5) == [1, 2, 3, None, 5]
    assert jb.stats.missing == 1


def test_sequence_wrap_around() -> None:
    jb = JitterBuffer()
    for seq in (65533, 65534, 65535, 0, 1, 2):
        push(jb, seq)
    assert drain(jb, 6) == [65533, 65534, 65535, 0, 1, 2]


def test_reordering_across_the_wrap() -> None:
    jb = JitterBuffer()
    for seq in (65534, 0, 65535, 1):
        push(jb, seq)
    assert drain(jb, 4) == [65534, 65535, 0, 1]


def test_late_packet_is_dropped() -> None:
    jb = JitterBuffer()
    for seq in (1, 2, 3):
        push(jb, seq)
    push(jb, 5)
    assert drain(jb, 4) == [1, 2, 3, None]
    push(jb, 4)  # its slot has been played
    assert jb.stats.late == 1
    assert drain(jb, 1) == [5]


def test_timestamp_restart_keeps_playing() -> None:
    jb = JitterBuffer()
    for seq in (100, 101, 102):
        push(jb, seq)
    for i, seq in enumerate((103, 104, 105)):
        push(jb, seq, ts=i * 160)  # sender reset its timestamps
    assert drain(jb, 6) == [100, 101, 102, 103, 104, 105]
    assert jb.stats.resets == 0


def test_new_ssrc_resets_and_plays_the_new_stream() -> None:
    jb = JitterBuffer()
    for seq in (1, 2, 3, 4, 5):
        push(jb, seq, ssrc=1)
    assert drain(jb, 2) == [1, 2]
    for seq in (9000, 9001, 9002):
        push(jb, seq, ssrc=2)
    assert jb.stats.resets == 1
    assert drain(jb, 3) == [9000, 9001, 9002]


def test_sequence_restart_with_same_ssrc_resets() -> None:
    jb = JitterBuffer()
    for seq in (30000, 30001, 30002):
        push(jb, seq)
    assert drain(jb, 3) == [30000, 30001, 30002]
    for seq in (5, 6, 7):
        push(jb, seq)
    assert jb.stats.resets == 1
    assert drain(jb, 3) == [5, 6, 7]


def test_burst_after_stall_drops_oldest_beyond_max_depth() -> None:
    jb = JitterBuffer(depth_ms=60, max_depth_ms=120)
    for seq in (1, 2, 3):
        push(jb, seq)
    assert drain(jb, 3) == [1, 2, 3]
    for seq in range(4, 24):  # 400 ms arrive at once
        push(jb, seq)
    assert jb.buffered <= 6
    assert drain(jb, 6) == [18, 19, 20, 21, 22, 23]
    assert jb.stats.overflow == 14


def test_burst_before_playout_is_capped_too() -> None:
    jb = JitterBuffer(depth_ms=60, max_depth_ms=120)
    for seq in range(1, 21):
        push(jb, seq)
    assert drain(jb, 6) == [15, 16, 17, 18, 19, 20]


def test_sender_pause_then_resume_rebuffers() -> None:
    jb = JitterBuffer()
    for seq in (1, 2, 3):
        push(jb, seq)
    assert drain(jb, 5) == [1, 2, 3, None, None]
    for seq in (4, 5):
        push(jb, seq)
    assert jb.pop() is None  # buffering again: 40 ms is less than the depth
    push(jb, 6)
    assert drain(jb, 3) == [4, 5, 6]


def test_real_stream_with_network_jitter_plays_every_frame_in_order() -> None:
    # The kit's capture: PCMU audio with RFC 4733 events in the same sequence space, so the audio
    # has sequence gaps where the keys were pressed.
    audio = [p for p in read_rtp(ASSETS / "dtmf_1234hash_pcmu.pcap") if p.payload_type == 0]
    rng = random.Random(5)
    # Each packet is delayed 0-50 ms after its send time; the media clock pops every 20 ms.
    sent = [(p.timestamp - audio[0].timestamp) / 8 for p in audio]
    arrivals = sorted(
        ((t + rng.uniform(0, 50), p) for t, p in zip(sent, audio, strict=True)),
        key=lambda x: x[0],
    )
    jb = JitterBuffer(depth_ms=60)
    played: list[int] = []
    for tick in range(int(sent[-1] / 20) + 10):
        while arrivals and arrivals[0][0] <= tick * 20:
            p = arrivals.pop(0)[1]
            jb.push(p.seq, p.timestamp, p.ssrc, p.seq.to_bytes(2, "big") + p.payload, p.marker)
        frame = jb.pop()
        if frame is not None:
            played.append(int.from_bytes(frame[:2], "big"))
    assert played == [p.seq for p in audio]
    assert (jb.stats.late, jb.stats.duplicates, jb.stats.overflow) == (0, 0, 0)
