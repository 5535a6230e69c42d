"""SipEngine: the TelephonyEngine port on aiosipua + our seam. One UDP socket for SIP, one media
clock for every call, the call handler run as one task per call.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

from aiosipua.incoming_call import IncomingCall
from aiosipua.message import SipRequest

from appliance.adapters.sip import sdp
from appliance.adapters.sip.access import AccessPolicy, Verdict
from appliance.adapters.sip.clock import MediaClock
from appliance.adapters.sip.dialout import Pending, dial
from appliance.adapters.sip.identity import identity_of
from appliance.adapters.sip.leg import SipCallLeg
from appliance.adapters.sip.mediapath import MediaKit
from appliance.adapters.sip.register import AccountConfig, RegistrationKeeper
from appliance.adapters.sip.rtp import PortPool
from appliance.adapters.sip.seam import SeamUAC, SeamUAS
from appliance.adapters.sip.transactions import Addr, ClientTxn
from appliance.adapters.sip.transport import SeamTransport
from appliance.domain.dtmf import parse_dtmf_relay
from appliance.errors import SipError
from appliance.ports.telephony import CallHandler, DialResult, Direction, EngineStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    bind_ip: str = "127.0.0.1"
    port: int = 5060
    rtp_low: int = 20000
    rtp_high: int = 29999
    max_channels: int = 100
    allowed_peers: tuple[str, ...] = ("127.0.0.0/8",)
    invites_per_second: float = 20.0
    user_agent: str = "Desborde"
    mode: Literal["trunk", "register"] = "trunk"
    extension: str = "desborde"  # our user part in From/Contact/Referred-By
    accounts: tuple[AccountConfig, ...] = ()
    outbound_proxy: Addr | None = None  # where dial-out INVITEs go; None: the target URI's host
    outbound_domain: str = "127.0.0.1"
    outbound_username: str | None = None  # digest credentials for 401/407 on dial-out
    outbound_password: str | None = None
    session_expires: int | None = None  # RFC 4028 when the caller asks; None disables
    handler_grace: float = 1.0  # seconds a leg may stay up after its handler returned


class SipEngine:
    def __init__(self, config: EngineConfig, kit: MediaKit) -> None:
        self.config = config
        self.kit = kit
        self.local_ip = config.bind_ip
        self.local_uri = f"sip:{config.extension}@{config.bind_ip}:{config.port}"
        self.clock = MediaClock()
        self.ports = PortPool(config.rtp_low, config.rtp_high)
        self.access = AccessPolicy(config.allowed_peers, per_second=config.invites_per_second,
                                   burst=max(config.invites_per_second, 5.0))
        self.legs: dict[str, SipCallLeg] = {}
        self.pending: dict[str, Pending] = {}
        self.keepers: list[RegistrationKeeper] = []
        self._handler: CallHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.transport = SeamTransport((config.bind_ip, config.port), self._client_timeout)
        self.uac = SeamUAC(self.transport)
        self.uas = SeamUAS(self.transport, uac=self.uac, user_agent=config.user_agent,
                           session_expires=config.session_expires)
        self._wire()

    def _wire(self) -> None:
        uas = self.uas
        uas.gate = self._gate
        uas.on_invite = self._on_invite
        uas.on_bye = lambda call, _req: self._remote_end(call.call_id, "bye")
        uas.on_cancel = lambda req, _addr: self._remote_end(req.call_id or "", "cancel")
        uas.on_ack_timeout = lambda call: self._remote_end(call.call_id, "timeout")
        uas.on_session_expired = lambda call: self._remote_end(call.call_id, "timeout")
        uas.on_reinvite = self._on_reinvite
        uas.on_update = self._on_update
        uas.on_info = self._on_info
        uas.on_transfer_progress = self._on_notify
        self.uac.on_any_response = self._on_response

    # -- lifecycle --

    async def start(self) -> None:
        await self.uas.start()
        if self.config.port == 0:
            self.config = _with_port(self.config, self._bound_port())
            self.transport.local_addr = (self.config.bind_ip, self.config.port)
            self.local_uri = f"sip:{self.config.extension}@{self.local_ip}:{self.config.port}"
        self.clock.start()
        if self.config.mode == "register":
            for account in self.config.accounts:
                keeper = RegistrationKeeper(self.uac, account, self.config.user_agent)
                self.keepers.append(keeper)
                self.access.allow(account.registrar[0])
                keeper.start()
        log.info("SIP extension listening on %s:%s (%s mode)", self.local_ip,
                 self.config.port, self.config.mode)

    def _bound_port(self) -> int:
        udp = self.transport._udp_transport
        return int(udp.get_extra_info("sockname")[1]) if udp is not None else 0

    async def stop(self) -> None:
        for leg in list(self.legs.values()):
            await leg.hangup()
        for keeper in self.keepers:
            await keeper.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.clock.stop()
        await self.uas.stop()

    def set_call_handler(self, handler: CallHandler) -> None:
        self._handler = handler

    def status(self) -> EngineStatus:
        return EngineStatus(
            mode=self.config.mode,
            registrations={k.aor: k.state for k in self.keepers},
            active_channels=len(self.legs),
            max_channels=self.config.max_channels,
        )

    async def dial(
        self, target: str, *, caller_id: str, display_name: str, ring_timeout: float
    ) -> DialResult:
        return await dial(self, target, caller_id=caller_id, display_name=display_name,
                          ring_timeout=ring_timeout)

    # -- inbound calls --

    def _gate(self, request: SipRequest, addr: Addr) -> int:
        verdict = self.access.decide(addr[0], asyncio.get_running_loop().time(),
                                     active=len(self.legs), max_channels=self.config.max_channels)
        if verdict is not Verdict.ADMIT:
            log.info("INVITE %s from %s refused: %s", request.call_id, addr[0], verdict.name)
        return verdict.value

    def _on_invite(self, call: IncomingCall) -> None:
        try:
            if call.sdp_offer is None:
                raise SipError("INVITE without SDP offer", status=488)
            params = sdp.negotiate(call.sdp_offer)
        except SipError as exc:
            log.info("%s rejected: %s", call.call_id, exc)
            call.reject(exc.status or 488)
            self.uas._calls.pop(call.call_id, None)
            return
        leg = SipCallLeg(self, direction=Direction.INBOUND, identity=identity_of(call.invite),
                         dialog=call.dialog, remote_addr=call.source_addr, media=params,
                         incoming=call)
        self.legs[leg.call_id] = leg
        log.info("%s inbound from %s to %s (%s)", leg.call_id, leg.caller, leg.dialled, leg.codec)
        call.ringing()
        self.spawn(self._run_handler(leg))

    async def _run_handler(self, leg: SipCallLeg) -> None:
        try:
            if self._handler is None:
                raise SipError("no call handler", status=480)
            await self._handler(leg)
        except Exception:
            log.exception("%s call handler failed", leg.call_id)
        finally:
            if not leg.closed:
                await leg.hangup()

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _remote_end(self, call_id: str, reason: str) -> None:
        leg = self.legs.get(call_id)
        if leg is not None:
            log.info("%s ended by the far end (%s)", call_id, reason)
            self.spawn(leg.close(reason))

    def leg_closed(self, leg: SipCallLeg) -> None:
        self.legs.pop(leg.call_id, None)
        self.uas._calls.pop(leg.call_id, None)  # the library never forgets a call we hung up
        self.uac.remove_call(leg.call_id)

    # -- in-dialog requests --

    def _on_reinvite(self, call: IncomingCall) -> None:
        leg = self.legs.get(call.call_id)
        if leg is None:
            call.reject(481)
            return
        try:
            answer = leg.reoffer(call.invite.text if call.invite.body else None)
        except SipError as exc:
            call.reject(exc.status or 488)
            return
        call.accept(sdp.parse(answer))

    def _on_update(self, call: IncomingCall, request: SipRequest) -> Any:
        leg = self.legs.get(call.call_id)
        if leg is None or not request.body:
            return None
        try:
            return sdp.parse(leg.reoffer(request.text))
        except SipError:
            return None

    def _on_info(self, call: Any, request: SipRequest) -> int:
        kind = (request.content_type or "").split(";")[0].strip().lower()
        if not request.body:
            return 200  # INFO keep-alive
        if kind not in ("application/dtmf-relay", "application/dtmf"):
            return 415
        digit = parse_dtmf_relay(request.text)
        leg = self.legs.get(request.call_id or "")
        if digit is None:
            return 400
        if leg is not None:
            leg.info_digit(digit)
        return 200

    def _on_notify(self, call_id: str, status: int, reason: str) -> None:
        leg = self.legs.get(call_id)
        if leg is not None and leg.transfer_in_flight is not None:
            leg.transfer_in_flight.on_notify(status, reason)

    def _on_response(self, call_id: str, method: str, status: int, reason: str) -> None:
        leg = self.legs.get(call_id)
        if method == "REFER" and leg is not None and leg.transfer_in_flight is not None:
            leg.transfer_in_flight.on_refer_response(status, reason)
        pending = self.pending.get(call_id)
        if method == "INVITE" and pending is not None and pending.cancelled and status >= 200:
            pending.resolve(status)

    def _client_timeout(self, txn: ClientTxn) -> None:
        leg = self.legs.get(txn.call_id)
        if txn.method == "REFER" and leg is not None and leg.transfer_in_flight is not None:
            leg.transfer_in_flight.on_timeout()
        elif txn.method == "INVITE" and txn.call_id in self.pending:
            self.pending[txn.call_id].resolve(408)
        elif txn.method == "BYE" and leg is not None:
            self._remote_end(txn.call_id, "timeout")
        for keeper in self.keepers:
            keeper.on_transaction_timeout(txn.call_id)


def _with_port(config: EngineConfig, port: int) -> EngineConfig:
    return replace(config, port=port)
