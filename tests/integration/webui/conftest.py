"""The web app on a real SqlStore (SQLite in tmp_path), driven through FastAPI's TestClient."""

from __future__ import annotations

import re
import shutil
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 fork; httpx (a declared dependency) still works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient as TestClient  # re-exported to the test modules

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import (
    Call,
    Callback,
    CallEvent,
    Message,
    OutboxJob,
    Role,
    Ticket,
    TranscriptStatus,
    User,
    new_id,
)
from appliance.services.admin import hash_password
from webui.app import create_app
from webui.deps import WebContext

PASSWORD = "correct horse battery"
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "media"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 12:00 in Santiago
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class FakeClock:
    """Tests move time by hand (throttle windows, "today" on the dashboard)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/web.db")
    yield opened
    opened.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    (path / "recordings").mkdir(parents=True)
    return path


@pytest.fixture
def client(store: SqlStore, data_dir: Path, clock: FakeClock) -> Iterator[TestClient]:
    context = WebContext(store=store, api_token="api-token-for-tests", node="test",
                         data_dir=data_dir, clock=clock)
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def add_user(store: SqlStore, username: str, role: Role, *, must_change: bool = False) -> None:
    store.create_user(User(username=username, password_hash=hash_password(PASSWORD), role=role,
                           created_at=T0, must_change_password=must_change))


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token for later posts."""
    token = csrf_of(client)
    response = client.post("/login", data={"username": username, "password": password,
                                            "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text
    return token


@pytest.fixture
def admin(client: TestClient, store: SqlStore) -> str:
    add_user(store, "ana", Role.ADMIN)
    return sign_in(client, "ana")


EVIL = "<script>alert('x')</script>"


@dataclass(frozen=True)
class Seeded:
    message_id: str
    ticket_id: str
    callback_id: str
    job_id: str
    call_id: str


def seed(store: SqlStore, recordings: Path) -> Seeded:
    """One of everything, with caller-provided text that would run if it were not escaped."""
    wav = recordings / "2026" / "m1.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASSETS / "speech_8k.wav", wav)
    call = Call(id="call-1@pbx", service="default", caller=f"+56911111111 {EVIL}", dialled="600",
                mode="business", language="es", started_at=T0 - timedelta(minutes=5), node="test")
    store.start_call(call)
    store.add_call_event(CallEvent(call.id, T0 - timedelta(minutes=5), "answered", {"note": EVIL}))
    store.add_call_event(CallEvent(call.id, T0 - timedelta(minutes=4), "dtmf", {"key": "2"}))
    store.finish_call(call.id, ended_at=T0 - timedelta(minutes=3), outcome="message_left")
    message = Message(id=new_id(), call_id=call.id, service="default", caller="+56911111111",
                      recorded_at=T0 - timedelta(minutes=4), duration_s=3.2, path=str(wav),
                      size=wav.stat().st_size, transcript=f"hola {EVIL}",
                      transcript_status=TranscriptStatus.DONE)
    store.save_message(message)
    ticket = Ticket(id=new_id(), number="10004", sequence=1000, service="default",
                    caller="+56922222222", created_at=T0 - timedelta(minutes=2),
                    callback_number="+56922222222", customer_id=EVIL)
    callback = Callback(id=new_id(), ticket_id=ticket.id, service="default",
                        number="+56922222222", due_at=T0 + timedelta(hours=1), created_at=T0)
    store.create_or_merge_callback(callback, ticket=ticket)
    job = OutboxJob(id=new_id(), kind="email", payload={"to": "desk@example.com"}, due_at=T0,
                    created_at=T0, updated_at=T0)
    store.enqueue([job])
    claimed = store.claim_due_jobs(T0, "w1", limit=1, lease=timedelta(minutes=1))
    assert [j.id for j in claimed] == [job.id]
    store.fail_job(job.id, "w1", f"550 mailbox unavailable {EVIL}", now=T0)
    return Seeded(message.id, ticket.id, callback.id, job.id, call.id)


@pytest.fixture
def seeded(store: SqlStore, data_dir: Path) -> Seeded:
    return seed(store, data_dir / "recordings")


@dataclass
class Receiver:
    """A webhook receiver: what it was sent, and the status it answers with next."""

    url: str
    status: int = 200
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 (free port, in a thread) taking webhook POSTs."""
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
