"""Hostile input: every RFC 4475 torture message (tests/assets/torture, one datagram each) is
replayed at the engine; it must never crash or stall, must keep answering OPTIONS after each,
and must still take a real call at the end."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from aiosipua.message import SipMessage, SipRequest

from appliance.adapters.sip.checks import refuse
from appliance.adapters.sip.engine import SipEngine
from tests.integration.sip.conftest import DemoApp, target
from tests.support.sipp import Sipp

TORTURE = Path(__file__).resolve().parents[2] / "assets" / "torture"
MESSAGES = sorted(TORTURE.glob("*.dat"))


def _options(port: int, n: int, reply_port: int) -> bytes:
    return (f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{reply_port};branch=z9hG4bKalive{n};rport\r\n"
            f"From: <sip:probe@127.0.0.1>;tag=t{n}\r\nTo: <sip:probe@127.0.0.1>\r\n"
            f"Call-ID: alive-{n}@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


async def _still_alive(sock: socket.socket, port: int, n: int) -> bool:
    loop = asyncio.get_running_loop()
    sock.sendto(_options(port, n, sock.getsockname()[1]), ("127.0.0.1", port))
    deadline = loop.time() + 2.0
    while loop.time() < deadline:
        try:
            data = sock.recv(65535)
        except BlockingIOError:
            await asyncio.sleep(0.01)
            continue
        if f"alive-{n}@test".encode() in data and data.startswith(b"SIP/2.0 200"):
            return True
    return False


async def test_torture_messages_never_break_the_engine(
    engine: SipEngine, app: DemoApp, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(MESSAGES) == 30
    app.hangup_on, app.hangup_after = None, 0.5  # calls from valid INVITEs end by themselves
    port = engine.config.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        with caplog.at_level(logging.WARNING, logger="appliance"):
            for n, path in enumerate(MESSAGES):
                sock.sendto(path.read_bytes(), ("127.0.0.1", port))
                assert await _still_alive(sock, port, n), f"no OPTIONS answer after {path.name}"
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, [r.getMessage() for r in crashes]

    app.hangup_on, app.hangup_after = "#", None
    result = await Sipp("uac_ivr_pcma.xml", tmp_path, target=target(engine)).run(timeout=40)
    assert result.returncode == 0, result.explain()
    assert app.calls[-1].digits == "123#"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("mismatch01.dat", 400),
        ("multi01.dat", 400),
        ("ncl.dat", 400),
        ("unkscm.dat", 416),
        ("novelsc.dat", 416),
        ("bext01.dat", 420),
        ("invut.dat", 415),
    ],
)
def test_torture_requests_refused_with_rfc4475_status(name: str, status: int) -> None:
    request = SipMessage.parse((TORTURE / name).read_bytes())
    assert isinstance(request, SipRequest)
    verdict = refuse(request)
    assert verdict is not None and verdict[0] == status


@pytest.mark.parametrize("name", ["wsinv.dat", "esc01.dat", "lwsdisp.dat", "semiuri.dat",
                                  "transports.dat", "zeromf.dat", "baddate.dat"])
def test_valid_torture_requests_are_not_refused(name: str) -> None:
    request = SipMessage.parse((TORTURE / name).read_bytes())
    assert isinstance(request, SipRequest)
    assert refuse(request) is None
