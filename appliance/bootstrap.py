"""The composition root: the one place that knows every concrete class and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from appliance import logsetup
from appliance.adapters.mail.smtp import SmtpMailer
from appliance.adapters.mail.smtp import SmtpSettings as SmtpAdapterSettings
from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.prompt_catalog import PromptCatalog, shipped_sounds_dir
from appliance.adapters.sip.engine import EngineConfig, SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.adapters.sip.register import AccountConfig
from appliance.adapters.store.sql_store import SqlStore
from appliance.adapters.systemd_notify import SystemdNotifier
from appliance.config import Settings
from appliance.ports.clock import SystemClock
from appliance.ports.delivery import Mailer
from appliance.ports.store import Store
from appliance.ports.telephony import EngineStatus
from appliance.services.admin import ensure_first_admin
from appliance.services.api_tokens import ensure_api_token
from appliance.services.business import load_catalog
from appliance.services.call_flow import CallFlow
from appliance.services.delivery_setup import start_delivery
from appliance.services.intake import Intake
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
    engine_status: Callable[[], EngineStatus] | None = None
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def prepare_data_dir(settings: Settings) -> None:
    for path in (settings.node.data_dir, settings.recordings_dir, settings.mail_spool_dir):
        path.mkdir(parents=True, exist_ok=True)


async def build(settings: Settings) -> Appliance:
    prepare_data_dir(settings)
    store = await asyncio.to_thread(SqlStore.open, settings.store_url)
    token = ensure_api_token(settings.node.data_dir)
    await asyncio.to_thread(ensure_first_admin, store, settings.node.data_dir, now=datetime.now(UTC))
    return Appliance(settings=settings, store=store, api_token=token)


def engine_config(settings: Settings) -> EngineConfig:
    sip = settings.sip
    accounts = tuple(
        AccountConfig(aor=f"sip:{a.username}@{_host(a.registrar)[0]}", registrar=_host(a.registrar),
                      username=a.auth_username or a.username,
                      password=a.password.get_secret_value() if a.password else "",
                      expires=a.expires)
        for a in sip.accounts)
    out = sip.outbound
    return EngineConfig(
        bind_ip=sip.bind, port=sip.port, rtp_low=sip.rtp_port_min, rtp_high=sip.rtp_port_max,
        max_channels=sip.max_channels, allowed_peers=sip.allowed_peers,
        invites_per_second=sip.invites_per_second_per_source, user_agent=sip.user_agent,
        mode=sip.mode, accounts=accounts, extension=out.caller_id,
        outbound_proxy=_host(out.proxy) if out.proxy else None, outbound_domain=out.domain,
        outbound_username=out.username,
        outbound_password=out.password.get_secret_value() if out.password else None)


def _host(uri: str) -> tuple[str, int]:
    hostport = uri.removeprefix("sips:").removeprefix("sip:").rpartition("@")[2].split(";")[0]
    host, _, port = hostport.partition(":")
    return host, int(port) if port else 5060


def mailer(settings: Settings) -> Mailer:
    smtp = settings.smtp
    if smtp.host is None:
        return SpoolMailer(settings.mail_spool_dir)
    return SmtpMailer(SmtpAdapterSettings(
        host=smtp.host, port=smtp.port, security=smtp.security, username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password else None,
        timeout_s=smtp.timeout_seconds))


async def _file_interrupted_recordings(
    settings: Settings, store: Store, intake: Intake, clock: SystemClock, *, at_start: bool
) -> None:
    """File recordings a crash interrupted: ours at start-up, any once surely not live."""
    catalog = await asyncio.to_thread(load_catalog, store)
    stale = timedelta(seconds=settings.limits.max_recording_seconds + 120)
    recovered = await asyncio.to_thread(
        intake.recover_pending, settings.recordings_dir, dict(catalog.profiles), clock.now(),
        node=settings.node.name if at_start else None, stale_after=stale)
    if recovered:
        log.warning("filed %d recordings interrupted by a crash", len(recovered))


async def _sweep_interrupted_recordings(
    settings: Settings, store: Store, intake: Intake, clock: SystemClock
) -> None:
    # With a shared recordings directory, a node that died for good leaves its sidecars to us.
    while True:
        await asyncio.sleep(60)
        try:
            await _file_interrupted_recordings(settings, store, intake, clock, at_start=False)
        except Exception:
            log.exception("sweeping interrupted recordings failed")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def start_telephony(appliance: Appliance) -> None:
    settings, store = appliance.settings, appliance.store
    clock = SystemClock()
    intake = Intake(store)
    await _file_interrupted_recordings(settings, store, intake, clock, at_start=True)
    sweeper = asyncio.create_task(_sweep_interrupted_recordings(settings, store, intake, clock))
    appliance.stoppers.append(lambda: _cancel(sweeper))
    prompts = PromptCatalog(settings.node.data_dir / "prompts", shipped_sounds_dir())
    flow = CallFlow(store, intake, clock, prompts, settings.recordings_dir, settings.node.name)
    engine = SipEngine(engine_config(settings), default_kit(inband_dtmf=settings.sip.inband_dtmf))
    engine.set_call_handler(flow.handle)
    await engine.start()
    appliance.engine_status = engine.status
    appliance.stoppers.append(engine.stop)
    await start_callbacks(appliance, engine, prompts, clock)
    start_operations(appliance, engine)

    appliance.stoppers.append(start_delivery(settings, store, clock, mailer(settings)))


def start_operations(appliance: Appliance, engine: SipEngine) -> None:
    """/readyz and /metrics providers, the call id on log lines, the daily retention task."""
    from appliance.ops.supervision import start_supervision

    appliance.stoppers.append(start_supervision(appliance.settings, appliance.store, engine))


async def start_callbacks(
    appliance: Appliance, engine: SipEngine, prompts: PromptCatalog, clock: SystemClock
) -> None:
    """The callback dialler, and a worker that emails staff about callbacks never reached."""
    from appliance.domain.retry import RetryPolicy
    from appliance.services.callback_mail import CallbackFailureEmails, CallbackMailSettings
    from appliance.services.callbacks import CALLBACK_FAILED_JOB, CallbackDialler, DiallerSettings
    from appliance.services.delivery import DeliveryWorker, WorkerSettings, mail_handler

    settings, store = appliance.settings, appliance.store
    if settings.limits.max_outbound == 0:
        log.info("callbacks are off (limits.max_outbound = 0)")
        return
    dialler = CallbackDialler(store, engine, clock, prompts, DiallerSettings(
        node=settings.node.name, max_outbound=settings.limits.max_outbound,
        caller_id=settings.sip.outbound.caller_id, number_format=settings.sip.outbound.dial_format))
    emails = CallbackFailureEmails(store, CallbackMailSettings(sender=settings.smtp.from_address))
    worker = DeliveryWorker(
        store, {CALLBACK_FAILED_JOB: mail_handler(mailer(settings), emails.build)}, clock,
        WorkerSettings(worker_id=f"{settings.node.name}-callbacks",
                       retry=RetryPolicy(max_attempts=20), concurrency=1, poll_interval_s=1.0))
    tasks = [asyncio.create_task(dialler.run(), name="callbacks"),
             asyncio.create_task(worker.run(), name="callback-mail")]

    async def stop() -> None:
        dialler.stop()
        worker.stop()
        await asyncio.gather(*tasks)

    appliance.stoppers.append(stop)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the appliance owns SIGINT/SIGTERM and stops the parts in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _web_server(appliance: Appliance) -> uvicorn.Server:
    settings = appliance.settings
    context = WebContext(
        store=appliance.store, api_token=appliance.api_token, node=settings.node.name,
        data_dir=settings.node.data_dir, recordings_dir=settings.recordings_dir,
        sounds_dir=shipped_sounds_dir(), secure_cookies=settings.web.secure_cookies,
        mailer=mailer(settings), smtp=settings.smtp, engine_status=appliance.engine_status,
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

    await start_telephony(appliance)
    web = _web_server(appliance)
    web_task = asyncio.create_task(web.serve(), name="web")
    watchdog = asyncio.create_task(notifier.watchdog(), name="watchdog")
    while not web.started and not web_task.done():
        await asyncio.sleep(0.02)
    if web_task.done():
        await web_task
        return 1
    freeze_startup_heap()
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


def freeze_startup_heap() -> None:
    """Move everything built at start-up (modules, SQLAlchemy, pydantic, FastAPI: ~160k objects)
    out of the cyclic GC's reach: a full collection then scans only what calls create. Measured
    at 200 calls (docs/PERFORMANCE.md): full collections went from ~180 ms to 30-50 ms, and
    each of them had stopped the 20 ms media clock of every call for that long."""
    gc.collect()
    gc.freeze()


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
