"""The calls benchmark: one fresh appliance per load level, SIPp callers leaving messages through
the demo menu, the appliance's RTP and SIP captured on loopback and its CPU/RSS sampled."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import profile as pyspy
from bench.appliance_proc import (
    REPO,
    BenchConfig,
    free_port,
    free_udp_port,
    running_appliance,
)
from bench.caller_audio import caller_pcap
from bench.capture import Capture
from bench.profile import Hotspot
from bench.rtpstats import (
    RtpSummary,
    read_caller_events,
    read_capture,
    split_streams,
    summarize_streams,
)
from bench.sampler import ProcSampler, Sample
from bench.siplat import invite_times
from bench.siplat import read_capture as read_sip
from bench.sipp_load import ASSETS, LoadPlan, SippCounts, plan_for, run_load
from bench.stats import Summary, summarize
from bench.store_check import DtmfCheck, check_calls, load_calls

log = logging.getLogger(__name__)

SPEECH = ASSETS / "speech_8k.wav"
CALL_SECONDS = 24.7  # measured: answer -> "2" at 1 s -> "#" at 16 s -> goodbye prompt -> BYE
KEYS = "2#"


@dataclass(frozen=True)
class Resources:
    cpu_plateau_pct: float  # mean CPU while SIPp held >= 90 % of the level (100 = one core)
    cpu_max_pct: float
    machine_plateau_pct: float  # whole machine, SIPp and tshark included (cores x 100)
    sipp_plateau_pct: float  # the load generator itself
    load_average: float  # 1-minute load average before the level (other work on the machine)
    rss_idle_mb: float
    rss_peak_mb: float
    threads_max: int
    plateau_seconds: int


@dataclass(frozen=True)
class LevelResult:
    level: int
    plan: LoadPlan
    sipp_returncode: int
    sipp: SippCounts
    dtmf: DtmfCheck
    rtp: RtpSummary
    invite_to_200_ms: Summary
    invites_retransmitted: int
    invites_refused: dict[str, int]
    caller_keys_on_wire: dict[str, int]  # key -> presses the callers sent (RFC 4733 events)
    resources: Resources
    capture_dropped: int | None
    profile: list[Hotspot] = field(default_factory=list)  # with --profile: py-spy on the plateau

    @property
    def cpu_per_call_pct(self) -> float:
        return self.resources.cpu_plateau_pct / self.level

    @property
    def mem_per_call_kb(self) -> float:
        return (self.resources.rss_peak_mb - self.resources.rss_idle_mb) * 1024 / self.level


def make_caller_audio(work: Path) -> Path:
    """18 s: "2" barges into the greeting at 1 s, speech after the tone at 9 s, "#" at 16 s."""
    return caller_pcap(work / "caller.pcap", 18.0, speech=[(9.0, SPEECH)],
                       digits=[(1.0, "2"), (16.0, "#")])


def plateau(samples: list[Sample], load: list[tuple[float, int]], level: int) -> list[Sample]:
    """The samples taken while the load held at least 90 % of its level (nearest SIPp second)."""
    if not load:
        return []
    held = [s for s in samples
            if min(load, key=lambda row: abs(row[0] - s.t))[1] >= 0.9 * level]
    return held


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def resources(samples: list[Sample], sipp_samples: list[Sample], idle_rss: float,
              load: list[tuple[float, int]], level: int, load_average: float) -> Resources:
    held = plateau(samples, load, level)
    return Resources(
        cpu_plateau_pct=_mean([s.cpu_pct for s in held]),
        cpu_max_pct=max((s.cpu_pct for s in samples), default=float("nan")),
        machine_plateau_pct=_mean([s.machine_pct for s in held]),
        sipp_plateau_pct=_mean([s.cpu_pct for s in plateau(sipp_samples, load, level)]),
        load_average=load_average,
        rss_idle_mb=idle_rss,
        rss_peak_mb=max((s.rss_mb for s in samples), default=float("nan")),
        threads_max=max((s.threads for s in samples), default=0),
        plateau_seconds=len(held),
    )


class SamplerSlot:
    """A sampler for a process that does not exist yet (SIPp, started inside run_load)."""

    def __init__(self) -> None:
        self._sampler: ProcSampler | None = None

    def watch(self, pid: int) -> None:
        self._sampler = ProcSampler(pid)
        self._sampler.start()

    def stop(self) -> list[Sample]:
        return self._sampler.stop() if self._sampler is not None else []


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_level(level: int, work: Path, call_seconds: float = CALL_SECONDS,
              profile: bool = False, source: Path = REPO, nice: int = 0) -> LevelResult:
    work.mkdir(parents=True, exist_ok=True)
    make_caller_audio(work)
    cfg = BenchConfig(data_dir=work / "var", sip_port=free_port(socket.SOCK_DGRAM),
                      web_port=free_port(), nice=nice)
    media_port = free_udp_port(pair=True)
    plan = plan_for(level, call_seconds)
    # the appliance's RTP, and the callers' telephone-events (RTP payload type 101) to it, so a
    # key the appliance missed can be told from one the caller never sent
    bpf = (f"udp port {cfg.sip_port} or "
           f"(udp src portrange {cfg.rtp_low}-{cfg.rtp_high} and udp dst port {media_port}) or "
           f"(udp dst portrange {cfg.rtp_low}-{cfg.rtp_high} and (udp[9] & 0x7f) = 101)")
    pcap = work / "capture.pcap"
    with running_appliance(cfg, work, source) as app:
        time.sleep(1.0)  # let start-up work settle before the idle RSS is read
        idle_rss = _rss_mb(app.pid)
        load_average = os.getloadavg()[0]
        sampler, sipp_sampler = ProcSampler(app.pid), SamplerSlot()
        with Capture(pcap, bpf) as capture:
            sampler.start()
            spy = (pyspy.start(app.pid, work / "profile.txt", call_seconds, call_seconds)
                   if profile else None)
            log.info("level %d: %d calls at %.2f/s", level, plan.calls, plan.rate)
            sipp = run_load(plan, f"127.0.0.1:{cfg.sip_port}", free_udp_port(), media_port, work,
                            started=sipp_sampler.watch)
            samples, sipp_samples = sampler.stop(), sipp_sampler.stop()
            if spy is not None:
                spy.wait(timeout=60)
        time.sleep(2.0)  # the last calls' journals reach the store
    calls = load_calls(f"sqlite:///{cfg.data_dir / 'desborde.sqlite3'}")
    dtmf = check_calls(calls, keys=KEYS, outcome="message_left")
    invites = invite_times(read_sip(pcap, cfg.sip_port))
    refused: dict[str, int] = {}
    for status in invites.answered_other.values():
        refused[status] = refused.get(status, 0) + 1
    rtp = summarize_streams(split_streams(read_capture(pcap, cfg.rtp_low, cfg.rtp_high)))
    return LevelResult(
        level=level, plan=plan, sipp_returncode=sipp.returncode, sipp=sipp.counts, dtmf=dtmf,
        rtp=rtp, invite_to_200_ms=summarize(list(invites.to_200_ms.values())),
        invites_retransmitted=invites.retransmitted, invites_refused=refused,
        caller_keys_on_wire=read_caller_events(pcap, cfg.rtp_low, cfg.rtp_high),
        resources=resources(samples, sipp_samples, idle_rss, sipp.concurrency, level,
                            load_average),
        capture_dropped=capture.dropped,
        profile=_hotspots(work / "profile.txt") if profile else [],
    )


def _hotspots(path: Path) -> list[Hotspot]:
    return pyspy.hotspots(path.read_text(errors="replace")) if path.exists() else []
