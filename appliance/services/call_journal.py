"""A call's history: events are timestamped when they happen and written in order by one writer
task, so the call never waits on the store; the outcome is derived from them when the call ends."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from appliance.domain.outcomes import derive_outcome
from appliance.domain.records import CallEvent
from appliance.ports.clock import Clock
from appliance.ports.store import Store

log = logging.getLogger(__name__)


class CallJournal:
    def __init__(self, store: Store, call_id: str, clock: Clock) -> None:
        self._store, self._call_id, self._clock = store, call_id, clock
        self.events: list[CallEvent] = []
        self._queue: asyncio.Queue[CallEvent | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"journal-{call_id}")

    def add(self, kind: str, detail: dict[str, Any]) -> None:
        event = CallEvent(call_id=self._call_id, at=self._clock.now(), kind=kind, detail=detail)
        self.events.append(event)
        self._queue.put_nowait(event)
        log.info("%s %s %s", self._call_id, kind, _brief(detail))

    async def close(self) -> str:
        """Write what is left and return the call's outcome."""
        self._queue.put_nowait(None)
        await self._writer
        return derive_outcome(self.events).value

    async def _write(self) -> None:
        closing = False
        while not closing:
            batch: list[CallEvent] = []
            item = await self._queue.get()
            while True:
                if item is None:
                    closing = True
                    break
                batch.append(item)
                if self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if batch:
                try:
                    await asyncio.to_thread(self._store.add_call_events, batch)
                except Exception:
                    log.exception("%s could not store %d call events", self._call_id, len(batch))


def _brief(detail: dict[str, Any]) -> str:
    # Numbers the caller typed are masked in logs (never full numbers at INFO).
    return " ".join(f"{k}={'***' if 'number' in k else v}" for k, v in detail.items())
