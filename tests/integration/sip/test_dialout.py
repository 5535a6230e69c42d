"""Dial-out for callbacks against SIPp callback targets: answered, busy (ACKed 486), and a ring
timeout that CANCELs (ACKed 487)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from appliance.adapters.sip.engine import SipEngine
from tests.integration.sip.conftest import prompt_frames
from tests.support.sipp import Sipp


async def _target(tmp_path: Path, scenario: str) -> tuple[Sipp, str]:
    sipp = Sipp(scenario, tmp_path)
    await sipp.start()
    await asyncio.sleep(0.3)  # SIPp binds its socket
    return sipp, f"sip:5551234@127.0.0.1:{sipp.port}"


async def test_dial_answered_then_we_hang_up(engine: SipEngine, tmp_path: Path) -> None:
    sipp, uri = await _target(tmp_path, "uas_callback_answer.xml")
    try:
        result = await engine.dial(uri, caller_id="600", display_name="CB 4711 Ana Perez",
                                   ring_timeout=10)
        assert (result.outcome, result.status) == ("answered", 200)
        assert result.leg is not None
        result.leg.play(prompt_frames(1.0), barge_in=False)
        await asyncio.sleep(1.5)
        await result.leg.hangup()
        done = await sipp.wait(20)
    finally:
        await sipp.stop()
    assert done.returncode == 0, done.explain()
    invite = next(m for m in done.traced() if m.startswith("INVITE "))
    assert 'From: "CB 4711 Ana Perez" <sip:600@' in invite
    assert engine.status().active_channels == 0


async def test_dial_busy(engine: SipEngine, tmp_path: Path) -> None:
    sipp, uri = await _target(tmp_path, "uas_callback_busy.xml")
    try:
        result = await engine.dial(uri, caller_id="600", display_name="CB 1 X", ring_timeout=10)
        done = await sipp.wait(20)
    finally:
        await sipp.stop()
    assert (result.outcome, result.status, result.leg) == ("busy", 486, None)
    assert done.returncode == 0, done.explain()  # SIPp got its ACK for the 486
    assert sum(m.startswith("SIP/2.0 486") for m in done.traced("sent")) == 1  # no retransmits


async def test_dial_ring_timeout_cancels(engine: SipEngine, tmp_path: Path) -> None:
    sipp, uri = await _target(tmp_path, "uas_callback_noanswer.xml")
    try:
        started = asyncio.get_running_loop().time()
        result = await engine.dial(uri, caller_id="600", display_name="CB 2 Y", ring_timeout=2)
        elapsed = asyncio.get_running_loop().time() - started
        done = await sipp.wait(20)
    finally:
        await sipp.stop()
    assert (result.outcome, result.status) == ("no_answer", 487)
    assert 1.9 < elapsed < 4.0
    assert done.returncode == 0, done.explain()  # CANCEL seen, 487 ACKed
