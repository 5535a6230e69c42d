"""`SmtpMailer`: hands emails to an SMTP relay with aiosmtplib, mapping SMTP replies to our errors.

4xx replies, refused/reset connections and timeouts are transient; 5xx replies are permanent.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from appliance.errors import PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    local_hostname: str | None = None


class SmtpMailer:
    """One connection per message: voicemail volume is low and a fresh session never goes stale."""

    def __init__(
        self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._settings = settings
        self._tls_context = tls_context

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        try:
            refused, reply = await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                local_hostname=s.local_hostname,
                timeout=s.timeout_s,
                use_tls=s.security == "tls",
                # "none" must say False: aiosmtplib would otherwise upgrade whenever offered.
                start_tls=s.security == "starttls",
                tls_context=self._tls_context,
            )
        except aiosmtplib.SMTPException as exc:
            raise _map_error(exc) from exc
        except OSError as exc:  # TLS handshake failures, unreachable host
            raise TransientDeliveryError(f"SMTP {s.host}:{s.port}: {exc}") from exc
        if refused:
            # Some recipients took it; a retry would duplicate it for them, so we only log.
            log.warning("%s accepted with refused recipients %s", message["Message-ID"], refused)
        log.info("%s sent via %s: %s", message["Message-ID"], s.host, reply)


def _map_error(exc: aiosmtplib.SMTPException) -> TransientDeliveryError | PermanentDeliveryError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if codes and all(c >= 500 for c in codes):
            return PermanentDeliveryError(f"SMTP recipients refused: {text}")
        return TransientDeliveryError(f"SMTP recipients refused: {text}")
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return PermanentDeliveryError(f"SMTP {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return TransientDeliveryError(f"SMTP {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # e.g. STARTTLS configured but not offered: a config problem no retry will fix.
        return PermanentDeliveryError(f"SMTP: {exc}")
    return TransientDeliveryError(f"SMTP: {exc}{_cause(exc)}")


def _cause(exc: Exception) -> str:
    # aiosmtplib words a refused connection as "Connect call failed"; name the errno plainly.
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.errno:
        return f" ({os.strerror(cause.errno)})"
    return ""
