"""A real uvicorn server (pre-bound free socket, in a thread) on a real SqlStore, and Debian's
Chromium driven by Playwright. Never `playwright install`: the browser comes from the system.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.config import SmtpSettings
from appliance.domain.records import Call, Role
from appliance.ports.telephony import EngineStatus
from tests.integration.webui.conftest import T0, FakeClock, Seeded, add_user, seed
from tests.support.tools import require_tool
from webui.app import create_app
from webui.deps import WebContext

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]
# What the dashboard shows of the SIP engine: one extension registered, one refused.
ENGINE = EngineStatus(mode="register", active_channels=2, max_channels=30,
                      registrations={"sip:600@pbx.example.cl": "registered",
                                     "sip:601@pbx.example.cl": "failed"})
_OUTCOMES = ["message_left", "returned_to_queue", "callback_scheduled", "ticket_created",
             "abandoned_in_menu", "returned_to_queue", "message_left", "returned_to_queue"]


@dataclass
class Live:
    url: str
    store: SqlStore
    data_dir: Path
    seeded: Seeded


def _history(store: SqlStore) -> None:
    """A fortnight of overflow calls, busier mid-morning and mid-afternoon, for the charts."""
    n = 0
    for day in range(14):
        for hour in (9, 10, 10, 11, 12, 15, 16, 16, 17)[: 4 + (day * 5) % 6]:
            started = T0 - timedelta(days=day) + timedelta(hours=hour - 12, minutes=7 * n % 50)
            if started > T0:
                continue
            n += 1
            store.start_call(Call(id=f"hist-{n}", service="default", caller=f"+5692000{n:04d}",
                                  dialled="600", mode="business", language="es",
                                  started_at=started, node="demo"))
            store.finish_call(f"hist-{n}", ended_at=started + timedelta(seconds=40),
                              outcome=_OUTCOMES[n % len(_OUTCOMES)])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    store = SqlStore.open(f"sqlite:///{tmp_path}/web.db")
    data_dir = tmp_path / "var"
    (data_dir / "recordings").mkdir(parents=True)
    seeded = seed(store, data_dir / "recordings")
    _history(store)
    context = WebContext(store=store, api_token="t", node="demo", data_dir=data_dir,
                         clock=FakeClock(), mailer=SpoolMailer(data_dir / "mail"),
                         smtp=SmtpSettings(from_address="desborde@example.com"),
                         engine_status=lambda: ENGINE)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(context), log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Live(f"http://127.0.0.1:{sock.getsockname()[1]}", store, data_dir, seeded)
    server.should_exit = True
    thread.join(5)
    sock.close()
    store.close()


# Module scope, not session: Playwright's sync API runs an event loop in this thread while it is
# open, and pytest-asyncio cannot start its own loops for the async tests that run afterwards.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def sign_in_as_admin(page: Page, live: Live) -> None:
    from tests.integration.webui.conftest import PASSWORD

    add_user(live.store, "ana", Role.ADMIN)
    page.goto(live.url + "/login")
    page.fill("#username", "ana")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(live.url + "/")
