"""CPU and memory of one process from /proc (no psutil), sampled once a second in a thread:
CPU % where 100 is one core, RSS, threads, and the whole machine's busy % (cores x 100)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    t: float  # wall clock, to line samples up with SIPp's per-second statistics
    cpu_pct: float
    rss_mb: float
    threads: int
    machine_pct: float


def cpu_ticks(stat: str) -> int:
    """utime + stime from /proc/PID/stat; the command name may hold spaces and parentheses."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_value(status: str, key: str) -> int:
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise ValueError(f"{key} not in /proc status")


def machine_ticks(proc_stat: str) -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine; idle and iowait count as not busy."""
    values = [int(v) for v in proc_stat.splitlines()[0].split()[1:]]
    total = sum(values)
    return total - values[3] - values[4], total


class ProcSampler:
    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proc-sampler", daemon=True)
        self._hz = os.sysconf("SC_CLK_TCK")
        self._cores = os.cpu_count() or 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def _read(self) -> tuple[float, int, int, int, tuple[int, int]]:
        proc = Path(f"/proc/{self.pid}")
        status = (proc / "status").read_text()
        return (time.monotonic(), cpu_ticks((proc / "stat").read_text()),
                status_value(status, "VmRSS"), status_value(status, "Threads"),
                machine_ticks(Path("/proc/stat").read_text()))

    def _run(self) -> None:
        try:
            prev = self._read()
            while not self._stop.wait(self.interval):
                now = self._read()
                elapsed = now[0] - prev[0]
                busy = now[4][0] - prev[4][0]
                total = max(1, now[4][1] - prev[4][1])
                self.samples.append(Sample(
                    t=time.time(), cpu_pct=(now[1] - prev[1]) / self._hz / elapsed * 100,
                    rss_mb=now[2] / 1024, threads=now[3],
                    machine_pct=busy / total * 100 * self._cores))
                prev = now
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return  # the process ended (VmRSS vanishes from a zombie's status)
