"""Our seam over aiosipua 0.7.1: subclasses that fix what the test kit found broken, each with
the reason beside it. Nothing here patches the library globally.

Defects fixed (numbered as in the test kit): (1) Record-Route copied into 18x/2xx (transport.py),
(2) ACK for non-2xx finals, (3) remote target and route set learnt from the 2xx, (4) stale
401/407 ignored, (5) INVITE retransmissions absorbed; plus one To tag on errors, responses on
incoming dialogs surfaced (REFER 202/4xx), INFO accepted, RFC 3261 §8.2 refusals (checks.py), and
a 2xx that crosses our CANCEL ACKed then ended with BYE (the library has forgotten the call).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosipua.dialog import DialogState
from aiosipua.headers import stringify_uri
from aiosipua.message import SipRequest, SipResponse
from aiosipua.uac import SipUAC
from aiosipua.uac_responses import _send_ack
from aiosipua.uas import SipUAS
from aiosipua.utils import generate_tag

from appliance.adapters.sip.checks import reason_for, refuse, to_tag
from appliance.adapters.sip.transactions import TIMEOUT, Addr, cseq_of, top_branch
from appliance.adapters.sip.transport import SeamTransport

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, NOTIFY, INFO, PRACK"
# (call_id, cseq method, status, reason) for every response the UAC sees
ResponseHook = Callable[[str, str, int, str], None]
# returns a status to refuse a new INVITE with, 0 to admit it, -1 to drop it silently
InviteGate = Callable[[SipRequest, Addr], int]


class SeamUAS(SipUAS):
    """The library's UAS with retransmission absorption, admission control, INFO, a generic
    OPTIONS answer and single-tag error responses."""

    def __init__(self, transport: SeamTransport, *, uac: SeamUAC, user_agent: str, **kw: Any):
        super().__init__(transport, uac=uac, user_agent=user_agent, **kw)
        self.seam = transport
        self.gate: InviteGate | None = None
        self.on_info: Callable[[Any, SipRequest], int] | None = None
        self._handlers["INFO"] = self._handle_info

    def _on_message(self, msg: SipRequest | SipResponse, addr: Addr) -> None:
        if isinstance(msg, SipResponse):
            self.seam.client.response(msg)
            if self.uac is not None:
                self.uac.handle_response(msg, addr)
            return
        # Defect 5: a retransmitted request gets our last answer again, never a new dialog/481.
        if self.seam.server.absorb(msg):
            return
        self._handle_request(msg, addr)

    def _handle_request(self, request: SipRequest, addr: Addr) -> None:
        method = request.method.upper()
        refusal = None if self.missing(request) or method == "ACK" else refuse(request)
        if refusal is not None:
            self._send_error(request, refusal[0], "", extra_headers=refusal[1])
            return
        if method == "INVITE" and not to_tag(request) and self.gate is not None:
            if self.missing(request):
                super()._handle_request(request, addr)
                return
            verdict = self.gate(request, addr)
            if verdict < 0:
                return
            if verdict > 0:
                self._send_error(request, verdict, "")
                return
        super()._handle_request(request, addr)

    @staticmethod
    def missing(request: SipRequest) -> bool:
        return any(not request.headers.get(h) for h in ("via", "from", "to", "call-id", "cseq"))

    def _handle_invite(self, request: SipRequest, addr: Addr) -> None:
        existing = self._calls.get(request.call_id or "")
        if existing is not None and existing.dialog.state == DialogState.EARLY:
            # a second INVITE while the first is still ringing (not a retransmission)
            self._send_error(request, 491, "Request Pending")
            return
        super()._handle_invite(request, addr)

    def _handle_options(self, request: SipRequest, addr: Addr) -> None:
        # Same answer in and out of dialog, to every user: nothing to fingerprint or enumerate.
        self._send_error(
            request, 200, "OK", extra_headers={"Allow": ALLOW, "Accept": "application/sdp"}
        )

    def _handle_info(self, request: SipRequest, addr: Addr) -> None:
        call, dialog = self._find_dialog(request.call_id or "")
        if dialog is None:
            self._send_error(request, 481, "Call/Transaction Does Not Exist")
            return
        if not self._validate_in_dialog(dialog, request):
            return
        status = self.on_info(call, request) if self.on_info is not None else 200
        self._send_error(request, status, "")

    def _send_error(
        self,
        request: SipRequest,
        status_code: int,
        reason: str,
        *,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        # The library appends a fresh tag even when the request already carries ours, giving
        # in-dialog errors two To tags; and it labels responses User-Agent instead of Server.
        resp = SipResponse(status_code=status_code, reason_phrase=reason or reason_for(status_code))
        for value in request.headers.get("via"):
            resp.headers.append("Via", value)
        for name in ("From", "Call-ID", "CSeq"):
            copied = request.headers.get_first(name)
            if copied:
                resp.headers.set_single(name, copied)
        to_value = request.headers.get_first("to") or ""
        if to_value and not to_tag(request) and status_code > 100:
            to_value = f"{to_value};tag={generate_tag()}"
        if to_value:
            resp.headers.set_single("To", to_value)
        for name, value in (extra_headers or {}).items():
            resp.headers.set_single(name, value)
        if self.user_agent:
            resp.headers.set_single("Server", self.user_agent)
        try:
            self.transport.send_reply(resp)
        except (ValueError, OSError) as exc:
            log.info("cannot answer %s: %s", request.method, exc)


class SeamUAC(SipUAC):
    """The library's UAC with defects 2-4 fixed and responses on incoming dialogs surfaced."""

    def __init__(self, transport: SeamTransport, **kw: Any) -> None:
        super().__init__(transport, **kw)
        self.seam = transport
        self.on_any_response: ResponseHook | None = None
        self.user_agent = ""
        self._cancelled: dict[str, Any] = {}  # call_id -> OutgoingCall, for timer B's span

    def send_invite_as(
        self, display_name: str, from_uri: str, to_uri: str, remote: Addr, offer: Any, auth: Any
    ) -> Any:
        """send_invite with a display name in From (the library writes a bare URI)."""
        self._display = display_name
        try:
            return self.send_invite(from_uri, to_uri, remote, offer, auth=auth,
                                    user_agent=self.user_agent or None)
        finally:
            self._display = ""

    def _build_invite(self, dialog: Any, *, sdp_offer: Any, user_agent: str | None) -> SipRequest:
        invite: SipRequest = super()._build_invite(
            dialog, sdp_offer=sdp_offer, user_agent=user_agent
        )
        # kept on the dialog so the digest retry carries the same caller ID
        name = dialog.metadata.setdefault("display", getattr(self, "_display", ""))
        if name:
            quoted = name.replace("\\", "").replace('"', "")
            invite.headers.set_single(
                "From", f'"{quoted}" <{dialog.local_uri}>;tag={dialog.local_tag}'
            )
        return invite

    def handle_response(self, response: SipResponse, addr: Addr) -> None:
        seq, method = cseq_of(response)
        call_id = response.call_id or ""
        if self.on_any_response is not None:
            # the library drops responses on dialogs it did not start (our REFER's 202/4xx)
            self.on_any_response(call_id, method, response.status_code, response.reason_phrase)
        if method == "INVITE" and response.status_code >= 300:
            self._ack_non_2xx(response, addr)
        if method == "INVITE" and 200 <= response.status_code < 300 and call_id in self._cancelled:
            self._answered_after_cancel(self._cancelled[call_id], response)
            return
        call = self._calls.get(call_id)
        if method == "INVITE" and call is not None:
            current = call.invite.cseq
            if current is not None and seq != current.seq:
                return  # defect 4: a retransmitted 401/407 for the superseded INVITE
            if 200 <= response.status_code < 300 and not call._answered.is_set():
                self._learn_target(call, response)
        super().handle_response(response, addr)

    def send_cancel(self, call: Any) -> SipRequest:
        request: SipRequest = super().send_cancel(call)
        # the library drops the call now; a 200 may still cross the CANCEL on the wire
        self._cancelled[call.call_id] = call
        asyncio.get_running_loop().call_later(TIMEOUT, self._cancelled.pop, call.call_id, None)
        return request

    def _answered_after_cancel(self, call: Any, response: SipResponse) -> None:
        # RFC 3261 §9.1: a 2xx that raced our CANCEL has established the dialog anyway; it
        # must be ACKed (each retransmission too) and then ended with a BYE.
        dialog = call.dialog
        first = not dialog.metadata.get("ended_after_cancel")
        if first:
            to_addr = response.to_addr
            if to_addr is not None and to_addr.tag:
                dialog.remote_tag = to_addr.tag  # the 2xx's tag, not an earlier 18x's
            self._learn_target(call, response)
            dialog.state = DialogState.CONFIRMED  # the CANCEL had terminated it
        _send_ack(self, call, response)
        if first:
            dialog.metadata["ended_after_cancel"] = True
            log.info("%s answered after our CANCEL: ACKed, sending BYE", call.call_id)
            self.send_bye(dialog, call.remote_addr)

    def send_in_dialog(
        self, dialog: Any, method: str, remote: Addr, *, extra_headers: dict[str, str]
    ) -> SipRequest:
        """An in-dialog request with our own extra headers (REFER with Referred-By)."""
        request: SipRequest = self._send_in_dialog(
            dialog, method, remote, extra_headers=extra_headers
        )
        return request

    def _ack_non_2xx(self, response: SipResponse, addr: Addr) -> None:
        # Defect 2: a non-2xx final is ACKed hop by hop on the INVITE's branch (RFC 3261
        # §17.1.1.3); unACKed, the far end retransmits its 486/487/401 for 32 s.
        txn = self.seam.client.get(top_branch(response), "INVITE")
        if txn is None:
            return
        invite = txn.request
        ack = SipRequest(method="ACK", uri=invite.uri)
        ack.headers.append("Via", invite.headers.get_first("via") or "")
        for name in ("From", "Call-ID"):
            ack.headers.set_single(name, invite.headers.get_first(name) or "")
        ack.headers.set_single("To", response.headers.get_first("to") or "")
        ack.headers.set_single("CSeq", f"{cseq_of(invite)[0]} ACK")
        ack.headers.set_single("Max-Forwards", "70")
        for route in invite.headers.get("route"):
            ack.headers.append("Route", route)
        self.transport.send(ack, txn.addr)

    @staticmethod
    def _learn_target(call: Any, response: SipResponse) -> None:
        # Defect 3: the remote target is the 2xx's Contact and the route set its Record-Route
        # reversed (RFC 3261 §12.1.2); the library keeps the Request-URI and no routes.
        contacts = response.contact
        if contacts:
            call.dialog.remote_target = stringify_uri(contacts[0].uri)
        call.dialog.route_set = list(reversed(response.headers.get("record-route")))
