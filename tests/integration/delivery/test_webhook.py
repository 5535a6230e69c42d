"""HttpWebhook against a real HTTP server on loopback: signature, idempotency key, status mapping."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance.adapters.export.webhook import HttpWebhook, WebhookSettings
from appliance.errors import PermanentDeliveryError, TransientDeliveryError
from tests.support.smtp import free_port

SECRET = "s3cret-key"


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.seen.append((dict(self.headers.items()), body))
            time.sleep(state.delay_s)
            status = state.statuses.pop(0) if state.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"nope!!\n")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/desborde"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def hook(url: str, timeout_s: float = 5.0) -> HttpWebhook:
    return HttpWebhook(WebhookSettings(url, SECRET, timeout_s), clock=lambda: 1_770_000_000.0)


async def test_post_is_signed_json_with_idempotency_key(receiver: Receiver) -> None:
    data = {"ticket": "T-1", "caller": "José 김", "created_at": datetime(2026, 3, 1, tzinfo=UTC)}
    await hook(receiver.url).post("ticket_created", data, idempotency_key="job-7")
    [(headers, body)] = receiver.seen
    assert json.loads(body) == {
        "event": "ticket_created",
        "id": "job-7",
        "data": {"ticket": "T-1", "caller": "José 김", "created_at": "2026-03-01T00:00:00+00:00"},
    }
    assert headers["Idempotency-Key"] == "job-7"
    assert headers["X-Desborde-Timestamp"] == "1770000000"
    expected = hmac.new(SECRET.encode(), b"1770000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Desborde-Signature"] == f"sha256={expected}"


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, TransientDeliveryError), (503, TransientDeliveryError), (429, TransientDeliveryError),
     (400, PermanentDeliveryError), (401, PermanentDeliveryError), (301, PermanentDeliveryError)],
)  # fmt: skip
async def test_status_codes_map_to_transience(
    receiver: Receiver, status: int, error: type[Exception]
) -> None:
    receiver.statuses = [status]
    with pytest.raises(error, match=f"HTTP {status}: nope!!"):
        await hook(receiver.url).post("ticket_created", {}, idempotency_key="k")


async def test_receiver_down_is_transient() -> None:
    with pytest.raises(TransientDeliveryError):
        await hook(f"http://127.0.0.1:{free_port()}/").post("x", {}, idempotency_key="k")


async def test_slow_receiver_times_out_transiently(receiver: Receiver) -> None:
    receiver.delay_s = 2.0
    with pytest.raises(TransientDeliveryError, match="timed out"):
        await hook(receiver.url, timeout_s=0.3).post("x", {}, idempotency_key="k")


async def test_unserialisable_payload_is_permanent(receiver: Receiver) -> None:
    with pytest.raises(PermanentDeliveryError, match="not JSON"):
        await hook(receiver.url).post("x", {"blob": object()}, idempotency_key="k")
    assert receiver.seen == []
