"""Dialogs against SIPp callers: OPTIONS, CANCEL while ringing, re-INVITE, BYE both ways."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

from appliance.adapters.sip.engine import SipEngine
from tests.integration.sip.conftest import DemoApp, target
from tests.support.sipp import Sipp


async def test_options_answered_with_generic_server_header(
    engine: SipEngine, tmp_path: Path
) -> None:
    result = await Sipp("options.xml", tmp_path, target=target(engine), calls=3).run()
    assert result.returncode == 0, result.explain()
    responses = [m for m in result.traced() if m.startswith("SIP/2.0 200")]
    assert len(responses) == 3, result.explain()
    assert all("Server: Desborde" in m for m in responses)
    assert "aiosipua" not in result.messages.lower()


async def test_cancel_while_ringing_gets_200_and_487(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.ring = 3.0
    result = await Sipp("cancel.xml", tmp_path, target=target(engine)).run()
    assert result.returncode == 0, result.explain()
    (_call,) = await app.wait_calls(1, timeout=10)
    assert engine.status().active_channels == 0


async def test_reinvite_answered_without_restarting_media(
    engine: SipEngine, app: DemoApp, tmp_path: Path
) -> None:
    app.hangup_on = None  # the caller sends BYE
    sipp = Sipp("reinvite.xml", tmp_path, target=target(engine))
    result = await sipp.run()
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1, timeout=10)
    # both 200s carry the same media port: the stream was kept, not rebuilt
    answers = [m for m in result.traced() if "m=audio" in m and m.startswith("SIP/2.0 200")]
    ports = {line.split()[1] for m in answers for line in m.splitlines()
             if line.startswith("m=audio")}
    assert len(answers) >= 2 and len(ports) == 1, result.explain()
    assert any(e.__class__.__name__ == "RemoteHangup" for e in call.events)


async def test_invite_retransmission_is_absorbed(engine: SipEngine, app: DemoApp) -> None:
    """Defect 5 (kit's dupinv probe): the same INVITE again 600 ms later must neither start a
    second call nor get a 481; every 200 carries the one To tag."""
    app.hangup_on, app.hangup_after = None, 2.0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        me, port = sock.getsockname()[1], engine.config.port
        body = ("v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio 9 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:101 telephone-event/8000\r\n")
        invite = (f"INVITE sip:100@127.0.0.1:{port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-dupinv-1\r\n"
                  "From: <sip:probe@127.0.0.1>;tag=probe1\r\nTo: <sip:100@127.0.0.1>\r\n"
                  "Call-ID: dupinv@probe\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:probe@127.0.0.1:{me}>\r\nMax-Forwards: 70\r\n"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        sock.sendto(invite.encode(), ("127.0.0.1", port))
        replies = await _collect(sock, 0.6)
        sock.sendto(invite.encode(), ("127.0.0.1", port))
        replies += await _collect(sock, 1.0)
    finals = [r for r in replies if r.startswith("SIP/2.0 200")]
    assert finals and not any(r.startswith("SIP/2.0 481") for r in replies), replies
    tags = {re.search(r"(?m)^To:.*;tag=([^;\r\n]+)", r).group(1) for r in finals}  # type: ignore[union-attr]
    assert len(tags) == 1
    assert len(app.calls) == 1


async def _collect(sock: socket.socket, seconds: float) -> list[str]:
    loop = asyncio.get_running_loop()
    end, out = loop.time() + seconds, []
    while loop.time() < end:
        try:
            out.append(sock.recv(65535).decode(errors="replace"))
        except BlockingIOError:
            await asyncio.sleep(0.01)
    return out
