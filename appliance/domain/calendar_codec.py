"""Plain-dict form of a BusinessCalendar: the JSON the store keeps and the web UI edits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from appliance.domain.hours import DateException, Holiday, TimeRange, Weekday

if TYPE_CHECKING:
    from appliance.domain.calendar import BusinessCalendar

_KEYS = {"timezone", "weekly", "holidays", "exceptions", "callback_cutoff_minutes"}
_CLOSED = "closed"

CalendarParts = tuple[
    str, tuple[tuple[TimeRange, ...], ...], tuple[Holiday, ...], tuple[DateException, ...], int
]


def calendar_to_dict(cal: BusinessCalendar) -> dict[str, object]:
    return {
        "timezone": cal.timezone,
        "weekly": {day.key: _ranges_out(cal.weekly[day]) for day in Weekday},
        "holidays": [
            {
                "date": h.day.isoformat(),
                "name": h.name,
                "behaves_like": _CLOSED if h.behaves_like is None else h.behaves_like.key,
            }
            for h in cal.holidays
        ],
        "exceptions": [
            {"date": e.day.isoformat(), "ranges": _ranges_out(e.ranges), "note": e.note}
            for e in cal.exceptions
        ],
        "callback_cutoff_minutes": cal.callback_cutoff_minutes,
    }


def calendar_from_dict(data: Mapping[str, object]) -> CalendarParts:
    """Validate a plain dict; every problem is a ValueError naming the offending part."""
    unknown = set(data) - _KEYS
    if unknown:
        raise ValueError(f"unknown calendar keys: {sorted(unknown)}")
    timezone = data.get("timezone")
    if not isinstance(timezone, str):
        raise ValueError("calendar needs a 'timezone' name such as 'America/Santiago'")
    cutoff = data.get("callback_cutoff_minutes", 0)
    if not isinstance(cutoff, int) or isinstance(cutoff, bool):
        raise ValueError("callback_cutoff_minutes must be an integer")
    return (
        timezone,
        _weekly_in(data.get("weekly", {})),
        tuple(_holiday_in(h) for h in _list(data.get("holidays", []), "holidays")),
        tuple(_exception_in(e) for e in _list(data.get("exceptions", []), "exceptions")),
        cutoff,
    )


def _ranges_out(ranges: Sequence[TimeRange]) -> list[list[str]]:
    return [r.to_list() for r in ranges]


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object")
    return value


def _ranges_in(value: object, what: str) -> tuple[TimeRange, ...]:
    ranges = []
    for item in _list(value, what):
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(t, str) for t in item)
        ):
            raise ValueError(f"{what}: each range is ['HH:MM', 'HH:MM'], got {item!r}")
        try:
            ranges.append(TimeRange.parse(item[0], item[1]))
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    return tuple(ranges)


def _weekly_in(value: object) -> tuple[tuple[TimeRange, ...], ...]:
    weekly = _mapping(value, "weekly")
    days = {Weekday.parse(key): ranges for key, ranges in weekly.items()}
    return tuple(_ranges_in(days.get(day, []), day.key) for day in Weekday)


def _date_in(value: object, what: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{what}: date must be 'YYYY-MM-DD'")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what}: not a date: {value!r}") from None


def _holiday_in(value: object) -> Holiday:
    item = _mapping(value, "holiday")
    day = _date_in(item.get("date"), "holiday")
    rule = item.get("behaves_like", Weekday.SUNDAY.key)
    if not isinstance(rule, str):
        raise ValueError(f"holiday {day}: behaves_like must be a weekday name or 'closed'")
    behaves_like = None if rule == _CLOSED else Weekday.parse(rule)
    return Holiday(day, str(item.get("name", "")), behaves_like)


def _exception_in(value: object) -> DateException:
    item = _mapping(value, "exception")
    day = _date_in(item.get("date"), "exception")
    ranges = _ranges_in(item.get("ranges", []), f"exception {day}")
    return DateException(day, ranges, str(item.get("note", "")))
