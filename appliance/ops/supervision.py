"""Wiring the running appliance for operation: the readiness providers and scrape-time gauges behind
/readyz and /metrics, the call id on log lines, and the daily retention task."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from appliance.config import Settings
from appliance.ops import logcontext
from appliance.ops.retention import retention_loop
from appliance.ops.sip_probe import options_ping
from appliance.ports.clock import SystemClock
from appliance.ports.store import Store
from appliance.ports.telephony import TelephonyEngine
from appliance.services import status

# A worker loop goes round every poll interval (0.5-2 s); a minute of silence means it is stuck.
WORKER_SILENCE_S = 60.0
# The outbox is backing up past these (a relay down for a while, a target refusing everything).
OUTBOX_MAX_DEPTH = 1000
OUTBOX_MAX_AGE_S = 15 * 60.0


def status_service(
    settings: Settings, store: Store, engine: TelephonyEngine
) -> status.StatusService:
    sip = settings.sip
    # Bound to every address: ask over loopback, which the listener also serves.
    probe_host = "127.0.0.1" if _unspecified(sip.bind) else sip.bind

    async def probe() -> bool:
        return await options_ping(probe_host, sip.port, timeout=2.0) == 200

    def now() -> datetime:
        return datetime.now(UTC)

    providers = [
        status.sip_check(engine.status, probe),
        status.store_check(store.ping),
        status.disk_check(settings.node.data_dir, settings.limits.min_free_disk_mb),
        status.worker_check(WORKER_SILENCE_S),
        status.outbox_check(store.outbox_stats, now, max_depth=OUTBOX_MAX_DEPTH,
                            max_age_s=OUTBOX_MAX_AGE_S),
    ]
    return status.StatusService(providers, engine_status=engine.status,
                                outbox_stats=store.outbox_stats, now=now)


def _unspecified(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def start_supervision(settings: Settings, store: Store,
                      engine: TelephonyEngine) -> Callable[[], Awaitable[None]]:
    """Publish the status service to the web layer, start retention; returns the stopper.

    Call it from the task that later starts the web server: the status travels in a context
    variable, which the web server's task copies when it is created.
    """
    logcontext.install()
    status.CURRENT.set(status_service(settings, store, engine))
    task = asyncio.create_task(
        retention_loop(store, settings.recordings_dir, SystemClock()), name="retention")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
