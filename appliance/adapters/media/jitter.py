"""Receive-side jitter buffer: RTP packets in as they arrive, one frame out per media-clock tick.

Frames are ordered by the (wrap-extended) sequence number, not the timestamp, so a sender that
restarts its timestamps keeps playing; a new SSRC or a large sequence jump starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

_SEQ_MOD = 1 << 16
_RESTART_JUMP = 1000  # frames (20 s): further than any real reordering, so the sender restarted


@dataclass
class JitterStats:
    received: int = 0
    played: int = 0
    missing: int = 0  # ticks with nothing to play while playing
    duplicates: int = 0
    late: int = 0  # arrived after their slot was played
    overflow: int = 0  # dropped to cap the delay after a burst
    resets: int = 0  # SSRC changes and sequence restarts


class JitterBuffer:
    """Holds `depth_ms` of audio before playing, never more than `max_depth_ms`."""

    def __init__(
        self,
        clock_rate: int = 8000,
        ptime_ms: int = 20,
        depth_ms: int = 60,
        max_depth_ms: int | None = None,
    ) -> None:
        self.clock_rate = clock_rate
        self.ptime_ms = ptime_ms
        self._depth = max(1, depth_ms // ptime_ms)
        self._max_depth = max(self._depth + 1, (max_depth_ms or 3 * depth_ms) // ptime_ms)
        self._frames: dict[int, bytes] = {}
        self._ssrc: int | None = None
        self._highest: int | None = None  # highest extended sequence number seen
        self._next: int | None = None  # extended sequence number of the next frame to play
        self._floor: int | None = None  # first sequence number not yet played (survives run-dry)
        self.stats = JitterStats()

    def push(
        self, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
    ) -> None:
        """Store one received packet (timestamp and marker are accepted for the record only)."""
        self.stats.received += 1
        if ssrc != self._ssrc:
            self._restart(ssrc)
        ext = self._extend(seq)
        if self._highest is not None and abs(ext - self._highest) > _RESTART_JUMP:
            self._restart(ssrc)
            ext = self._extend(seq)
        if self._floor is not None and ext < self._floor:
            self.stats.late += 1
            return
        if ext in self._frames:
            self.stats.duplicates += 1
            return
        self._frames[ext] = payload
        self._highest = ext if self._highest is None else max(self._highest, ext)
        self._cap_depth()

    def pop(self) -> bytes | None:
        """The frame due at this tick, or None (not yet buffered, lost or late: play silence)."""
        if self._next is None:
            if not self._primed():
                return None
            self._next = min(self._frames)
        frame = self._frames.pop(self._next, None)
        if frame is None and not self._frames:
            # Ran dry: the sender paused (or stopped sending during a DTMF event). Keep this slot
            # open for its packet and buffer again before playing.
            self._floor, self._next = self._next, None
            self.stats.missing += 1
            return None
        self._next += 1
        self._floor = self._next
        if frame is None:
            self.stats.missing += 1
        else:
            self.stats.played += 1
        return frame

    @property
    def buffered(self) -> int:
        """Frames waiting to be played."""
        return len(self._frames)

    def _primed(self) -> bool:
        if not self._frames or self._highest is None:
            return False
        return self._highest - min(self._frames) + 1 >= self._depth

    def _extend(self, seq: int) -> int:
        if self._highest is None:
            return seq
        delta = (seq - self._highest) % _SEQ_MOD
        if delta >= _SEQ_MOD // 2:
            delta -= _SEQ_MOD
        return self._highest + delta

    def _cap_depth(self) -> None:
        if self._highest is None:
            return
        start = self._next if self._next is not None else min(self._frames)
        # Keep the newest frames: a burst after a stall must not leave the call delayed for good.
        while self._highest - start + 1 > self._max_depth:
            if self._frames.pop(start, None) is not None:
                self.stats.overflow += 1
            start += 1
        if self._next is not None:
            self._next = self._floor = start

    def _restart(self, ssrc: int) -> None:
        if self._ssrc is not None:
            self.stats.resets += 1
        self._ssrc = ssrc
        self._frames.clear()
        self._highest = None
        self._next = None
        self._floor = None
