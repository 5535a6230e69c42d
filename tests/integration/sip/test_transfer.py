"""Keep waiting: blind REFER back to the hunt group, judged by the REFER's answer and the
NOTIFY sipfrag stream from a SIPp PBX."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.adapters.sip.engine import SipEngine
from tests.integration.sip.conftest import DemoApp, target
from tests.support.sipp import Sipp

HUNT_GROUP = "sip:600@127.0.0.1"


@pytest.mark.parametrize(
    ("scenario", "ok", "status"),
    [
        ("uac_pbx_refer.xml", True, 200),
        ("uac_pbx_refer_fail.xml", False, 603),
        ("uac_pbx_refer_refused.xml", False, 403),
    ],
)
async def test_blind_transfer_outcome(
    engine: SipEngine, app: DemoApp, tmp_path: Path, scenario: str, ok: bool, status: int
) -> None:
    app.transfer_to = HUNT_GROUP
    result = await Sipp(scenario, tmp_path, target=target(engine)).run(timeout=40)
    assert result.returncode == 0, result.explain()
    (call,) = await app.wait_calls(1)
    assert call.transfer is not None
    assert (call.transfer.ok, call.transfer.status) == (ok, status)
    refers = [m for m in result.traced() if m.startswith("REFER ")]
    assert len(refers) == 1
    assert f"Refer-To: <{HUNT_GROUP}>" in refers[0]
    assert "Referred-By: <sip:desborde@127.0.0.1:" in refers[0]
