"""SipCallLeg: the CallLeg port on one aiosipua dialog plus its MediaPath on the shared clock.
Signalling state lives in the library's dialog; this class owns the call's lifetime and events.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiosipua.dialog import Dialog, DialogState
from aiosipua.incoming_call import IncomingCall

from appliance.adapters.sip import sdp
from appliance.adapters.sip.clock import MediaClock
from appliance.adapters.sip.identity import Identity
from appliance.adapters.sip.mediapath import MediaKit, MediaPath
from appliance.adapters.sip.rtp import PortPool, RtpSocket
from appliance.adapters.sip.seam import SeamUAC
from appliance.adapters.sip.transfer import Transfer, send_refer
from appliance.errors import MediaError, SipError
from appliance.ports.telephony import (
    CallLeg,
    DigitReceived,
    Direction,
    LegEvent,
    Playable,
    RemoteHangup,
    TransferResult,
)

log = logging.getLogger(__name__)

_END = None  # queue sentinel: no more events


class LegHost(Protocol):
    """What a leg needs from its engine."""

    uac: SeamUAC
    clock: MediaClock
    ports: PortPool
    kit: MediaKit
    local_ip: str
    local_uri: str

    def leg_closed(self, leg: SipCallLeg) -> None: ...


class SipCallLeg:
    def __init__(
        self,
        host: LegHost,
        *,
        direction: Direction,
        identity: Identity,
        dialog: Dialog,
        remote_addr: tuple[str, int],
        media: sdp.MediaParams,
        incoming: IncomingCall | None = None,
    ) -> None:
        self._host = host
        self._direction = direction
        self.identity = identity
        self.dialog = dialog
        self.remote_addr = remote_addr
        self.media_params = media
        self.incoming = incoming
        self.path: MediaPath | None = None
        self.transfer_in_flight: Transfer | None = None
        self._queue: asyncio.Queue[LegEvent | None] = asyncio.Queue()
        self._closed = False
        self._session_id = random.randint(1, 2**31)
        self._sdp_version = 1

    # -- identity --

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    @property
    def direction(self) -> Direction:
        return self._direction

    @property
    def caller(self) -> str:
        return self.identity.caller

    @property
    def caller_name(self) -> str:
        return self.identity.caller_name

    @property
    def dialled(self) -> str:
        return self.identity.dialled

    @property
    def diversion(self) -> str | None:
        return self.identity.diversion

    @property
    def codec(self) -> str:
        return self.media_params.codec

    @property
    def closed(self) -> bool:
        return self._closed

    # -- media start --

    async def open_media(self) -> None:
        sock = await RtpSocket.open(
            self._host.local_ip, self._host.ports, self._sink, self.media_params.remote
        )
        self.path = MediaPath(self.media_params, sock, self._host.kit, self._emit)

    async def adopt_socket(self, sock: RtpSocket) -> None:
        """Dial-out opened the socket before the answer: take it over."""
        sock.sink = self._sink
        self.path = MediaPath(self.media_params, sock, self._host.kit, self._emit)

    def _sink(self, pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> None:
        if self.path is not None:
            self.path.on_packet(pt, seq, ts, ssrc, payload, marker)

    def local_sdp(self) -> str:
        assert self.path is not None
        return sdp.build(
            self.media_params,
            self._host.local_ip,
            self.path.sock.local_port,
            session_id=self._session_id,
            version=self._sdp_version,
        )

    def start_clock(self) -> None:
        if self.path is not None:
            self._host.clock.add(self.path)

    async def answer(self) -> None:
        call = self.incoming
        if call is None:
            raise SipError("an outbound leg is answered by the far end")
        if call._answered:
            return
        self._check_alive(call)
        if self.path is None:
            await self.open_media()
        self._check_alive(call)
        call.accept(sdp.parse(self.local_sdp()))
        self.start_clock()
        log.info("%s answered (%s)", self.call_id, self.codec)

    def _check_alive(self, call: IncomingCall) -> None:
        if self._closed or call.dialog.state is DialogState.TERMINATED:
            raise SipError(f"{self.call_id}: the caller hung up before the answer", status=487)

    def reoffer(self, offer_text: str | None) -> str:
        """Answer a re-INVITE/UPDATE offer without restarting media; returns our SDP."""
        if offer_text:
            params = sdp.negotiate(sdp.parse(offer_text), (self.media_params.payload_type, 0, 8))
            self.media_params = params
            if self.path is not None:
                self.path.update(params)
            log.info("%s media now %s %s", self.call_id, params.codec, params.direction)
        self._sdp_version += 1
        return self.local_sdp()

    # -- playback, recording, digits --

    def play(self, items: Sequence[Playable], *, barge_in: bool = True) -> None:
        self._require_path().play(self._frames(items), barge_in)

    def _frames(self, items: Sequence[Playable]) -> list[bytes]:
        frames: list[bytes] = []
        names: list[str] = []
        for item in [*items, b""]:
            if isinstance(item, str):
                names.append(item)
                continue
            if names:
                if self._host.kit.frames is None:
                    raise MediaError("no prompt library configured")
                frames.extend(self._host.kit.frames(names))
                names = []
            if item:
                frames.append(item)
        return frames

    def stop_playback(self) -> None:
        if self.path is not None:
            self.path.stop_playback()

    def send_digit(self, digit: str) -> None:
        """Send one RFC 4733 digit (about 160 ms); space several digits by at least 250 ms."""
        self._require_path().send_digit(digit)

    def listen(self, sink: Callable[[bytes | None], None] | None) -> None:
        self._require_path().listener = sink

    def start_recording(
        self, path: Path, *, max_seconds: float, silence_seconds: float, stop_digits: str = "#"
    ) -> None:
        self._require_path().start_recording(
            path, max_seconds=max_seconds, silence_seconds=silence_seconds, stop_digits=stop_digits
        )

    def stop_recording(self) -> None:
        if self.path is not None:
            self.path.stop_recording("digit")

    def info_digit(self, digit: str) -> None:
        if self.path is not None:
            self.path.digit(digit, "info")
        else:
            self._emit(DigitReceived(digit, "info"))

    def _require_path(self) -> MediaPath:
        if self.path is None or self._closed:
            raise MediaError(f"{self.call_id}: no media (not answered or already ended)")
        return self.path

    # -- transfer --

    async def transfer(self, target_uri: str, *, timeout: float = 30.0) -> TransferResult:
        if self._closed:
            return TransferResult(False, 481, "call already ended")
        transfer = Transfer(self.call_id)
        self.transfer_in_flight = transfer
        try:
            send_refer(self._host.uac, self.dialog, target_uri, self.remote_addr,
                       self._host.local_uri)
            result = await transfer.wait(timeout)
        finally:
            self.transfer_in_flight = None
        log.info("%s transfer to %s: %s %s", self.call_id, target_uri, result.status,
                 result.reason)
        return result

    # -- bridge --

    async def bridge(self, other: CallLeg) -> None:
        if not isinstance(other, SipCallLeg):
            raise SipError("can only bridge two SIP legs")
        mine, theirs = self._require_path(), other._require_path()
        mine.peer, theirs.peer = theirs, mine
        try:
            while not (self._closed or other._closed):
                await asyncio.sleep(0.1)
        finally:
            mine.peer = theirs.peer = None

    # -- ending --

    async def hangup(self) -> None:
        if self._closed:
            return
        try:
            if self.dialog.state == DialogState.CONFIRMED:
                self._host.uac.send_bye(self.dialog, self.remote_addr)
            elif self.incoming is not None and self.dialog.state == DialogState.EARLY:
                self.incoming.reject(480, "Temporarily Unavailable")
        except (ValueError, OSError) as exc:
            log.warning("%s hangup: %s", self.call_id, exc)
        log.info("%s hung up by us", self.call_id)
        await self.close(None)

    async def close(self, remote_reason: str | None) -> None:
        """End the leg: stop media (the recording is kept), end the event stream."""
        if self._closed:
            return
        self._closed = True
        if self.transfer_in_flight is not None:
            self.transfer_in_flight.on_timeout("call ended during transfer")
        if self.path is not None:
            self._host.clock.remove(self.path)
            await self.path.close()
            self._host.ports.give_back(self.path.sock.local_port)
        if remote_reason is not None:
            self._emit(RemoteHangup(remote_reason))
        self._queue.put_nowait(_END)
        self._host.leg_closed(self)

    # -- events --

    def _emit(self, event: LegEvent) -> None:
        self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[LegEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

