"""DTMF digits from the three ways a caller's keys reach us: RFC 4733 telephone-events, SIP INFO
bodies, and in-band tones (Goertzel). Pure: bytes and samples in, digits out.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

DIGITS = "0123456789*#ABCD"  # RFC 4733 events 0-15, in order

_ROW_HZ = (697.0, 770.0, 852.0, 941.0)
_COL_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")


@dataclass(frozen=True)
class TelephoneEvent:
    """One RFC 4733 telephone-event payload (section 2.3)."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        return DIGITS[self.event] if self.event < len(DIGITS) else None


def parse_telephone_event(payload: bytes) -> TelephoneEvent | None:
    """Decode the 4-byte event payload; None if it is too short to be one."""
    if len(payload) < 4:
        return None
    return TelephoneEvent(
        event=payload[0],
        end=bool(payload[1] & 0x80),
        volume=payload[1] & 0x3F,
        duration=int.from_bytes(payload[2:4], "big"),
    )


class Rfc4733Receiver:
    """Turns a stream of telephone-event packets into digits, each reported once.

    An event is identified by its RTP timestamp (RFC 4733 §2.5.1: every packet of one event
    carries the timestamp of its start), so the end packet and its retransmissions, a lost
    marker packet or reordering never duplicate a digit, while the same key pressed again
    (new timestamp) or back-to-back digits a few ms apart are read as separate digits.
    """

    def __init__(self, memory: int = 16) -> None:
        self._recent: deque[int] = deque(maxlen=memory)

    def feed(self, timestamp: int, payload: bytes, marker: bool = False) -> str | None:
        """Return the digit if this packet starts a new event, else None."""
        event = parse_telephone_event(payload)
        if event is None or event.digit is None or timestamp in self._recent:
            return None
        self._recent.append(timestamp)
        return event.digit

    def reset(self) -> None:
        """Forget past events (new SSRC: its timestamps start anywhere)."""
        self._recent.clear()


@dataclass(frozen=True)
class EventPacket:
    """One packet to send; all packets of an event share the RTP timestamp of its start."""

    payload: bytes
    marker: bool
    end: bool


