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
    thread: str  # "loop" (the event loop: SIP, media clock, call flow) or "workers" (to_thread)
    frame: str
    self_pct: float  # of that thread group's busy samples
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


def _group(frames: list[str]) -> str:
    return "loop" if any(f.startswith("BaseEventLoop.run_until_complete") for f in frames) \
        else "workers"


def hotspots(collapsed: str, top: int = 12) -> list[Hotspot]:
    """Self and inclusive share of busy samples per function and thread group, from py-spy's
    raw "frame;frame;frame COUNT" lines; ordered by group, then self share."""
    own: dict[str, Counter[str]] = {"loop": Counter(), "workers": Counter()}
    inclusive: dict[str, Counter[str]] = {"loop": Counter(), "workers": Counter()}
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";")]
        group = _group(frames)
        own[group][frames[-1]] += int(count_text)
        for frame in set(frames):
            inclusive[group][frame] += int(count_text)
    spots = []
    for group, counts in own.items():
        total = sum(counts.values())
        spots += [Hotspot(group, frame, 100 * n / total, 100 * inclusive[group][frame] / total)
                  for frame, n in counts.most_common(top)]
    return spots


def table(spots: list[Hotspot]) -> str:
    rows = ["| thread | function | self % | incl. % |", "|---|---|---|---|"]
    rows += [f"| {s.thread} | `{s.frame}` | {s.self_pct:.1f} | {s.total_pct:.1f} |"
             for s in spots]
    return "\n".join(rows)
