"""The SIP socket at our seam: aiosipua's UDP transport feeding the transaction timers
(transactions.py), copying Record-Route into dialog-forming responses (defect 1), refusing to
resolve hostnames on the loop, and logging hostile datagrams in one line.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from aiosipua.message import SipMessage, SipRequest, SipResponse
from aiosipua.transport import UdpSipTransport, _stamp_via_received

from appliance.adapters.sip.transactions import (
    Addr,
    ClientTransactions,
    ClientTxn,
    ServerTransactions,
    cseq_of,
)

log = logging.getLogger(__name__)


class SeamTransport(UdpSipTransport):
    """UDP transport that feeds the transaction timers and copies Record-Route (defect 1)."""

    def __init__(self, local_addr: Addr, on_client_timeout: Callable[[ClientTxn], None]) -> None:
        super().__init__(local_addr=local_addr)
        self.client = ClientTransactions(self._send_raw, on_client_timeout)
        self.server = ServerTransactions(self._send_raw)

    async def start(self) -> None:
        # The library's protocol asserts on the transport type, which logs a traceback on 3.11.
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _SeamProtocol(self), local_addr=self.local_addr
        )
        self._udp_transport = transport

    def _send_raw(self, raw: bytes, addr: Addr) -> None:
        if self._udp_transport is None:
            return
        if not _is_ip(addr[0]):
            # a hostname would make sendto resolve it synchronously and stall every call
            log.info("not sending to unresolved host %r", addr[0])
            return
        try:
            self._udp_transport.sendto(raw, addr)
        except (OSError, ValueError) as exc:
            log.info("send to %s:%s failed: %s", addr[0], addr[1], exc)

    def send(self, message: SipRequest | SipResponse, addr: Addr) -> None:
        if isinstance(message, SipResponse):
            self._copy_record_route(message)
        raw = bytes(message)
        self._send_raw(raw, addr)
        if isinstance(message, SipRequest):
            self.client.started(message, raw, addr)
        else:
            self.server.responded(message, raw, addr)

    def _copy_record_route(self, response: SipResponse) -> None:
        # Defect 1: RFC 3261 §12.1.1 wants the INVITE's Record-Route in every dialog-forming
        # response; without it a record-routing PBX drops our ACK/BYE path.
        _, method = cseq_of(response)
        if method != "INVITE" or not 100 < response.status_code < 300:
            return
        if response.headers.get("record-route"):
            return
        request = self.server.request_for(response)
        if request is not None:
            for value in request.headers.get("record-route"):
                response.headers.append("Record-Route", value)

    def _dispatch(self, data: bytes, addr: Addr) -> None:
        # Hostile input is logged in one line, not with a traceback per datagram.
        if not data.strip():
            return  # CRLF keep-alives
        try:
            msg = SipMessage.parse(data)
            if isinstance(msg, SipRequest):
                _stamp_via_received(msg, addr)
        except Exception as exc:  # any parse failure means: drop it
            log.info("unparsable datagram from %s:%s dropped (%s)", addr[0], addr[1], exc)
            return
        if self.on_message is not None:
            try:
                self.on_message(msg, addr)
            except Exception:
                log.exception("error handling %s from %s:%s", _describe(msg), *addr)

    async def stop(self) -> None:
        self.client.close()
        self.server.close()
        await super().stop()


class _SeamProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SeamTransport) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._owner._dispatch(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP socket error: %s", exc)


@functools.lru_cache(maxsize=1024)
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _describe(msg: SipRequest | SipResponse) -> str:
    if isinstance(msg, SipRequest):
        return f"{msg.method} {msg.call_id}"
    return f"{msg.status_code} {msg.call_id}"
