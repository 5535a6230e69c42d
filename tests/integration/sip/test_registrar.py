"""Registered mode against a real Kamailio registrar: REGISTER with digest (qop=auth, MD5 and
SHA-256), then a call routed to us through the record-routing proxy, ACK and BYE included."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
