"""BusinessCalendar: which mode a service is in at an instant, and when it next opens or closes.

Wall-clock times resolve to the first instant the clock shows them; in a DST gap, to the
instant the clock jumps past them. Instants come back in UTC: Python compares and subtracts
datetimes of one zone by wall clock, which is wrong across a DST change. `local()` is for display.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.domain.calendar_codec import calendar_from_dict, calendar_to_dict
from appliance.domain.hours import DateException, Holiday, Mode, TimeRange, Weekday

# Long enough to find the next opening after a year-long closure; bounded so a calendar that
# never opens answers None instead of looping.
HORIZON_DAYS = 400

_Interval = tuple[datetime, datetime]
_Dated = TypeVar("_Dated", Holiday, DateException)


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instants must be timezone-aware, got {instant!r}")
    return instant.astimezone(UTC)


def resolve_wall_time(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant the wall clock of `tz` first shows `day` `at`, or jumps past it."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # A DST gap: fold=1 maps with the post-transition offset, so it lands before the jump.
    lo = int(naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = int(first.timestamp())
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening ranges (Monday first), holidays and per-date exceptions in one time zone."""

    timezone: str
    weekly: tuple[tuple[TimeRange, ...], ...] = ((),) * 7
    holidays: tuple[Holiday, ...] = ()
    exceptions: tuple[DateException, ...] = ()
    callback_cutoff_minutes: int = 0
    _holiday_by_day: dict[date, Holiday] = field(init=False, repr=False, compare=False)
    _exception_by_day: dict[date, DateException] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 days (Monday first), got {len(self.weekly)}")
        if self.callback_cutoff_minutes < 0:
            raise ValueError("callback_cutoff_minutes must not be negative")
        object.__setattr__(self, "_holiday_by_day", _index(self.holidays, "holiday"))
        object.__setattr__(self, "_exception_by_day", _index(self.exceptions, "exception"))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        """`instant` on this calendar's wall clock, for display and for reading slots aloud."""
        return _require_aware(instant).astimezone(self.tz)

    def holiday_on(self, day: date) -> Holiday | None:
        return self._holiday_by_day.get(day)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """Opening ranges for a local date: exception, else holiday rule, else the weekday."""
        exception = self._exception_by_day.get(day)
        if exception is not None:
            return exception.ranges
        holiday = self._holiday_by_day.get(day)
        if holiday is not None:
            return () if holiday.behaves_like is None else self.weekly[holiday.behaves_like]
        return self.weekly[day.weekday()]

    def mode_at(self, instant: datetime) -> Mode:
        utc = _require_aware(instant)
        day = utc.astimezone(self.tz).date()
        for d in (day - timedelta(days=1), day):
            if any(start <= utc < end for start, end in self._intervals_on(d)):
                return Mode.BUSINESS
        return Mode.HOLIDAY if day in self._holiday_by_day else Mode.AFTER_HOURS

    def next_opening(self, instant: datetime) -> datetime | None:
        """`instant` (in UTC) when open, else the start of the next opening; None if none in reach."""
        utc = _require_aware(instant)
        for start, _end in self._periods_from(utc):
            return max(start, utc)
        return None

    def openings_after(self, instant: datetime, count: int) -> list[datetime]:
        """Starts of the next `count` openings strictly after `instant` (callback slot offers)."""
        utc = _require_aware(instant)
        starts: list[datetime] = []
        for start, _end in self._periods_from(utc):
            if len(starts) >= count:
                break
            if start > utc:
                starts.append(start)
        return starts

    def closing_after(self, instant: datetime) -> datetime | None:
        """End of the opening holding `instant` (or of the next one); None if it never closes."""
        utc = _require_aware(instant)
        for _start, end in self._periods_from(utc):
            return end
        return None

    def callbacks_allowed(self, instant: datetime) -> bool:
        """Open, and more than `callback_cutoff_minutes` before closing."""
        utc = _require_aware(instant)
        if self.mode_at(utc) is not Mode.BUSINESS:
            return False
        closing = self.closing_after(utc)
        cutoff = timedelta(minutes=self.callback_cutoff_minutes)
        return closing is None or closing - utc > cutoff

    def to_dict(self) -> dict[str, object]:
        return calendar_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BusinessCalendar:
        timezone, weekly, holidays, exceptions, cutoff = calendar_from_dict(data)
        return cls(timezone, weekly, holidays, exceptions, cutoff)

    def _intervals_on(self, day: date) -> list[_Interval]:
        tz = self.tz
        intervals = []
        for r in self.ranges_on(day):
            start = resolve_wall_time(day, r.start, tz)
            end_day = day + timedelta(days=1) if r.ends_at_midnight else day
            end = resolve_wall_time(end_day, r.end, tz)
            if start < end:  # a range wholly inside a DST gap never opens
                intervals.append((start, end))
        return sorted(intervals)

    def _periods_from(self, utc: datetime) -> Iterator[tuple[datetime, datetime | None]]:
        """Merged openings ending after `utc`, in order; end None when still open at the horizon."""
        first_day = utc.astimezone(self.tz).date() - timedelta(days=1)
        current: _Interval | None = None
        for offset in range(HORIZON_DAYS):
            for start, end in self._intervals_on(first_day + timedelta(days=offset)):
                if current is not None and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None and current[1] > utc:
                    yield current
                current = (start, end)
        if current is not None and current[1] > utc:
            # Still open at the end of the last scanned day: no closing in reach.
            horizon = resolve_wall_time(first_day + timedelta(days=HORIZON_DAYS), time(0), self.tz)
            yield current[0], (None if current[1] >= horizon else current[1])


def _index(items: tuple[_Dated, ...], what: str) -> dict[date, _Dated]:
    by_day: dict[date, _Dated] = {}
    for item in items:
        if item.day in by_day:
            raise ValueError(f"two {what}s on {item.day.isoformat()}")
        by_day[item.day] = item
    return by_day


__all__ = [
    "HORIZON_DAYS",
    "BusinessCalendar",
    "DateException",
    "Holiday",
    "Mode",
    "TimeRange",
    "Weekday",
    "resolve_wall_time",
]
