"""UDP transaction timers aiosipua 0.7.1 lacks (RFC 3261 §17): A/B and E/F for requests we send,
G/H for our negative INVITE finals, and absorption of request retransmissions on the server side.

One timer handle per live transaction on the event loop; nothing here runs per media packet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosipua.message import SipRequest, SipResponse

log = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TIMEOUT = 64 * T1  # timers B, F, H and the server-side linger (J)

Addr = tuple[str, int]
SendRaw = Callable[[bytes, Addr], None]


def top_branch(msg: SipRequest | SipResponse) -> str:
    vias = msg.headers.get("via")
    if not vias:
        return ""
    for part in vias[0].split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "branch":
            return value.strip()
    return ""


def cseq_of(msg: SipRequest | SipResponse) -> tuple[int, str]:
    raw = (msg.headers.get_first("cseq") or "").split()
    if len(raw) != 2 or not raw[0].isdigit():
        return 0, ""
    return int(raw[0]), raw[1].upper()


@dataclass(eq=False)
class ClientTxn:
    branch: str
    method: str
    call_id: str
    request: SipRequest
    raw: bytes
    addr: Addr
    interval: float = T1
    deadline: float = 0.0
    handle: asyncio.TimerHandle | None = field(default=None, repr=False)
    status: int = 0  # last response status; >= 200 means final

    @property
    def key(self) -> tuple[str, str]:
        return (self.branch, self.method)


class ClientTransactions:
    """Retransmits what we send until a response, and reports requests nobody answered."""

    def __init__(self, send_raw: SendRaw, on_timeout: Callable[[ClientTxn], None]) -> None:
        self._send_raw = send_raw
        self._on_timeout = on_timeout
        self._txns: dict[tuple[str, str], ClientTxn] = {}

    def started(self, request: SipRequest, raw: bytes, addr: Addr) -> None:
        branch = top_branch(request)
        if not branch or request.method == "ACK":
            return
        loop = asyncio.get_running_loop()
        txn = ClientTxn(branch, request.method, request.call_id or "", request, raw, addr)
        txn.deadline = loop.time() + TIMEOUT
        old = self._txns.pop(txn.key, None)
        if old is not None and old.handle is not None:
            old.handle.cancel()
        self._txns[txn.key] = txn
        txn.handle = loop.call_later(txn.interval, self._fire, txn)

    def get(self, branch: str, method: str) -> ClientTxn | None:
        return self._txns.get((branch, method))

    def response(self, response: SipResponse) -> ClientTxn | None:
        """Record a response; returns its transaction, or None for a stray/late one."""
        _, method = cseq_of(response)
        txn = self._txns.get((top_branch(response), method))
        if txn is None:
            return None
        loop = asyncio.get_running_loop()
        if txn.handle is not None:
            txn.handle.cancel()
            txn.handle = None
        txn.status = max(txn.status, response.status_code)
        if response.status_code >= 200:
            # keep the entry a while: a retransmitted final still needs its ACK (timer D/K)
            txn.handle = loop.call_later(TIMEOUT, self._forget, txn)
        elif method != "INVITE":
            # timer E continues at T2 while a non-INVITE request is proceeding
            txn.interval = T2
            txn.handle = loop.call_later(T2, self._fire, txn)
        return txn

    def _fire(self, txn: ClientTxn) -> None:
        txn.handle = None
        loop = asyncio.get_running_loop()
        if loop.time() >= txn.deadline:
            self._txns.pop(txn.key, None)
            log.info("%s %s timed out (no final response)", txn.call_id, txn.method)
            self._on_timeout(txn)
            return
        self._send_raw(txn.raw, txn.addr)
        if txn.method == "INVITE":
            txn.interval *= 2  # timer A doubles without cap
        else:
            txn.interval = min(txn.interval * 2, T2)
        delay = min(txn.interval, max(txn.deadline - loop.time(), 0.0))
        txn.handle = loop.call_later(delay, self._fire, txn)

    def _forget(self, txn: ClientTxn) -> None:
        if self._txns.get(txn.key) is txn:
            del self._txns[txn.key]

    def close(self) -> None:
        for txn in self._txns.values():
            if txn.handle is not None:
                txn.handle.cancel()
        self._txns.clear()


@dataclass(eq=False)
class ServerTxn:
    request: SipRequest
    raw_response: bytes | None = None
    addr: Addr | None = None
    status: int = 0
    retransmit: asyncio.TimerHandle | None = field(default=None, repr=False)
    interval: float = T1
    expire: asyncio.TimerHandle | None = field(default=None, repr=False)


ServerKey = tuple[str, str, str, int]


class ServerTransactions:
    """Remembers each request we answered so a retransmission gets the last response again
    instead of a second dialog or a 481 (the prototype's defect 5), and retransmits negative
    INVITE finals until the ACK (timer G)."""

    def __init__(self, send_raw: SendRaw) -> None:
        self._send_raw = send_raw
        self._txns: dict[ServerKey, ServerTxn] = {}

    @staticmethod
    def _key(msg: SipRequest | SipResponse) -> ServerKey:
        seq, method = cseq_of(msg)
        return (msg.call_id or "", top_branch(msg), method, seq)

    def absorb(self, request: SipRequest) -> bool:
        """True when `request` is a retransmission (its last response, if any, was re-sent)."""
        if request.method == "ACK":
            self._acked(request)
            return False
        key = self._key(request)
        txn = self._txns.get(key)
        if txn is not None:
            if txn.raw_response is not None and txn.addr is not None:
                self._send_raw(txn.raw_response, txn.addr)
            return True
        if key[1]:
            txn = ServerTxn(request)
            self._txns[key] = txn
            txn.expire = asyncio.get_running_loop().call_later(TIMEOUT, self._drop, key)
        return False

    def request_for(self, response: SipResponse) -> SipRequest | None:
        txn = self._txns.get(self._key(response))
        return txn.request if txn is not None else None

    def responded(self, response: SipResponse, raw: bytes, addr: Addr) -> None:
        txn = self._txns.get(self._key(response))
        if txn is None:
            return
        txn.raw_response, txn.addr, txn.status = raw, addr, response.status_code
        if txn.request.method == "INVITE" and response.status_code >= 300 and not txn.retransmit:
            txn.retransmit = asyncio.get_running_loop().call_later(T1, self._timer_g, txn)

    def _timer_g(self, txn: ServerTxn) -> None:
        if txn.raw_response is None or txn.addr is None:
            return
        self._send_raw(txn.raw_response, txn.addr)
        txn.interval = min(txn.interval * 2, T2)
        txn.retransmit = asyncio.get_running_loop().call_later(txn.interval, self._timer_g, txn)

    def _acked(self, ack: SipRequest) -> None:
        seq, _ = cseq_of(ack)
        txn = self._txns.get((ack.call_id or "", top_branch(ack), "INVITE", seq))
        if txn is not None and txn.retransmit is not None:
            txn.retransmit.cancel()
            txn.retransmit = None

    def _drop(self, key: ServerKey) -> None:
        txn = self._txns.pop(key, None)
        if txn is not None and txn.retransmit is not None:
            txn.retransmit.cancel()

    def close(self) -> None:
        for txn in self._txns.values():
            for handle in (txn.retransmit, txn.expire):
                if handle is not None:
                    handle.cancel()
        self._txns.clear()
