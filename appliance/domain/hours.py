"""The building blocks of a business calendar: modes, weekdays, opening ranges, holidays, exceptions.

Times are local wall-clock times; '24:00' ends a range at midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import IntEnum, StrEnum


class Mode(StrEnum):
    BUSINESS = "business"
    AFTER_HOURS = "after_hours"
    HOLIDAY = "holiday"


class Weekday(IntEnum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Weekday:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown weekday {text!r}") from None


def parse_clock(text: str, *, allow_24: bool = False) -> time:
    """'09:30' -> time(9, 30); '24:00' -> time(0) when `allow_24` (end of day)."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"expected HH:MM, got {text!r}")
    h, m = int(hours), int(minutes)
    if allow_24 and (h, m) == (24, 0):
        return time(0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"no such time of day: {text!r}")
    return time(h, m)


def format_clock(value: time, *, end: bool = False) -> str:
    if end and value == time(0):
        return "24:00"
    return f"{value.hour:02d}:{value.minute:02d}"


@dataclass(frozen=True, order=True)
class TimeRange:
    """Open from `start` (inclusive) to `end` (exclusive); end time(0) means 24:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for t in (self.start, self.end):
            if t.tzinfo is not None or t.second or t.microsecond:
                raise ValueError("opening times are naive whole minutes")
        if not self.ends_at_midnight and self.end <= self.start:
            raise ValueError(
                f"range {self} must end after it starts (ranges cannot cross midnight: split them)"
            )

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == time(0)

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end, end=True)}"

    @classmethod
    def parse(cls, start: str, end: str) -> TimeRange:
        return cls(parse_clock(start), parse_clock(end, allow_24=True))

    def to_list(self) -> list[str]:
        return [format_clock(self.start), format_clock(self.end, end=True)]


@dataclass(frozen=True)
class Holiday:
    """A public holiday; it opens like `behaves_like` (Sunday by default) or is closed (None)."""

    day: date
    name: str
    behaves_like: Weekday | None = Weekday.SUNDAY


@dataclass(frozen=True)
class DateException:
    """Special hours for one date, overriding the week and holidays; no ranges means closed."""

    day: date
    ranges: tuple[TimeRange, ...] = ()
    note: str = ""
