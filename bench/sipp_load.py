"""SIPp as the load: L concurrent callers through the demo menu (rate = L / call length), its
per-second statistics file parsed for placed, successful, failed and concurrent calls."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.tools import need

ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class LoadPlan:
    level: int  # target concurrent calls
    calls: int  # calls placed in all
    rate: float  # new calls per second

    @property
    def seconds(self) -> float:
        return self.calls / self.rate


def plan_for(level: int, call_seconds: float, rounds: float = 2.0) -> LoadPlan:
    """Calls arrive at level/call_seconds per second; `rounds` x level calls keep the plateau at
    `level` for (rounds - 1) call lengths after the ramp."""
    return LoadPlan(level=level, calls=math.ceil(level * rounds), rate=level / call_seconds)


@dataclass(frozen=True)
class SippCounts:
    placed: int
    successful: int
    failed: int
    peak_concurrent: int


@dataclass(frozen=True)
class SippRun:
    returncode: int
    counts: SippCounts
    concurrency: list[tuple[float, int]]  # (epoch seconds, calls in progress) once a second
    workdir: Path


def parse_stat_csv(text: str) -> list[dict[str, str]]:
    """SIPp's -trace_stat file: ';'-separated, a header line, one row per -fd period."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0].rstrip(";").split(";")
    return [dict(zip(header, line.rstrip(";").split(";"), strict=False)) for line in lines[1:]]


def _epoch(stamp: str) -> float:
    # CurrentTime looks like "2026-11-22\t21:30:01.123456\t1795375801.123456"
    parts = stamp.split("\t")
    if len(parts) == 3:
        return float(parts[2])
    return datetime.fromisoformat(stamp.strip()).timestamp()


def counts(rows: list[dict[str, str]]) -> SippCounts:
    if not rows:
        return SippCounts(0, 0, 0, 0)
    last = rows[-1]
    return SippCounts(
        placed=int(last["OutgoingCall(C)"]),
        successful=int(last["SuccessfulCall(C)"]),
        failed=int(last["FailedCall(C)"]),
        peak_concurrent=max(int(r["CurrentCall"]) for r in rows),
    )


def concurrency(rows: list[dict[str, str]]) -> list[tuple[float, int]]:
    return [(_epoch(r["CurrentTime"]), int(r["CurrentCall"])) for r in rows]


def sipp_argv(plan: LoadPlan, target: str, sip_port: int, media_port: int, work: Path,
              scenario: str = "uac_menu_message.xml") -> list[str]:
    return [
        need("sipp"), "-sf", str(ASSETS / scenario),
        "-i", "127.0.0.1", "-p", str(sip_port), "-mi", "127.0.0.1", "-mp", str(media_port),
        "-s", "100", target,
        "-r", f"{plan.rate:.3f}", "-rp", "1000", "-l", str(plan.level), "-m", str(plan.calls),
        "-nostdin", "-timeout", f"{int(plan.seconds) + 180}s",
        "-trace_stat", "-stf", str(work / "sipp_stat.csv"), "-fd", "1",
        "-trace_err", "-error_file", str(work / "sipp_errors.log"),
    ]


def run_load(plan: LoadPlan, target: str, sip_port: int, media_port: int, work: Path,
             scenario: str = "uac_menu_message.xml",
             started: Callable[[int], None] | None = None) -> SippRun:
    """Run SIPp to completion from `work` (where caller.pcap is); blocks for the whole load.
    `started` gets SIPp's pid (to sample its CPU beside the appliance's)."""
    argv = sipp_argv(plan, target, sip_port, media_port, work, scenario)
    with (work / "sipp_stdout.txt").open("wb") as out:
        proc = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        if started is not None:
            started(proc.pid)
        try:
            returncode = proc.wait(timeout=plan.seconds + 240)
        except subprocess.TimeoutExpired:
            proc.kill()
            returncode = proc.wait()
    stat = work / "sipp_stat.csv"
    rows = parse_stat_csv(stat.read_text(errors="replace")) if stat.exists() else []
    return SippRun(returncode, counts(rows), concurrency(rows), work)
