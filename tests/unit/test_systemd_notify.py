"""sd_notify datagrams reach a real AF_UNIX socket; the watchdog interval follows WATCHDOG_USEC."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from appliance.adapters.systemd_notify import SystemdNotifier


def test_notify_sends_the_state_to_the_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"})
        assert notifier.enabled and notifier.watchdog_interval == 2.0
        notifier.notify("READY=1")
        assert server.recv(64) == b"READY=1"


async def test_watchdog_pings_until_cancelled(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.setblocking(False)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})
        task = asyncio.create_task(notifier.watchdog())
        await asyncio.sleep(0.18)
        task.cancel()
        pings = []
        while True:
            try:
                pings.append(server.recv(64))
            except BlockingIOError:
                break
        assert pings.count(b"WATCHDOG=1") >= 3


def test_without_systemd_nothing_is_sent() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled and notifier.watchdog_interval is None
    notifier.notify("READY=1")  # must not raise
