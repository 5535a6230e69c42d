"""Turning form text into domain values (ranges, local date-times, lists) with messages a person
can act on; every failure is a ValueError whose text the page shows (translated).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from appliance.domain.calendar import resolve_wall_time
from appliance.domain.hours import TimeRange


def parse_ranges(text: str) -> tuple[TimeRange, ...]:
    """'09:00-13:00, 14:00-18:00' -> two ranges; empty text -> closed."""
    ranges = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"write opening hours as 09:00-13:00, got {part!r}")
        ranges.append(TimeRange.parse(start.strip(), end.strip()))
    return tuple(sorted(ranges))


def format_ranges(ranges: Sequence[TimeRange]) -> str:
    return ", ".join(str(r) for r in ranges)


def parse_local(text: str, zone: str) -> datetime:
    """A datetime-local field ('2026-03-02T09:30') on the service's wall clock, as UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date and time: {text!r}") from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return resolve_wall_time(naive.date(), naive.time().replace(second=0, microsecond=0),
                             ZoneInfo(zone))


def local_input(value: datetime | None, zone: str) -> str:
    """The value a datetime-local input shows for an instant."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None


def parse_list(text: str) -> tuple[str, ...]:
    """Comma/space/newline separated items (emails, numbers), blanks dropped."""
    return tuple(item for item in text.replace(",", " ").split() if item)
