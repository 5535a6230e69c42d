"""BusinessCalendar to and from the plain dict the store keeps as JSON."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from appliance.domain.calendar import BusinessCalendar
from appliance.domain.hours import DateException, Holiday, Mode, TimeRange, Weekday

SAMPLE: dict[str, object] = {
    "timezone": "America/Santiago",
    "weekly": {
        "monday": [["09:00", "13:00"], ["14:00", "18:00"]],
        "friday": [["09:00", "24:00"]],
        "saturday": [],
    },
    "holidays": [
        {"date": "2026-09-18", "name": "Fiestas Patrias", "behaves_like": "sunday"},
        {"date": "2026-09-19", "name": "Glorias del Ejército", "behaves_like": "closed"},
        {"date": "2026-05-21", "name": "Glorias Navales", "behaves_like": "saturday"},
    ],
    "exceptions": [{"date": "2026-12-24", "ranges": [["09:00", "13:00"]], "note": "Nochebuena"}],
    "callback_cutoff_minutes": 15,
}


def test_from_dict_builds_the_calendar() -> None:
    cal = BusinessCalendar.from_dict(SAMPLE)
    assert cal.timezone == "America/Santiago"
    assert cal.weekly[Weekday.MONDAY] == (
        TimeRange.parse("09:00", "13:00"),
        TimeRange.parse("14:00", "18:00"),
    )
    assert cal.weekly[Weekday.FRIDAY][0].ends_at_midnight
    assert cal.weekly[Weekday.TUESDAY] == ()
    assert cal.holidays[1] == Holiday(date(2026, 9, 19), "Glorias del Ejército", None)
    assert cal.holidays[2].behaves_like is Weekday.SATURDAY
    assert cal.exceptions == (
        DateException(date(2026, 12, 24), (TimeRange.parse("09:00", "13:00"),), "Nochebuena"),
    )
    assert cal.callback_cutoff_minutes == 15


def test_round_trip_through_json() -> None:
    cal = BusinessCalendar.from_dict(SAMPLE)
    again = BusinessCalendar.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again == cal
    weekly = cal.to_dict()["weekly"]
    assert isinstance(weekly, dict)
    assert list(weekly) == [d.key for d in Weekday]
    assert weekly["friday"] == [["09:00", "24:00"]]


def test_holiday_defaults_to_sunday() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Europe/Madrid", "holidays": [{"date": "2026-01-01", "name": "Año Nuevo"}]}
    )
    assert cal.holidays[0].behaves_like is Weekday.SUNDAY
    assert cal.mode_at(datetime(2026, 1, 1, 10, tzinfo=cal.tz)) is Mode.HOLIDAY


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "timezone"),
        ({"timezone": "Nowhere/Land"}, "time zone"),
        ({"timezone": "UTC", "colour": 1}, "unknown calendar keys"),
        ({"timezone": "UTC", "weekly": []}, "weekly must be an object"),
        ({"timezone": "UTC", "weekly": {"funday": []}}, "unknown weekday"),
        ({"timezone": "UTC", "weekly": {"monday": [["9", "10:00"]]}}, "monday: expected HH:MM"),
        ({"timezone": "UTC", "weekly": {"monday": [["10:00"]]}}, "each range"),
        ({"timezone": "UTC", "weekly": {"monday": [["18:00", "09:00"]]}}, "cross midnight"),
        ({"timezone": "UTC", "holidays": {}}, "holidays must be a list"),
        ({"timezone": "UTC", "holidays": [{"date": "2026-02-30"}]}, "not a date"),
        ({"timezone": "UTC", "holidays": [{"date": 20260101}]}, "YYYY-MM-DD"),
        ({"timezone": "UTC", "holidays": [{"date": "2026-01-01", "behaves_like": 6}]}, "weekday"),
        ({"timezone": "UTC", "exceptions": ["2026-01-01"]}, "exception must be an object"),
        ({"timezone": "UTC", "callback_cutoff_minutes": "30"}, "integer"),
        ({"timezone": "UTC", "callback_cutoff_minutes": True}, "integer"),
        (
            {"timezone": "UTC", "exceptions": [{"date": "2026-01-01"}, {"date": "2026-01-01"}]},
            "two exceptions",
        ),
    ],
)
def test_invalid_dicts_say_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_dict(data)
