"""`HttpWebhook`: POSTs one JSON event, signed with HMAC-SHA256 over the timestamp and the body.

Receivers check `X-Desborde-Signature: sha256=<hex of HMAC(secret, "<timestamp>.<body>")>` and
reject stale `X-Desborde-Timestamp`s (replay), and drop repeats by `Idempotency-Key`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import httpx

from appliance.errors import PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

# Status codes that say "later": timeouts, rate limits and server-side trouble.
_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str
    timeout_s: float = 10.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HttpWebhook:
    def __init__(
        self,
        settings: WebhookSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._clock = clock

    async def post(
        self, event_kind: str, payload: Mapping[str, object], *, idempotency_key: str
    ) -> None:
        body = _body(event_kind, payload, idempotency_key)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Desborde-Event": event_kind,
            "X-Desborde-Timestamp": timestamp,
            "X-Desborde-Signature": sign(self._settings.secret, timestamp, body),
            "Idempotency-Key": idempotency_key,
        }
        response = await self._send(body, headers)
        if response.status_code >= 500 or response.status_code in _RETRY_STATUSES:
            raise TransientDeliveryError(
                f"webhook HTTP {response.status_code}: {_excerpt(response)}"
            )
        if response.status_code >= 300:
            raise PermanentDeliveryError(
                f"webhook HTTP {response.status_code}: {_excerpt(response)}"
            )
        log.info("webhook %s %s -> %s", event_kind, idempotency_key, response.status_code)

    async def _send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        s = self._settings
        try:
            async with httpx.AsyncClient(
                timeout=s.timeout_s, transport=self._transport, follow_redirects=False
            ) as client:
                return await client.post(s.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(
                f"webhook {s.url}: timed out after {s.timeout_s} s"
            ) from exc
        except httpx.TransportError as exc:
            raise TransientDeliveryError(f"webhook {s.url}: {exc!r}") from exc
        except httpx.InvalidURL as exc:
            raise PermanentDeliveryError(f"webhook {s.url}: {exc}") from exc


def _body(event_kind: str, payload: Mapping[str, object], idempotency_key: str) -> bytes:
    document = {"event": event_kind, "id": idempotency_key, "data": dict(payload)}
    try:
        text = json.dumps(
            document, default=_json_default, ensure_ascii=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise PermanentDeliveryError(f"webhook payload is not JSON: {exc}") from exc
    return text.encode()


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a webhook")


def _excerpt(response: httpx.Response) -> str:
    return response.text[:200]
