"""Who gets in: allowed peers only (a bare 403 otherwise), 486 over max_channels, a per-source
INVITE rate limit; plus SIP INFO digits and session timers asked for by the caller."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from appliance.adapters.sip.engine import SipEngine
from appliance.adapters.sip.mediapath import default_kit
from tests.integration.sip.conftest import DemoApp, engine_config, frames_for, target
from tests.support.sipp import Sipp


@asynccontextmanager
async def running(app: DemoApp, **config: object) -> AsyncIterator[SipEngine]:
    engine = SipEngine(engine_config(**config), default_kit(frames_for))
    engine.set_call_handler(app)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


def invite(port: int, reply_port: int, n: int, user: str = "100") -> bytes:
    body = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 9 RTP/AVP 0\r\n")
    return (f"INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{reply_port};branch=z9hG4bKacc{n};rport\r\n"
            f"From: <sip:scan@127.0.0.1>;tag=s{n}\r\nTo: <sip:{user}@127.0.0.1>\r\n"
            f"Call-ID: acc-{n}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:scan@127.0.0.1:{reply_port}>\r\n"
            f"Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


async def first_final(sock: socket.socket, call_id: str, timeout: float = 1.0) -> str | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            data = sock.recv(65535).decode(errors="replace")
        except BlockingIOError:
            await asyncio.sleep(0.01)
            continue
        status = data.split("\r\n", 1)[0]
        if call_id in data and not status.startswith("SIP/2.0 1"):
            return data
    return None


def _header_names(message: str | None) -> list[str]:
    return sorted(line.split(":")[0] for line in (message or "").split("\r\n")[1:] if line)


def udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def test_unlisted_source_gets_a_bare_403_whatever_the_user(app: DemoApp) -> None:
    async with running(app, allowed_peers=("10.9.8.0/24",)) as engine:
        with udp() as sock:
            answers = []
            for n, user in enumerate(["100", "nonexistent-user"]):
                sock.sendto(invite(engine.config.port, sock.getsockname()[1], n, user),
                            ("127.0.0.1", engine.config.port))
                answers.append(await first_final(sock, f"acc-{n}@test"))
    assert all(a is not None and a.startswith("SIP/2.0 403") for a in answers), answers
    assert "Server: Desborde" in answers[0]  # generic: no library name or version
    assert _header_names(answers[0]) == _header_names(answers[1])  # known and unknown alike
    assert app.calls == []


async def test_over_max_channels_is_486(app: DemoApp) -> None:
    app.hangup_on, app.hangup_after = None, 3.0
    async with running(app, max_channels=1) as engine:
        with udp() as sock:
            port, me = engine.config.port, sock.getsockname()[1]
            sock.sendto(invite(port, me, 1), ("127.0.0.1", port))
            await asyncio.sleep(0.3)
            sock.sendto(invite(port, me, 2), ("127.0.0.1", port))
            second = await first_final(sock, "acc-2@test")
    assert second is not None and second.startswith("SIP/2.0 486"), second


async def test_invite_flood_is_rate_limited(app: DemoApp) -> None:
    app.hangup_on, app.hangup_after = None, 0.2
    async with running(app, invites_per_second=2.0) as engine:
        with udp() as sock:
            port, me = engine.config.port, sock.getsockname()[1]
            for n in range(20):
                sock.sendto(invite(port, me, n), ("127.0.0.1", port))
            await asyncio.sleep(1.0)
    assert 1 <= len(app.calls) <= 7  # burst of 5 (+ refill), not 20


async def test_info_digits_and_session_timer(app: DemoApp, tmp_path: Path) -> None:
    async with running(app, session_expires=1800) as engine:
        result = await Sipp("uac_info_timer.xml", tmp_path, target=target(engine)).run(20)
        assert result.returncode == 0, result.explain()
        (call,) = await app.wait_calls(1)
    assert call.digits == "5#"
    assert {e.source for e in call.events if hasattr(e, "source")} == {"info"}
    ok = next(m for m in result.traced() if m.startswith("SIP/2.0 200") and "INVITE" in m)
    assert "Session-Expires: 90;refresher=uac" in ok
