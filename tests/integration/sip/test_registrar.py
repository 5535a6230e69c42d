"""Registered mode against a real Kamailio registrar: REGISTER with digest (qop=auth, MD5 and
SHA-256), then a call routed to us through the record-routing proxy, ACK and BYE included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.adapters.sip.engine import SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.adapters.sip.register import AccountConfig
from tests.integration.sip.conftest import DemoApp, engine_config, frames_for
from tests.support.kamailio import Kamailio
from tests.support.sipp import Sipp


@pytest.fixture(params=["MD5", "SHA-256"])
async def registrar(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Kamailio]:
    kam = Kamailio(tmp_path / "kam", algorithm=request.param)
    await kam.start()
    try:
        yield kam
    finally:
        await kam.stop()


async def test_register_then_call_through_the_proxy(
    registrar: Kamailio, app: DemoApp, tmp_path: Path
) -> None:
    account = AccountConfig(aor=f"sip:ovm@127.0.0.1:{registrar.port}",
                            registrar=("127.0.0.1", registrar.port),
                            username="ovm", password="ovm-secret", expires=60)
    engine = SipEngine(engine_config(mode="register", accounts=(account,)),
                       default_kit(frames_for))
    engine.set_call_handler(app)
    app.hangup_on = None  # the caller hangs up (its BYE must come back through the proxy)
    await engine.start()
    try:
        keeper = engine.keepers[0]
        await keeper.wait_registered(5)
        assert engine.status().registrations == {account.aor: "registered"}
        assert keeper.granted_expires == 60

        result = await Sipp("uac_media_dtmf.xml", tmp_path, service="ovm",
                            target=f"127.0.0.1:{registrar.port}").run(timeout=40)
        assert result.returncode == 0, result.explain() + registrar.log()[-3000:]
        (call,) = await app.wait_calls(1)
        assert call.digits == "12#1234#"
        ok = next(m for m in result.traced() if m.startswith("SIP/2.0 200") and "INVITE" in m)
        assert "Record-Route:" in ok  # defect 1: copied into our 2xx, so ACK/BYE find us
    finally:
        await engine.stop()


async def test_dial_out_through_the_proxy_with_407(
    registrar: Kamailio, engine: SipEngine, tmp_path: Path
) -> None:
    """Defects 2-4: the 407 is ACKed and answered with credentials (stale copies ignored); the
    2xx's Contact and Record-Route become the dialog's target and routes, so our BYE finds the
    callee through the proxy (which 404s an in-dialog request without Route)."""
    sipp = Sipp("uas_callback_answer.xml", tmp_path / "callee")
    await sipp.start()
    await registrar.stop()
    registrar.target_port = sipp.port
    await registrar.start()
    engine.config = replace(engine.config, outbound_proxy=("127.0.0.1", registrar.port),
                            outbound_username="ovm", outbound_password="ovm-secret")
    try:
        result = await engine.dial("95551234", caller_id="600", display_name="CB 9 Z",
                                   ring_timeout=10)
        assert (result.outcome, result.status) == ("answered", 200), registrar.log()[-3000:]
        assert result.leg is not None
        await asyncio.sleep(0.5)
        await result.leg.hangup()
        done = await sipp.wait(20)
    finally:
        await sipp.stop()
    assert done.returncode == 0, done.explain() + registrar.log()[-3000:]
    bye = next(m for m in done.traced() if m.startswith("BYE "))
    assert "Route:" not in bye  # the proxy consumed its own Route: it really loose-routed
