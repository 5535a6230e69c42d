"""SmtpMailer against a real aiosmtpd server: plain, STARTTLS+AUTH, implicit TLS, reply mapping."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import trustme

from appliance.adapters.mail.smtp import SmtpMailer, SmtpSettings
from appliance.errors import PermanentDeliveryError, TransientDeliveryError
from tests.support.smtp import (
    PASSWORD,
    USER,
    Sink,
    client_context,
    free_port,
    smtp_server,
    smtp_tls_auth_server,
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def message(n: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "vm@example.test"
    msg["To"] = "help@example.test"
    msg["Subject"] = f"Voicemail {n}"
    msg["Message-ID"] = f"<desborde.{n}@example.test>"
    msg.set_content("new voicemail")
    msg.add_attachment(b"RIFF....", maintype="audio", subtype="wav", filename="vm.wav")
    return msg


def plain(port: int, **kw: object) -> SmtpMailer:
    return SmtpMailer(SmtpSettings("127.0.0.1", port, security="none", timeout_s=5, **kw))  # type: ignore[arg-type]


async def test_plain_send_delivers_the_message() -> None:
    with smtp_server() as srv:
        await plain(srv.port).send(message())
    env, got = srv.sink.messages[0]
    assert env.mail_from == "vm@example.test" and env.rcpt_tos == ["help@example.test"]
    assert got["Message-ID"] == "<desborde.1@example.test>"
    assert next(got.iter_attachments()).get_filename() == "vm.wav"


async def test_starttls_and_auth(ca: trustme.CA) -> None:
    with smtp_tls_auth_server(ca) as srv:
        settings = SmtpSettings("127.0.0.1", srv.port, "starttls", USER, PASSWORD, timeout_s=5)
        await SmtpMailer(settings, tls_context=client_context(ca)).send(message())
    assert srv.sink.message_ids() == ["<desborde.1@example.test>"]


async def test_wrong_password_is_permanent_with_reply_text(ca: trustme.CA) -> None:
    with smtp_tls_auth_server(ca) as srv:
        settings = SmtpSettings("127.0.0.1", srv.port, "starttls", USER, "wrong", timeout_s=5)
        with pytest.raises(PermanentDeliveryError, match="535"):
            await SmtpMailer(settings, tls_context=client_context(ca)).send(message())
    assert srv.sink.messages == []


async def test_server_requiring_tls_refuses_plain_session(ca: trustme.CA) -> None:
    with smtp_tls_auth_server(ca) as srv, pytest.raises(PermanentDeliveryError, match="530"):
        await plain(srv.port).send(message())


async def test_untrusted_certificate_is_not_sent(ca: trustme.CA) -> None:
    with smtp_tls_auth_server(ca) as srv:
        settings = SmtpSettings("127.0.0.1", srv.port, "starttls", USER, PASSWORD, timeout_s=5)
        with pytest.raises(TransientDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            await SmtpMailer(settings, tls_context=ssl.create_default_context()).send(message())
    assert srv.sink.messages == []


@pytest.fixture
def implicit_tls(ca: trustme.CA) -> Iterator[tuple[int, Sink]]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    with smtp_server(ssl_context=server_ctx) as srv:
        yield srv.port, srv.sink


async def test_implicit_tls(ca: trustme.CA, implicit_tls: tuple[int, Sink]) -> None:
    port, sink = implicit_tls
    settings = SmtpSettings("127.0.0.1", port, "tls", timeout_s=5)
    await SmtpMailer(settings, tls_context=client_context(ca)).send(message())
    assert len(sink.messages) == 1


async def test_550_is_permanent_and_keeps_reply_text() -> None:
    reply = "550 5.7.1 Mailbox unavailable: policy"
    with smtp_server(Sink(replies=[reply])) as srv, pytest.raises(PermanentDeliveryError) as err:
        await plain(srv.port).send(message())
    assert reply in str(err.value)


async def test_451_is_transient() -> None:
    reply = "451 4.3.0 Try again later"
    with smtp_server(Sink(replies=[reply])) as srv, pytest.raises(TransientDeliveryError) as err:
        await plain(srv.port).send(message())
    assert reply in str(err.value)


async def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientDeliveryError, match="Connection refused"):
        await plain(free_port()).send(message())


async def test_silent_server_times_out_transiently() -> None:
    # A listener that accepts but never greets: the connect/greeting must time out, not hang.
    writers: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(lambda r, w: writers.append(w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mailer = SmtpMailer(SmtpSettings("127.0.0.1", port, security="none", timeout_s=0.5))
    async with server:
        with pytest.raises(TransientDeliveryError, match=r"(?i)timed out"):
            await mailer.send(message())
        for w in writers:
            w.close()
            await w.wait_closed()