def encode_events(
    digit: str,
    duration_ms: int = 160,
    *,
    volume: int = 10,
    ptime_ms: int = 20,
    clock_rate: int = 8000,
    end_repeats: int = 3,
) -> list[EventPacket]:
    """Packets for one key press, one per ptime, the end packet sent `end_repeats` times."""
    event = DIGITS.index(digit.upper())
    step = ptime_ms * clock_rate // 1000
    total = max(step, min(duration_ms * clock_rate // 1000, 0xFFFF))
    packets: list[EventPacket] = []
    elapsed = 0
    while elapsed < total:
        elapsed = min(elapsed + step, total)
        end = elapsed == total
        body = bytes([event, (0x80 if end else 0) | (volume & 0x3F)]) + elapsed.to_bytes(2, "big")
        packets.append(EventPacket(body, marker=not packets, end=end))
    # RFC 4733 §2.5.1.4: the end packet is sent three times in all, against loss.
    packets.extend([EventPacket(packets[-1].payload, marker=False, end=True)] * (end_repeats - 1))
    return packets


def parse_dtmf_relay(body: str) -> str | None:
    """The digit in a SIP INFO body: application/dtmf-relay ("Signal=5") or application/dtmf."""
    text = body.strip()
    if "=" in text:
        values = dict(_key_value(line) for line in text.splitlines() if "=" in line)
        text = values.get("signal", "")
    return _digit_from_text(text)


def _key_value(line: str) -> tuple[str, str]:
    key, _, value = line.partition("=")
    return key.strip().lower(), value.strip()


def _digit_from_text(text: str) -> str | None:
    if len(text) == 1 and text.upper() in DIGITS:
        return text.upper()
    # Some phones send the RFC 4733 event number instead ("Signal=11" for #).
    if text.isdigit() and int(text) < len(DIGITS):
        return DIGITS[int(text)]
    return None


@dataclass(frozen=True)
class GoertzelSettings:
    """Thresholds of the in-band detector; defaults follow common practice (spandsp, Asterisk)."""

    sample_rate: int = 8000
    block_size: int = 102  # 12.75 ms: bins ~1 DTMF spacing wide, fast enough to see short gaps
    min_tone_dbfs: float = -40.0  # each of the two tones
    max_twist_db: float = 8.0  # low group louder than high group
    max_reverse_twist_db: float = 4.0  # high group louder than low group
    min_relative_peak_db: float = 8.0  # best tone over the runner-up of its group
    min_energy_ratio: float = 0.6  # the two tones' share of the block's total power
    blocks_to_start: int = 2  # consecutive hits: ~26 ms, so every >= 40 ms tone is seen
    blocks_to_end: int = 2  # consecutive misses before the same key can be reported again


class GoertzelDetector:
    """In-band DTMF: reports each key press once, when it has been on for a few blocks."""

    def __init__(self, settings: GoertzelSettings | None = None) -> None:
        self._s = settings or GoertzelSettings()
        n, rate = self._s.block_size, self._s.sample_rate
        self._coeffs = [2.0 * math.cos(2.0 * math.pi * f / rate) for f in _ROW_HZ + _COL_HZ]
        self._min_power = 32768.0**2 * _db(self._s.min_tone_dbfs) / 2.0
        self._scale = 2.0 / (n * n)  # turns |X|^2 into the tone's mean square
        self._pending: list[int] = []
        self._candidate: str | None = None
        self._hits = 0
        self._current: str | None = None
        self._misses = 0

    def feed(self, samples: Sequence[int]) -> list[str]:
        """Process linear 16-bit samples; return the digits whose key press started in them."""
        self._pending.extend(samples)
        n = self._s.block_size
        digits: list[str] = []
        while len(self._pending) >= n:
            block, self._pending = self._pending[:n], self._pending[n:]
            digit = self._on_block(self._classify(block))
            if digit is not None:
                digits.append(digit)
        return digits

    def feed_pcm16(self, data: bytes) -> list[str]:
        """Same as feed() for little-endian signed 16-bit PCM bytes."""
        samples = array("h", data)
        if sys.byteorder == "big":
            samples.byteswap()
        return self.feed(samples)

    def _on_block(self, candidate: str | None) -> str | None:
        self._hits = self._hits + 1 if candidate == self._candidate else 1
        self._candidate = candidate
        if self._current is not None:
            self._misses = 0 if candidate == self._current else self._misses + 1
            if self._misses >= self._s.blocks_to_end:
                self._current = None
        if (
            candidate is not None
            and self._current is None
            and self._hits >= self._s.blocks_to_start
        ):
            self._current = candidate
            self._misses = 0
            return candidate
        return None

    def _classify(self, block: Sequence[int]) -> str | None:
        powers = [self._goertzel(block, c) for c in self._coeffs]
        rows, cols = powers[:4], powers[4:]
        row = max(range(4), key=rows.__getitem__)
        col = max(range(4), key=cols.__getitem__)
        if not self._plausible(rows, cols, row, col):
            return None
        total = sum(x * x for x in block) / len(block)
        if rows[row] + cols[col] < self._s.min_energy_ratio * total:
            return None
        return _KEYPAD[row][col]

    def _plausible(self, rows: list[float], cols: list[float], row: int, col: int) -> bool:
        low, high = rows[row], cols[col]
        if low < self._min_power or high < self._min_power:
            return False
        if low > high * _db(self._s.max_twist_db) or high > low * _db(self._s.max_reverse_twist_db):
            return False
        peak = _db(self._s.min_relative_peak_db)
        return all(r * peak <= low for i, r in enumerate(rows) if i != row) and all(
            c * peak <= high for i, c in enumerate(cols) if i != col
        )

    def _goertzel(self, block: Sequence[int], coeff: float) -> float:
        s1 = s2 = 0.0
        for x in block:
            s1, s2 = x + coeff * s1 - s2, s1
        return (s1 * s1 + s2 * s2 - coeff * s1 * s2) * self._scale


def _db(decibels: float) -> float:
    """Power ratio of a level difference in dB."""
    return math.pow(10.0, decibels / 10.0)
