"""Readiness and metrics: health "providers" (SIP, store, disk, workers, outbox) feeding one status,
as wazo-calld does, and the scrape-time gauges read from the engine and the store.

A provider is an async callable returning a CheckResult; it must not raise (a provider that does
anyway, or takes too long, is reported as a failed check with the reason).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.domain.records import OutboxStats
from appliance.errors import ApplianceError
from appliance.ports.telephony import EngineStatus
from appliance.services import metrics


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


Provider = Callable[[], Awaitable[CheckResult]]


@dataclass(frozen=True)
class Readiness:
    checks: tuple[CheckResult, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not_ready",
            "failed": [c.name for c in self.checks if not c.ok],
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
        }


@dataclass
class StatusService:
    """Runs every provider at once for /readyz, and refreshes the scrape-time gauges for /metrics."""

    providers: Sequence[Provider]
    engine_status: Callable[[], EngineStatus] | None = None
    outbox_stats: Callable[[], OutboxStats] | None = None
    now: Callable[[], datetime] | None = None
    timeout_s: float = 5.0
    registry: metrics.Registry = field(default_factory=lambda: metrics.REGISTRY)

    async def readiness(self) -> Readiness:
        results = await asyncio.gather(*(self._run(p) for p in self.providers))
        for result in results:
            metrics.CHECK_OK.set(1.0 if result.ok else 0.0, check=result.name)
        return Readiness(tuple(results))

    async def _run(self, provider: Provider) -> CheckResult:
        name = getattr(provider, "check_name", getattr(provider, "__name__", "check"))
        try:
            return await asyncio.wait_for(provider(), self.timeout_s)
        except TimeoutError:
            return CheckResult(name, False, f"no answer within {self.timeout_s:.0f} s")
        except Exception as exc:  # a broken check must say so, not break /readyz
            return CheckResult(name, False, f"check failed: {type(exc).__name__}: {exc}")

    async def metrics_text(self) -> str:
        if self.engine_status is not None:
            engine_gauges(self.engine_status())
        if self.outbox_stats is not None and self.now is not None:
            stats = await asyncio.to_thread(self.outbox_stats)
            outbox_gauges(stats, self.now())
        return self.registry.render()


# The running appliance's status, set by the composition root before the web server task starts
# (tasks copy the context, so every request sees it); an app may also carry its own in
# app.state.ops_status, which wins (tests, or a composition root that wires it explicitly).
CURRENT: ContextVar[StatusService | None] = ContextVar("desborde_status", default=None)


def engine_gauges(status: EngineStatus) -> None:
    metrics.ACTIVE_CHANNELS.set(status.active_channels)
    metrics.MAX_CHANNELS.set(status.max_channels)
    metrics.REGISTRATION.clear()
    for aor, state in status.registrations.items():
        metrics.REGISTRATION.set(1.0, aor=aor, state=state)


def outbox_gauges(stats: OutboxStats, now: datetime) -> None:
    for status, count in stats.counts.items():
        metrics.OUTBOX_JOBS.set(count, status=str(getattr(status, "value", status)))
    metrics.OUTBOX_DEPTH.set(stats.depth)
    metrics.OUTBOX_OLDEST.set(_age(stats, now))


def _age(stats: OutboxStats, now: datetime) -> float:
    return 0.0 if stats.oldest_due is None else max((now - stats.oldest_due).total_seconds(), 0.0)


def _named(name: str, provider: Provider) -> Provider:
    provider.check_name = name  # type: ignore[attr-defined]  # read back by StatusService._run
    return provider


# -- providers --------------------------------------------------------------------------------


def sip_check(status: Callable[[], EngineStatus],
              probe: Callable[[], Awaitable[bool]] | None = None) -> Provider:
    """Register mode: at least one account registered. Trunk mode: our listener answers OPTIONS
    (what the PBX's qualify and Kamailio's dispatcher probe see)."""

    async def check() -> CheckResult:
        engine = status()
        if engine.mode == "register":
            up = sorted(a for a, s in engine.registrations.items() if s == "registered")
            if up:
                return CheckResult("sip", True, f"registered: {', '.join(up)}")
            states = ", ".join(f"{a}={s}" for a, s in sorted(engine.registrations.items()))
            return CheckResult("sip", False, f"no account registered ({states or 'none'})")
        if probe is None:
            return CheckResult("sip", True, "trunk mode")
        if await probe():
            return CheckResult("sip", True, "trunk mode, OPTIONS answered")
        return CheckResult("sip", False, "trunk mode, our SIP listener does not answer OPTIONS")

    return _named("sip", check)


def store_check(ping: Callable[[], None]) -> Provider:
    async def check() -> CheckResult:
        try:
            await asyncio.to_thread(ping)
        except ApplianceError as exc:
            return CheckResult("store", False, str(exc))
        return CheckResult("store", True, "writable")

    return _named("store", check)


def disk_check(path: Path, min_free_mb: int) -> Provider:
    async def check() -> CheckResult:
        free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        ok = free_mb >= min_free_mb
        return CheckResult("disk", ok, f"{free_mb} MB free in {path} (minimum {min_free_mb} MB)")

    return _named("disk", check)


def worker_check(max_silence_s: float, wall_clock: Callable[[], float] = time.time) -> Provider:
    """Every worker that has reported a heartbeat must have gone round its loop within
    `max_silence_s`; no worker at all is a failure too (delivery never started)."""

    async def check() -> CheckResult:
        beats = metrics.WORKER_LOOP.series()
        if not beats:
            return CheckResult("workers", False, "no worker has started")
        now = wall_clock()
        stuck = [f"{key[0]} (last loop {now - last:.0f} s ago)"
                 for key, last in sorted(beats.items()) if now - last > max_silence_s]
        if stuck:
            return CheckResult("workers", False, "stuck: " + ", ".join(stuck))
        return CheckResult("workers", True, f"{len(beats)} alive")

    return _named("workers", check)


def outbox_check(stats: Callable[[], OutboxStats], now: Callable[[], datetime], *,
                 max_depth: int, max_age_s: float) -> Provider:
    """The outbox is backing up when too many jobs wait or the oldest has waited too long."""

    async def check() -> CheckResult:
        current = await asyncio.to_thread(stats)
        age = _age(current, now())
        detail = f"depth {current.depth}, oldest due {age:.0f} s ago"
        ok = current.depth <= max_depth and age <= max_age_s
        return CheckResult("outbox", ok, detail if ok else f"backing up: {detail}")

    return _named("outbox", check)
