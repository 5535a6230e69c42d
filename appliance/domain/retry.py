"""When to try a failed delivery or callback again: explicit intervals, then back-off, capped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """`delay_for(n)` is the wait after the n-th failed attempt (1-based); None means give up.

    The first delays come from `intervals`; past them the last interval grows by
    `backoff_factor` per attempt, never beyond `cap`.
    """

    intervals: tuple[timedelta, ...] = (timedelta(minutes=1),)
    backoff_factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if not self.intervals:
            raise ValueError("a retry policy needs at least one interval")
        if any(i < timedelta(0) for i in self.intervals) or self.cap < timedelta(0):
            raise ValueError("retry intervals and cap must not be negative")
        if self.backoff_factor < 1.0:
            raise ValueError("backoff_factor must be >= 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")

    def delay_for(self, attempt: int) -> timedelta | None:
        """Delay before attempt `attempt + 1`, or None once `max_attempts` have been made."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {attempt}")
        if attempt >= self.max_attempts:
            return None
        if attempt <= len(self.intervals):
            delay = self.intervals[attempt - 1]
        else:
            extra = attempt - len(self.intervals)
            # Grow in float seconds but stop early: a huge exponent would overflow timedelta.
            seconds = self.intervals[-1].total_seconds()
            for _ in range(extra):
                seconds *= self.backoff_factor
                if seconds >= self.cap.total_seconds():
                    break
            delay = timedelta(seconds=seconds)
        return min(delay, self.cap)

    def schedule(self) -> tuple[timedelta, ...]:
        """Every delay the policy will ever produce, in order (for the UI and tests)."""
        delays = (self.delay_for(n) for n in range(1, self.max_attempts))
        return tuple(d for d in delays if d is not None)

    def to_dict(self) -> dict[str, object]:
        return {
            "intervals_s": [i.total_seconds() for i in self.intervals],
            "backoff_factor": self.backoff_factor,
            "cap_s": self.cap.total_seconds(),
            "max_attempts": self.max_attempts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RetryPolicy:
        try:
            intervals = data["intervals_s"]
            if not isinstance(intervals, list | tuple):
                raise ValueError("intervals_s must be a list of seconds")
            return cls(
                intervals=tuple(timedelta(seconds=float(s)) for s in intervals),
                backoff_factor=float(data.get("backoff_factor", 2.0)),  # type: ignore[arg-type]
                cap=timedelta(seconds=float(data.get("cap_s", 3600))),  # type: ignore[arg-type]
                max_attempts=int(data.get("max_attempts", 5)),  # type: ignore[call-overload]
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"invalid retry policy: {exc}") from exc
