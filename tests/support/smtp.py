"""Real SMTP servers for tests: aiosmtpd Controllers on loopback, plain or STARTTLS + AUTH (trustme).

aiosmtpd's Controller cannot bind port 0 (its self-test connects to the configured port), so the
port is chosen free up front; that also lets a test start the server late, on a known port.
"""

from __future__ import annotations

import email
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "vm", "secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sink:
    """Keeps every accepted message; `replies` scripts the DATA answers (then 250 for the rest)."""

    replies: list[str] = field(default_factory=list)
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.replies:
            reply = self.replies.pop(0)
            if not reply.startswith("250"):
                return reply
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope, msg))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for _, m in self.messages]


@dataclass
class SmtpServer:
    port: int
    sink: Sink
    controller: Controller


@contextmanager
def smtp_server(
    sink: Sink | None = None, port: int | None = None, **kwargs: Any
) -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 (extra kwargs go to aiosmtpd's Controller)."""
    sink = sink if sink is not None else Sink()
    port = port if port is not None else free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    ctl.start()
    try:
        yield SmtpServer(port, sink, ctl)
    finally:
        ctl.stop()


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False makes the server answer 535 itself; True would leave the client hanging 60 s.
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_tls_auth_server(ca: trustme.CA, sink: Sink | None = None) -> Iterator[SmtpServer]:
    """STARTTLS required, AUTH required after TLS; login `vm` / `secret`, certificate from `ca`."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    with smtp_server(
        sink,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=True,
    ) as server:
        yield server


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx
