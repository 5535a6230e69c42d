"""The composition root: the one place that knows every concrete class and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from appliance import logsetup
from appliance.adapters.store.sql_store import SqlStore
from appliance.adapters.systemd_notify import SystemdNotifier
from appliance.config import Settings
from appliance.services.api_tokens import ensure_api_token
from webui.app import create_app
from webui.deps import WebContext

log = logging.getLogger(__name__)


@dataclass
class Appliance:
    """The running parts of one appliance, started and stopped in order."""

    settings: Settings
    store: SqlStore
    api_token: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def prepare_data_dir(settings: Settings) -> None:
    for path in (settings.node.data_dir, settings.recordings_dir, settings.mail_spool_dir):
        path.mkdir(parents=True, exist_ok=True)


async def build(settings: Settings) -> Appliance:
    prepare_data_dir(settings)
    store = await asyncio.to_thread(SqlStore.open, settings.store_url)
    token = ensure_api_token(settings.node.data_dir)
    return Appliance(settings=settings, store=store, api_token=token)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the appliance owns SIGINT/SIGTERM and stops the parts in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _web_server(appliance: Appliance) -> uvicorn.Server:
    context = WebContext(
        store=appliance.store, api_token=appliance.api_token, node=appliance.settings.node.name
    )
    config = uvicorn.Config(
        create_app(context),
        host=appliance.settings.web.bind,
        port=appliance.settings.web.port,
        log_level="warning",
        lifespan="off",
    )
    return _EmbeddedServer(config)


async def run_appliance(settings: Settings, *, demo: bool) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code."""
    logsetup.configure(settings.log.level, settings.log.format)
    appliance = await build(settings)
    notifier = SystemdNotifier()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    web = _web_server(appliance)
    web_task = asyncio.create_task(web.serve(), name="web")
    watchdog = asyncio.create_task(notifier.watchdog(), name="watchdog")
    while not web.started and not web_task.done():
        await asyncio.sleep(0.02)
    if web_task.done():
        await web_task
        return 1
    _announce(settings, demo)
    notifier.notify("READY=1")
    await stop.wait()

    notifier.notify("STOPPING=1")
    log.info("stopping")
    for stopper in reversed(appliance.stoppers):
        await stopper()
    web.should_exit = True
    await web_task
    watchdog.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watchdog
    appliance.store.close()
    return 0


def _announce(settings: Settings, demo: bool) -> None:
    data: Path = settings.node.data_dir
    log.info(
        "desborde %s ready: SIP udp %s:%d, web http://%s:%d, data in %s",
        "demo" if demo else "service",
        settings.sip.bind,
        settings.sip.port,
        settings.web.bind,
        settings.web.port,
        data,
    )
