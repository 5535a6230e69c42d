"""The /readyz OPTIONS ping against a real SIP server (Kamailio) and against silence."""

from __future__ import annotations

from pathlib import Path

from appliance.ops.sip_probe import options_ping
from tests.support.kamailio import Kamailio
from tests.support.sipp import free_udp_port


async def test_a_live_sip_server_answers_200(tmp_path: Path) -> None:
    kamailio = Kamailio(tmp_path / "kam")
    await kamailio.start()
    try:
        assert await options_ping("127.0.0.1", kamailio.port) == 200
    finally:
        await kamailio.stop()


async def test_nobody_listening_is_none_within_the_timeout() -> None:
    assert await options_ping("127.0.0.1", free_udp_port(), timeout=0.4) is None
