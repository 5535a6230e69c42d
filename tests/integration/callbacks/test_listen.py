"""CallLeg.listen on an outbound leg: every 20 ms tick delivers what the far end sent (or None),
which is what AMD feeds on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from appliance.adapters.sip.engine import SipEngine
from tests.integration.callbacks.conftest import human_pcap, listening, scenario
from tests.support.sipp import Sipp


async def test_listen_delivers_each_received_frame(engine: SipEngine, tmp_path: Path) -> None:
    target = await listening(Sipp(scenario(tmp_path, "uas_callback_human.xml",
                                           human_pcap(tmp_path, 4.0)), tmp_path))
    frames: list[bytes | None] = []
    try:
        result = await engine.dial(f"sip:5551234@127.0.0.1:{target.port}", caller_id="600",
                                   display_name="Desborde", ring_timeout=5)
        assert result.leg is not None
        result.leg.listen(frames.append)
        await asyncio.sleep(2.0)
        result.leg.listen(None)
        count = len(frames)
        await asyncio.sleep(0.3)
        assert len(frames) == count  # stopped
        await result.leg.hangup()
        done = await target.wait(20)
    finally:
        await target.stop()
    assert done.returncode == 0, done.explain()
    assert 85 <= count <= 110  # one per tick for 2 s
    audio = [f for f in frames if f is not None]
    assert audio and all(len(f) == 320 for f in audio)
    loudest = max(max(abs(s) for s in memoryview(f).cast("h")) for f in audio)
    assert loudest > 3000  # the "¿Aló?" came through decoded, not as silence
