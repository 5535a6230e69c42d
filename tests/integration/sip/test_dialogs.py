"""Dialogs against SIPp callers: OPTIONS, CANCEL while ringing, re-INVITE, BYE both ways."""

from __future__ import annotations

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
