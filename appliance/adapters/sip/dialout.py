"""Dial-out for callbacks: INVITE with our offer and a per-call display name, digest on 401/407,
CANCEL at the ring timeout, and one outcome per attempt (answered / busy / no_answer /
unavailable / rejected / failed) that the callback policy can count and retry on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiosipua.auth import SipDigestAuth

from appliance.adapters.sip import sdp
from appliance.adapters.sip.identity import Identity
from appliance.adapters.sip.leg import SipCallLeg
from appliance.adapters.sip.rtp import RtpSocket
from appliance.errors import SipError
from appliance.ports.telephony import DialOutcome, DialResult, Direction

if TYPE_CHECKING:
    from appliance.adapters.sip.engine import SipEngine

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """An outbound INVITE waiting for its final response."""

    done: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    cancelled: bool = False  # after our CANCEL the library forgets the call: we take the 487

    def resolve(self, status: int) -> None:
        if not self.done.done():
            self.done.set_result(status)

_BUSY = {486, 600}
_UNAVAILABLE = {404, 408, 410, 480, 503, 604}
_HOSTPORT = re.compile(r"@([^:;>]+)(?::(\d+))?")


def outcome_for(status: int) -> DialOutcome:
    if 200 <= status < 300:
        return "answered"
    if status in _BUSY:
        return "busy"
    if status == 487:
        return "no_answer"
    if status in _UNAVAILABLE:
        return "unavailable"
    if 300 <= status < 700:
        return "rejected"
    return "failed"


def target_uri(engine: SipEngine, target: str) -> str:
    if target.startswith(("sip:", "sips:")):
        return target
    return f"sip:{target}@{engine.config.outbound_domain}"


def next_hop(engine: SipEngine, uri: str) -> tuple[str, int]:
    if engine.config.outbound_proxy is not None:
        return engine.config.outbound_proxy
    match = _HOSTPORT.search(uri)
    if match is None:
        raise SipError(f"cannot route {uri!r}: no host and no outbound proxy")
    return match.group(1), int(match.group(2) or 5060)


async def dial(
    engine: SipEngine, target: str, *, caller_id: str, display_name: str, ring_timeout: float
) -> DialResult:
    uri = target_uri(engine, target)
    remote = next_hop(engine, uri)
    pending = Pending()
    sock = await RtpSocket.open(engine.local_ip, engine.ports, lambda *a: None, (remote[0], 9))
    offer = sdp.build_offer(engine.local_ip, sock.local_port, session_id=random.randint(1, 2**31))
    cfg = engine.config
    auth = (SipDigestAuth(cfg.outbound_username, cfg.outbound_password or "")
            if cfg.outbound_username else None)
    from_uri = f"sip:{caller_id}@{cfg.outbound_domain}"
    engine.uac.user_agent = cfg.user_agent
    call = engine.uac.send_invite_as(display_name, from_uri, uri, remote, sdp.parse(offer), auth)
    engine.pending[call.call_id] = pending
    # the library's callbacks fire after its own filtering (stale 401/407, digest retry)
    call.on_answer = lambda _c: pending.resolve(200)
    call.on_rejected = lambda _c, status, _reason: pending.resolve(status)
    log.info("%s dialling %s as %r", call.call_id, _mask(target), display_name)
    try:
        status = await _final_status(engine, call, pending, ring_timeout)
    finally:
        engine.pending.pop(call.call_id, None)
    outcome = outcome_for(status)
    if outcome != "answered":
        _release(engine, sock)
        log.info("%s dial outcome %s (%s)", call.call_id, outcome, status)
        return DialResult(outcome, status)
    try:
        leg = await _answered_leg(engine, call, sock, caller_id, target)
    except SipError as exc:
        _release(engine, sock)
        engine.uac.send_bye(call.dialog, call.remote_addr)
        return DialResult("failed", exc.status or 488)
    return DialResult("answered", status, leg)


async def _final_status(
    engine: SipEngine, call: object, pending: Pending, ring_timeout: float
) -> int:
    try:
        return await asyncio.wait_for(asyncio.shield(pending.done), ring_timeout)
    except TimeoutError:
        pass
    if pending.done.done():
        return pending.done.result()
    pending.cancelled = True
    engine.uac.send_cancel(call)
    try:
        # the far end answers the CANCEL with 487 (or, in a race, with its 200)
        status = await asyncio.wait_for(asyncio.shield(pending.done), 5.0)
    except TimeoutError:
        return 487
    if 200 <= status < 300:
        # too late: the seam ACKs that 2xx and sends BYE (RFC 3261 §9.1); still no answer
        log.info("%s answered only after our CANCEL: counted as no answer",
                 getattr(call, "call_id", "?"))
        return 487
    return status


async def _answered_leg(
    engine: SipEngine, call: object, sock: RtpSocket, caller_id: str, target: str
) -> SipCallLeg:
    answer = getattr(call, "sdp_answer", None)
    if answer is None:
        raise SipError("2xx without SDP answer", status=488)
    params = sdp.negotiate(answer)
    identity = Identity(caller=target, caller_name="", dialled=target, diversion=None)
    leg = SipCallLeg(engine, direction=Direction.OUTBOUND, identity=identity,
                     dialog=call.dialog,  # type: ignore[attr-defined]
                     remote_addr=call.remote_addr,  # type: ignore[attr-defined]
                     media=params)
    await leg.adopt_socket(sock)
    engine.legs[leg.call_id] = leg
    leg.start_clock()
    del caller_id
    return leg


def _release(engine: SipEngine, sock: RtpSocket) -> None:
    engine.ports.give_back(sock.local_port)
    sock.close()


def _mask(number: str) -> str:
    # never log full callback numbers at INFO
    return number[:-4] + "****" if len(number) > 4 else "****"
