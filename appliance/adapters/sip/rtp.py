"""RTP over UDP for one call: a socket from the configured port range, packet parsing on receive
and sending one 20 ms frame (or telephone-event) per media-clock tick with a reused header.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Callable
from typing import cast

from appliance.errors import MediaError

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
SAMPLES_PER_FRAME = 160

# (payload_type, seq, timestamp, ssrc, payload, marker)
PacketSink = Callable[[int, int, int, int, bytes, bool], None]


class PortPool:
    """Even RTP ports from [low, high]; a port is reused only after its call released it."""

    def __init__(self, low: int, high: int) -> None:
        self._free = list(range(low + (low & 1), high, 2))
        random.shuffle(self._free)
        self._used: set[int] = set()

    def take(self) -> int:
        if not self._free:
            raise MediaError("no free RTP port in the configured range")
        port = self._free.pop()
        self._used.add(port)
        return port

    def give_back(self, port: int) -> None:
        if port in self._used:
            self._used.discard(port)
            self._free.insert(0, port)


class RtpSocket(asyncio.DatagramProtocol):
    """Receives and sends RTP for one stream; the remote address follows symmetric RTP."""

    def __init__(self, sink: PacketSink, remote: tuple[str, int]) -> None:
        self.sink = sink
        self.remote = remote
        self.local_port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._seq = random.randint(0, 0xFFFF)
        self._ts = random.randint(0, 0xFFFFFFFF)
        self.ssrc = random.randint(1, 0xFFFFFFFF)
        self._latched = False
        self.sent = 0
        self.received = 0

    @classmethod
    async def open(
        cls, ip: str, pool: PortPool, sink: PacketSink, remote: tuple[str, int]
    ) -> RtpSocket:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            port = pool.take()
            try:
                _, proto = await loop.create_datagram_endpoint(
                    lambda: cls(sink, remote), local_addr=(ip, port)
                )
            except OSError:
                continue  # taken by someone outside our pool; try the next one
            proto.local_port = port
            return proto
        raise MediaError("could not bind an RTP port")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # not isinstance-checked: on 3.11 the selector transport is no DatagramTransport subclass
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= offset + 4:  # header extension
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        end = len(data) - (data[-1] if first & 0x20 else 0)
        if offset >= end:
            return
        if not self._latched:
            # symmetric RTP (RFC 4961): answer where the caller really sends from (NAT)
            self._latched = True
            self.remote = (str(addr[0]), int(addr[1]))
        self.received += 1
        self.sink(second & 0x7F, seq, ts, ssrc, data[offset:end], bool(second & 0x80))

    def send(self, payload_type: int, payload: bytes, *, marker: bool = False) -> None:
        """Send one frame and advance the clock by one 20 ms frame."""
        self._emit(payload_type, payload, marker, self._ts)
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def send_event(self, payload_type: int, payload: bytes, *, marker: bool, start_ts: int) -> None:
        """Send a telephone-event packet stamped with its event's start timestamp."""
        self._emit(payload_type, payload, marker, start_ts)
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    def skip(self) -> None:
        """A frame's time passes unsent (on hold): the timestamp keeps pace with the clock, so
        the far end's jitter buffer sees the pause as a pause after we resume (RFC 3550 §5.1)."""
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF

    @property
    def timestamp(self) -> int:
        return self._ts

    def _emit(self, payload_type: int, payload: bytes, marker: bool, ts: int) -> None:
        if self._transport is None:
            return
        second = payload_type | (0x80 if marker else 0)
        self._transport.sendto(_HEADER.pack(0x80, second, self._seq, ts, self.ssrc) + payload,
                               self.remote)
        self._seq = (self._seq + 1) & 0xFFFF
        self.sent += 1

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
