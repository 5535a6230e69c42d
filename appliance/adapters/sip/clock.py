"""The one 20 ms media clock every call shares: a single task on absolute deadlines, so timing
error never accumulates and 200 calls cost one wake-up per tick instead of 200 timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.020
# Beyond this lag (a stalled loop) we skip ahead instead of bursting frames to catch up.
_MAX_CATCH_UP = 3


class Ticking(Protocol):
    def tick(self) -> None:
        """Send one frame and consume one; must not block or raise."""


class MediaClock:
    def __init__(self, period: float = FRAME_SECONDS) -> None:
        self._period = period
        self._members: dict[int, Ticking] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.skipped = 0

    def add(self, member: Ticking) -> None:
        self._members[id(member)] = member

    def remove(self, member: Ticking) -> None:
        self._members.pop(id(member), None)

    def __len__(self) -> int:
        return len(self._members)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline += self._period
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > _MAX_CATCH_UP * self._period:
                missed = int(-delay / self._period)
                self.skipped += missed
                deadline += missed * self._period
            self._tick_all()

    def _tick_all(self) -> None:
        self.ticks += 1
        for member in list(self._members.values()):
            try:
                member.tick()
            except Exception:
                log.exception("media tick failed; member removed")
                self.remove(member)
