"""Per-stream RTP pacing from a tshark capture: packets/s, inter-packet delay and RFC 3550 jitter
of the streams the appliance sends (its media clock is what we judge, not the caller's)."""

from __future__ import annotations

import itertools
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import percentile

FIELDS = ("frame.time_epoch", "udp.srcport", "udp.dstport", "rtp.p_type", "rtp.seq",
          "rtp.timestamp")
CLOCK_RATE = 8000


@dataclass(frozen=True)
class RtpPacket:
    t: float
    src: int
    dst: int
    pt: int
    seq: int
    ts: int


@dataclass(frozen=True)
class StreamStats:
    src: int
    dst: int
    packets: int
    seconds: float
    pps: float
    ipd_p99_ms: float
    max_gap_ms: float
    jitter_ms: float


@dataclass(frozen=True)
class RtpSummary:
    streams: int
    packets: int
    pps_mean: float
    pps_min: float
    ipd_p50_ms: float
    ipd_p99_ms: float
    ipd_p999_ms: float
    ipd_max_ms: float
    jitter_mean_ms: float
    jitter_max_ms: float


def parse_fields(text: str) -> list[RtpPacket]:
    """Rows of `tshark -T fields` for FIELDS; rows tshark could not dissect as RTP are skipped."""
    packets = []
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) < len(FIELDS) or not all(cells[: len(FIELDS)]):
            continue
        t, src, dst, pt, seq, ts = cells[: len(FIELDS)]
        packets.append(RtpPacket(float(t), int(src), int(dst), int(pt), int(seq), int(ts)))
    return packets


def _jitter_ms(packets: Sequence[RtpPacket]) -> float:
    # RFC 3550 A.8: transit-time differences smoothed with gain 1/16
    jitter = 0.0
    for a, b in itertools.pairwise(packets):
        ts_step = ((b.ts - a.ts) & 0xFFFFFFFF) / CLOCK_RATE
        d = abs((b.t - a.t) - ts_step) * 1000
        jitter += (d - jitter) / 16
    return jitter


def stream_stats(packets: Sequence[RtpPacket]) -> StreamStats:
    gaps = [(b.t - a.t) * 1000 for a, b in itertools.pairwise(packets)]
    seconds = packets[-1].t - packets[0].t
    return StreamStats(
        src=packets[0].src, dst=packets[0].dst, packets=len(packets), seconds=seconds,
        # intervals over time: n packets span n-1 periods
        pps=(len(packets) - 1) / seconds if seconds > 0 else 0.0,
        ipd_p99_ms=percentile(gaps, 99), max_gap_ms=max(gaps), jitter_ms=_jitter_ms(packets),
    )


def split_streams(packets: Iterable[RtpPacket], min_packets: int = 50) -> list[list[RtpPacket]]:
    """Group by (source port, destination port); streams shorter than a second are left out."""
    streams: dict[tuple[int, int], list[RtpPacket]] = defaultdict(list)
    for packet in packets:
        streams[(packet.src, packet.dst)].append(packet)
    return [sorted(s, key=lambda p: p.t) for _, s in sorted(streams.items())
            if len(s) >= min_packets]


def summarize_streams(streams: Sequence[Sequence[RtpPacket]]) -> RtpSummary:
    per_stream = [stream_stats(s) for s in streams]
    gaps = [(b.t - a.t) * 1000 for s in streams for a, b in itertools.pairwise(s)]
    rates = [s.pps for s in per_stream] or [0.0]
    jitters = [s.jitter_ms for s in per_stream] or [0.0]
    return RtpSummary(
        streams=len(per_stream), packets=sum(len(s) for s in streams),
        pps_mean=sum(rates) / len(rates), pps_min=min(rates),
        ipd_p50_ms=percentile(gaps, 50), ipd_p99_ms=percentile(gaps, 99),
        ipd_p999_ms=percentile(gaps, 99.9), ipd_max_ms=max(gaps, default=0.0),
        jitter_mean_ms=sum(jitters) / len(jitters), jitter_max_ms=max(jitters),
    )


def read_capture(pcap: Path, low: int, high: int) -> list[RtpPacket]:
    """The RTP packets sent from ports low..high, decoded by tshark's RTP heuristic."""
    fields = [arg for f in FIELDS for arg in ("-e", f)]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-o", "rtp.heuristic_rtp:TRUE",
         "-Y", f"rtp && udp.srcport >= {low} && udp.srcport <= {high}", "-T", "fields", *fields],
        capture_output=True, text=True, check=True,
    ).stdout
    return parse_fields(out)


def parse_event_fields(text: str) -> dict[str, int]:
    """Key presses on the wire, from "dstport<TAB>event<TAB>timestamp" rows: one per distinct
    (stream, event start timestamp), as RFC 4733 receivers count them."""
    keys = "0123456789*#ABCD"
    seen: set[tuple[str, str, str]] = set()
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) == 3 and all(cells) and cells[1].isdigit() and int(cells[1]) < len(keys):
            seen.add((cells[0], cells[1], cells[2]))
    counts: dict[str, int] = {}
    for _, event, _ in seen:
        counts[keys[int(event)]] = counts.get(keys[int(event)], 0) + 1
    return counts


def read_caller_events(pcap: Path, low: int, high: int) -> dict[str, int]:
    """Telephone-events the callers sent to the appliance's ports low..high."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-o", "rtp.heuristic_rtp:TRUE",
         "-Y", f"rtpevent && udp.dstport >= {low} && udp.dstport <= {high}", "-T", "fields",
         "-e", "udp.dstport", "-e", "rtpevent.event_id", "-e", "rtp.timestamp"],
        capture_output=True, text=True, check=True,
    ).stdout
    return parse_event_fields(out)
