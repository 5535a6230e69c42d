"""Where the appliance's CPU goes under load: py-spy samples the running process (without
pausing it) for the plateau, and the collapsed stacks are reduced to self and total time."""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.tools import need


@dataclass(frozen=True)
class Hotspot:
    frame: str
    self_pct: float
    total_pct: float


def start(pid: int, out: Path, delay_s: float, seconds: float) -> subprocess.Popen[bytes]:
    """Sample `pid` for `seconds` after `delay_s` (the ramp); raw collapsed-stack output."""
    script = (f"sleep {delay_s:.1f}; exec {need('py-spy')} record --pid {pid} --nonblocking "
              f"--duration {int(seconds)} --rate 100 --format raw --output {out}")
    return subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)


def _frame_name(frame: str) -> str:
    # py-spy: "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name


def hotspots(collapsed: str, top: int = 15) -> list[Hotspot]:
    """Self and inclusive share of samples per function, from "a;b;c COUNT" lines."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return []
    return [Hotspot(frame, 100 * n / total, 100 * inclusive[frame] / total)
            for frame, n in own.most_common(top)]


def table(spots: list[Hotspot]) -> str:
    rows = ["| function | self % | incl. % |", "|---|---|---|"]
    rows += [f"| `{s.frame}` | {s.self_pct:.1f} | {s.total_pct:.1f} |" for s in spots]
    return "\n".join(rows)
