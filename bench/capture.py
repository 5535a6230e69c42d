"""A tshark capture on loopback for the length of a run: whole packets (SIP headers are needed for
Call-IDs), a large kernel buffer so none are dropped at 30 000 packets/s, the drop count read back."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from bench.tools import need


class Capture:
    def __init__(self, pcap: Path, bpf: str) -> None:
        self.pcap, self.bpf = pcap, bpf
        self._log = pcap.with_suffix(".tshark.log")
        self._proc: subprocess.Popen[bytes] | None = None
        self.dropped: int | None = None
        self.captured: int | None = None

    def __enter__(self) -> Capture:
        argv = [need("tshark"), "-n", "-i", "lo", "-f", self.bpf, "-B", "128", "-w", str(self.pcap)]
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(timeout=15)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"tshark exited: {self._log.read_text(errors='replace')}")
            if "Capturing on" in self._log.read_text(errors="replace"):
                time.sleep(0.3)  # the message comes just before the socket is live
                return
            time.sleep(0.05)
        raise RuntimeError("tshark did not start capturing")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc is None:
            return
        time.sleep(0.5)  # let the last packets reach the file
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self.captured, self.dropped = parse_counts(self._log.read_text(errors="replace"))


def parse_counts(log: str) -> tuple[int | None, int | None]:
    """tshark's closing lines: '123 packets captured' and, when any, '4 packets dropped ...'."""
    captured = re.search(r"(\d+) packets? captured", log)
    dropped = re.search(r"(\d+) packets? dropped", log)
    return (int(captured.group(1)) if captured else None,
            int(dropped.group(1)) if dropped else 0 if captured else None)
