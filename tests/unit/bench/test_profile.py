"""Reducing py-spy's collapsed stacks to hot spots per thread group."""

from __future__ import annotations

import pytest

from bench.profile import hotspots, table

LOOP = ("_run_module_as_main (<frozen runpy>:198);"
        "BaseEventLoop.run_until_complete (asyncio/base_events.py:640);"
        "MediaClock._tick_all (appliance/adapters/sip/clock.py:70)")
RAW = "\n".join([
    f"{LOOP};RtpSocket.send (appliance/adapters/sip/rtp.py:99) 30",
    f"{LOOP} 10",
    "BaseEventLoop.run_until_complete (asyncio/base_events.py:640);"
    "EpollSelector.select (selectors.py:468) 60",
    "Thread._bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83);"
    "CallJournal._store_all (appliance/services/call_journal.py:58) 5",
    "not a stack line",
])


def test_loop_and_worker_threads_are_counted_apart() -> None:
    spots = {(s.thread, s.frame): s for s in hotspots(RAW)}
    send = spots[("loop", "RtpSocket.send (rtp.py)")]
    assert send.self_pct == pytest.approx(30.0)
    tick = spots[("loop", "MediaClock._tick_all (clock.py)")]
    assert tick.self_pct == pytest.approx(10.0) and tick.total_pct == pytest.approx(40.0)
    journal = spots[("workers", "CallJournal._store_all (call_journal.py)")]
    assert journal.self_pct == pytest.approx(100.0)


def test_table_is_markdown() -> None:
    text = table(hotspots(RAW))
    assert text.splitlines()[0] == "| thread | function | self % | incl. % |"
    assert "| loop | `EpollSelector.select (selectors.py)` | 60.0 | 60.0 |" in text
