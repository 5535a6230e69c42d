"""sd_notify(3) without libsystemd: READY/STOPPING/STATUS and watchdog pings over $NOTIFY_SOCKET.

The watchdog is pinged from a task on the main event loop, so a stuck loop (and with it stuck
media for every call) makes systemd restart the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # An address starting with "@" is in the abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2_000_000 if usec.isdigit() else None

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, state: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", state.split("=")[0], exc)

    async def watchdog(self) -> None:
        """Ping WATCHDOG=1 at half the interval systemd asked for, until cancelled."""
        if self.watchdog_interval is None:
            return
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_interval)
