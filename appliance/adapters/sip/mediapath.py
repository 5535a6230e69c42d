"""One call's audio on the shared media clock: each tick sends one frame (prompt, bridged audio,
telephone-event or silence), pops one from the jitter buffer, feeds the recorder and detectors.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from appliance.adapters.media.dtmf_numpy import NumpyGoertzelDetector
from appliance.adapters.media.g711 import codec_for, silence
from appliance.adapters.media.jitter import JitterBuffer
from appliance.adapters.media.recorder import WavRecorder
from appliance.adapters.media.silence import SilenceDetector
from appliance.adapters.sip.rtp import RtpSocket
from appliance.adapters.sip.sdp import MediaParams
from appliance.domain.dtmf import Rfc4733Receiver, encode_events
from appliance.ports.telephony import (
    DigitReceived,
    DigitSource,
    LegEvent,
    PlaybackFinished,
    RecordingReason,
    RecordingStopped,
)

log = logging.getLogger(__name__)

FRAME_BYTES = 320


class Jitter(Protocol):
    def push(self, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> None: ...
    def pop(self) -> bytes | None: ...


class Recorder(Protocol):
    def write_frame(self, pcm: bytes | None) -> None: ...
    def close(self) -> object: ...


@dataclass(frozen=True)
class MediaKit:
    """The media adapter's pieces, injected so this module depends only on their shapes."""

    jitter: Callable[[], Jitter]
    recorder: Callable[[Path], Recorder]
    frames: Callable[[Sequence[str]], list[bytes]] | None = None  # prompt names -> PCM frames
    inband_dtmf: bool = False


@dataclass
class _Recording:
    recorder: Recorder
    path: Path
    max_frames: int
    quiet: SilenceDetector
    stop_digits: str
    frames: int = 0


