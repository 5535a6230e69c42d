"""Reading CPU and memory from /proc text, and sampling a real process."""

from __future__ import annotations

import os
import time

import pytest

from bench.sampler import ProcSampler, cpu_ticks, machine_ticks, status_value

STAT = ("4242 (python -m (odd) name) S 1 4242 4242 0 -1 4194304 500 0 0 0 "
        "1234 567 0 0 20 0 6 0 100 0 0 18446744073709551615")


def test_cpu_ticks_survive_parentheses_and_spaces_in_the_name() -> None:
    assert cpu_ticks(STAT) == 1234 + 567


def test_status_value() -> None:
    status = "Name:\tpython\nVmRSS:\t  118712 kB\nThreads:\t6\n"
    assert status_value(status, "VmRSS") == 118712
    assert status_value(status, "Threads") == 6
    with pytest.raises(ValueError, match="VmHWM"):
        status_value(status, "VmHWM")


def test_machine_ticks_count_idle_and_iowait_as_not_busy() -> None:
    assert machine_ticks("cpu  100 0 50 800 40 0 10 0 0 0\ncpu0 1 2 3\n") == (160, 1000)


def test_sampling_this_process_sees_its_cpu_and_memory() -> None:
    sampler = ProcSampler(os.getpid(), interval=0.2)
    sampler.start()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        sum(range(10_000))  # keep one core busy
    samples = sampler.stop()
    assert len(samples) >= 3
    assert max(s.cpu_pct for s in samples) > 50
    assert all(s.rss_mb > 10 and s.threads >= 2 for s in samples)
