"""What the call-flow service needs from the SIP extension: call legs, their events, dial-out.

A leg's methods raise only appliance.errors (SipError, MediaError); events arrive in order on
`CallLeg.events()`, which ends after RemoteHangup (or after our own hangup).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

DigitSource = Literal["rfc4733", "info", "inband"]
RecordingReason = Literal["digit", "silence", "max_length", "hangup", "error"]
DialOutcome = Literal[
    "answered", "busy", "no_answer", "unavailable", "rejected", "failed"
]

# A playable item: a prompt name (resolved by the engine's PromptLibrary) or one 20 ms frame
# of 8 kHz mono 16-bit PCM (320 bytes).
Playable = str | bytes


@dataclass(frozen=True, slots=True)
class DigitReceived:
    digit: str
    source: DigitSource


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    interrupted: bool


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    reason: RecordingReason
    path: Path
    seconds: float
    info: object | None = None  # the media adapter's RecordingInfo, when the file was closed


@dataclass(frozen=True, slots=True)
class RemoteHangup:
    reason: str = "bye"  # bye | cancel | timeout | error


LegEvent = DigitReceived | PlaybackFinished | RecordingStopped | RemoteHangup


@dataclass(frozen=True, slots=True)
class TransferResult:
    ok: bool
    status: int  # final sipfrag status, the REFER's own error status, or 408 on timeout
    reason: str


class Direction(enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallLeg(Protocol):
    """One call on the extension, inbound (overflow) or outbound (callback)."""

    @property
    def call_id(self) -> str: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def caller(self) -> str:
        """User part of P-Asserted-Identity, else Remote-Party-ID, else From."""
    @property
    def caller_name(self) -> str: ...
    @property
    def dialled(self) -> str:
        """User part of the Request-URI (else To)."""
    @property
    def diversion(self) -> str | None:
        """User part of the Diversion / History-Info target, if the PBX sent one."""
    @property
    def codec(self) -> str:
        """'PCMU' or 'PCMA'."""

    async def answer(self) -> None:
        """Send 200 OK and start media. Raises SipError if the caller already gave up."""

    def play(self, items: Sequence[Playable], *, barge_in: bool = True) -> None:
        """Start playing (replacing what plays); emits PlaybackFinished. A digit stops a barge-in
        playback at once (interrupted=True)."""

    def stop_playback(self) -> None: ...

    def listen(self, sink: Callable[[bytes | None], None] | None) -> None:
        """Call `sink` on every 20 ms media tick with the received frame (8 kHz 16-bit PCM,
        320 bytes) or None when nothing arrived; None stops listening. Must not block."""

    def start_recording(
        self,
        path: Path,
        *,
        max_seconds: float,
        silence_seconds: float,
        stop_digits: str = "#",
    ) -> None:
        """Record what the caller says; emits RecordingStopped once."""

    def stop_recording(self) -> None: ...

    def send_digit(self, digit: str) -> None:
        """Send one DTMF digit as RFC 4733 events; space digits by at least 250 ms."""

    async def transfer(self, target_uri: str, *, timeout: float = 30.0) -> TransferResult:
        """Blind transfer (REFER) and follow the NOTIFY sipfrag to a final status."""

    async def hangup(self) -> None: ...

    def events(self) -> AsyncIterator[LegEvent]: ...

    async def bridge(self, other: CallLeg) -> None:
        """Relay audio and DTMF both ways until either leg hangs up."""


CallHandler = Callable[[CallLeg], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DialResult:
    outcome: DialOutcome
    status: int  # final SIP status (200, 486, 487, 480, ...) or 408 on timeout
    leg: CallLeg | None = None


@dataclass(frozen=True, slots=True)
class EngineStatus:
    mode: str  # trunk | register
    registrations: dict[str, str] = field(default_factory=dict)  # aor -> state
    active_channels: int = 0
    max_channels: int = 0


class TelephonyEngine(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def set_call_handler(self, handler: CallHandler) -> None: ...
    async def dial(
        self,
        target: str,
        *,
        caller_id: str,
        display_name: str,
        ring_timeout: float,
    ) -> DialResult:
        """Place an outbound call. `target` is a number or a sip: URI."""

    def status(self) -> EngineStatus: ...