class MediaPath:
    """Ticked by the MediaClock; never blocks (the recorder's close runs in a thread)."""

    def __init__(
        self, params: MediaParams, sock: RtpSocket, kit: MediaKit, emit: Callable[[LegEvent], None]
    ) -> None:
        self.sock = sock
        self.kit = kit
        self._emit = emit
        self._jitter = kit.jitter()
        self._dtmf = Rfc4733Receiver()
        # the numpy detector: ~10 us per frame where the pure one takes ~120 us
        self._inband = NumpyGoertzelDetector() if kit.inband_dtmf else None
        self._playing: deque[bytes] = deque()
        self._barge_in = False
        self._recording: _Recording | None = None
        self._events: deque[tuple[bytes, bool, int]] = deque()  # outgoing telephone-events
        self._tasks: set[asyncio.Task[None]] = set()
        self.peer: MediaPath | None = None
        self.heard: bytes | None = None
        self.listener: Callable[[bytes | None], None] | None = None  # CallLeg.listen
        self._heard_fifo = bytearray()
        self.update(params)

    def update(self, params: MediaParams) -> None:
        """A re-INVITE/UPDATE changed codec, address or direction: same socket, same clock."""
        self.params = params
        self._encode, self._decode = codec_for(params.payload_type)
        self._silence = silence(params.payload_type)
        if not self.sock.received or params.remote != self.sock.remote:
            self.sock.remote = params.remote

    # -- inbound packets (called from the RTP socket) --

    def on_packet(self, pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> None:
        if pt == self.params.dtmf_payload_type:
            digit = self._dtmf.feed(ts, payload, marker)
            if digit is not None:
                self.digit(digit, "rfc4733")
        elif pt in (0, 8):
            self._jitter.push(seq, ts, ssrc, payload if pt == self.params.payload_type
                              else self._transcode(pt, payload), marker)

    def _transcode(self, pt: int, payload: bytes) -> bytes:
        # the caller switched codec before its re-INVITE reached us: keep the audio right
        return self._encode(codec_for(pt)[1](payload))

    # -- the 20 ms tick --

    def tick(self) -> None:
        self._send_one()
        pcm = self._next_heard()
        self.heard = pcm
        if self.listener is not None:
            self.listener(pcm)
        if self._inband is not None and pcm is not None and self.params.dtmf_payload_type is None:
            # in-band only when no telephone-event was negotiated: a phone that sends both
            # would otherwise give every key twice
            for digit in self._inband.feed_pcm16(pcm):
                self.digit(digit, "inband")
        if self._recording is not None:
            self._record(pcm)

    def _next_heard(self) -> bytes | None:
        # Callers that ignore our ptime (10/30 ms packets) are re-cut into 20 ms frames here.
        fifo = self._heard_fifo
        while len(fifo) < FRAME_BYTES:
            payload = self._jitter.pop()  # bounded: the buffer runs dry
            if payload is None:
                return None
            fifo += self._decode(payload)
        frame = bytes(fifo[:FRAME_BYTES])
        del fifo[:FRAME_BYTES]
        return frame

    def _send_one(self) -> None:
        if self.params.direction in ("recvonly", "inactive"):
            self.sock.skip()  # on hold: the caller asked us to stay quiet
            return
        if self._events:
            body, marker, start = self._events.popleft()
            if self.params.dtmf_payload_type is not None:
                self.sock.send_event(self.params.dtmf_payload_type, body, marker=marker,
                                     start_ts=start)
                return
        if self._playing:
            frame = self._playing.popleft()
            self.sock.send(self.params.payload_type, self._encode(frame))
            if not self._playing:
                self._emit(PlaybackFinished(interrupted=False))
            return
        peer_audio = self.peer.heard if self.peer is not None else None
        if peer_audio is not None:
            self.sock.send(self.params.payload_type, self._encode(peer_audio))
        else:
            self.sock.send(self.params.payload_type, self._silence)

    # -- playback --

    def play(self, frames: list[bytes], barge_in: bool) -> None:
        if self._playing:
            self._playing.clear()
            self._emit(PlaybackFinished(interrupted=True))
        self._playing.extend(f if len(f) == FRAME_BYTES else f.ljust(FRAME_BYTES, b"\0")
                             for f in frames)
        self._barge_in = barge_in
        if not self._playing:
            self._emit(PlaybackFinished(interrupted=False))

    def stop_playback(self) -> None:
        if self._playing:
            self._playing.clear()
            self._emit(PlaybackFinished(interrupted=True))

    # -- digits from any source --

    def digit(self, digit: str, source: DigitSource) -> None:
        if self._barge_in and self._playing:
            self.stop_playback()  # barge-in: the digit cuts the prompt at once
        self._emit(DigitReceived(digit, source))
        if self.peer is not None:
            self.peer.send_digit(digit)
        rec = self._recording
        if rec is not None and digit in rec.stop_digits:
            self.stop_recording("digit")

    def send_digit(self, digit: str) -> None:
        start = self.sock.timestamp
        for packet in encode_events(digit):
            self._events.append((packet.payload, packet.marker, start))

    # -- recording --

    def start_recording(
        self, path: Path, *, max_seconds: float, silence_seconds: float, stop_digits: str
    ) -> None:
        if self._recording is not None:
            self.stop_recording("error")
        self._recording = _Recording(
            recorder=self.kit.recorder(path),
            path=path,
            max_frames=max(1, int(max_seconds * 50)),
            quiet=SilenceDetector(timeout_ms=max(20, int(silence_seconds * 1000))),
            stop_digits=stop_digits,
        )

    def _record(self, pcm: bytes | None) -> None:
        rec = self._recording
        assert rec is not None
        try:
            rec.recorder.write_frame(pcm)
        except Exception:
            log.exception("recording %s failed", rec.path)
            self.stop_recording("error")
            return
        rec.frames += 1
        if rec.frames >= rec.max_frames:
            self.stop_recording("max_length")
        elif rec.quiet.feed(pcm):
            self.stop_recording("silence")

    def stop_recording(self, reason: RecordingReason) -> None:
        rec, self._recording = self._recording, None
        if rec is None:
            return
        task = asyncio.get_running_loop().create_task(self._close(rec, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, rec: _Recording, reason: RecordingReason) -> None:
        info: object | None = None
        try:
            info = await asyncio.to_thread(rec.recorder.close)  # fsync: off the loop
        except Exception:
            log.exception("closing recording %s failed", rec.path)
            reason = "error"
        self._emit(RecordingStopped(reason, rec.path, rec.frames / 50.0, info))

    async def close(self) -> None:
        self.stop_recording("hangup")
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.sock.close()



def default_kit(
    frames: Callable[[Sequence[str]], list[bytes]] | None = None, *, inband_dtmf: bool = False
) -> MediaKit:
    """The media adapter's jitter buffer and crash-safe WAV recorder."""
    return MediaKit(jitter=JitterBuffer, recorder=WavRecorder, frames=frames,
                    inband_dtmf=inband_dtmf)
