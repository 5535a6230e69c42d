"""Dial-out races: a 200 OK that crosses our CANCEL at the ring timeout (RFC 3261 §9.1) is ACKed
(so the far end stops retransmitting it) and the call it set up is ended with a BYE at once;
the attempt still counts as not answered and leaves no leg behind."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from appliance.adapters.sip.engine import SipEngine
from tests.support.sipp import Sipp


async def test_200_after_our_cancel_is_acked_then_byed(engine: SipEngine, tmp_path: Path) -> None:
    sipp = Sipp("uas_answer_after_cancel.xml", tmp_path)
    await sipp.start()
    await asyncio.sleep(0.3)  # SIPp binds its socket
    try:
        result = await engine.dial(f"sip:5551234@127.0.0.1:{sipp.port}", caller_id="600",
                                   display_name="CB 3 Z", ring_timeout=1.0)
        done = await sipp.wait(20)
    finally:
        await sipp.stop()
    assert (result.outcome, result.status, result.leg) == ("no_answer", 487, None)
    assert done.returncode == 0, done.explain()  # ACK then BYE, each within 5 s
    received = done.traced("received")
    ack = next(m for m in received if m.startswith("ACK "))
    bye = next(m for m in received if m.startswith("BYE "))
    invite = next(m for m in received if m.startswith("INVITE "))
    # the ACK is the 2xx's own (CSeq of the INVITE, the 200's To tag, sent to its Contact)
    assert re.search(r"(?m)^CSeq: *1 ACK", ack) and "tag=" in _header(ack, "To")
    assert ack.startswith("ACK sip:target@127.0.0.1")
    assert _header(ack, "To") == _header(bye, "To")
    assert _header(bye, "Call-ID") == _header(invite, "Call-ID")
    assert int(_header(bye, "CSeq").split()[0]) > 1
    # one 200 to the INVITE sufficed: it was ACKed before SIPp's first retransmission
    invite_200s = [m for m in done.traced("sent")
                   if m.startswith("SIP/2.0 200") and "INVITE" in _header(m, "CSeq")]
    assert len(invite_200s) == 1
    assert engine.status().active_channels == 0


def _header(message: str, name: str) -> str:
    match = re.search(rf"(?mi)^{name}: *(.*)$", message)
    assert match is not None, f"no {name} in {message}"
    return match.group(1).strip()
