"""BusinessCalendar: modes, openings and closings, holidays, exceptions, cut-off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appliance.domain.calendar import BusinessCalendar
from appliance.domain.hours import DateException, Holiday, Mode, TimeRange, Weekday

MADRID = ZoneInfo("Europe/Madrid")
SANTIAGO = ZoneInfo("America/Santiago")


def week(**days: list[tuple[str, str]]) -> tuple[tuple[TimeRange, ...], ...]:
    by_day = {Weekday.parse(k): tuple(TimeRange.parse(a, b) for a, b in v) for k, v in days.items()}
    return tuple(by_day.get(d, ()) for d in Weekday)


WEEKDAYS_SPLIT = [("09:00", "14:00"), ("15:00", "18:00")]
OFFICE = BusinessCalendar(
    "Europe/Madrid",
    week(
        monday=WEEKDAYS_SPLIT,
        tuesday=WEEKDAYS_SPLIT,
        wednesday=WEEKDAYS_SPLIT,
        thursday=WEEKDAYS_SPLIT,
        friday=WEEKDAYS_SPLIT,
        saturday=[("10:00", "13:00")],
    ),
    holidays=(
        Holiday(date(2026, 1, 6), "Reyes"),  # a Tuesday, behaves like Sunday: closed
        Holiday(date(2026, 5, 1), "Trabajo", Weekday.SATURDAY),  # a Friday opening 10-13
        Holiday(date(2026, 12, 8), "Inmaculada", None),
    ),
    exceptions=(
        DateException(date(2026, 12, 24), (TimeRange.parse("09:00", "13:00"),), "Nochebuena"),
        DateException(date(2026, 3, 2), (), "inventario"),  # a Monday, closed
        DateException(date(2026, 1, 6), (TimeRange.parse("11:00", "12:00"),), "guardia"),
    ),
    callback_cutoff_minutes=30,
)


def md(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=MADRID)


def cl(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SANTIAGO)


@pytest.mark.parametrize(
    ("instant", "mode"),
    [
        (md(2026, 6, 15, 8, 59), Mode.AFTER_HOURS),  # Monday
        (md(2026, 6, 15, 9, 0), Mode.BUSINESS),
        (md(2026, 6, 15, 13, 59), Mode.BUSINESS),
        (md(2026, 6, 15, 14, 0), Mode.AFTER_HOURS),  # lunch gap
        (md(2026, 6, 15, 15, 0), Mode.BUSINESS),
        (md(2026, 6, 15, 18, 0), Mode.AFTER_HOURS),
        (md(2026, 6, 20, 12, 0), Mode.BUSINESS),  # Saturday
        (md(2026, 6, 21, 12, 0), Mode.AFTER_HOURS),  # Sunday
        (md(2026, 5, 1, 9, 30), Mode.HOLIDAY),  # holiday like Saturday, before 10
        (md(2026, 5, 1, 10, 30), Mode.BUSINESS),
        (md(2026, 12, 8, 10, 0), Mode.HOLIDAY),  # closed holiday on a Tuesday
        (md(2026, 12, 24, 12, 59), Mode.BUSINESS),  # exception hours
        (md(2026, 12, 24, 16, 0), Mode.AFTER_HOURS),
        (md(2026, 3, 2, 10, 0), Mode.AFTER_HOURS),  # exception: closed Monday
        (md(2026, 1, 6, 11, 30), Mode.BUSINESS),  # exception wins over holiday
        (md(2026, 1, 6, 10, 0), Mode.HOLIDAY),  # ... and outside it, still a holiday
        (datetime(2026, 6, 15, 7, 0, tzinfo=ZoneInfo("UTC")), Mode.BUSINESS),  # 09:00 in Madrid
    ],
)
def test_mode_at(instant: datetime, mode: Mode) -> None:
    assert OFFICE.mode_at(instant) is mode


@pytest.mark.parametrize(
    ("instant", "opening"),
    [
        (md(2026, 6, 15, 10, 0), md(2026, 6, 15, 10, 0)),  # open now
        (md(2026, 6, 15, 14, 10), md(2026, 6, 15, 15, 0)),
        (md(2026, 6, 19, 18, 30), md(2026, 6, 20, 10, 0)),  # Friday evening -> Saturday
        (md(2026, 6, 20, 13, 0), md(2026, 6, 22, 9, 0)),  # Saturday close -> Monday
        (md(2026, 12, 7, 19, 0), md(2026, 12, 9, 9, 0)),  # skips the closed holiday
        (md(2026, 3, 1, 20, 0), md(2026, 3, 3, 9, 0)),  # skips the closed exception
        (md(2026, 1, 5, 19, 0), md(2026, 1, 6, 11, 0)),
        (md(2026, 4, 30, 20, 0), md(2026, 5, 1, 10, 0)),
    ],
)
def test_next_opening(instant: datetime, opening: datetime) -> None:
    result = OFFICE.next_opening(instant)
    assert result == opening
    assert result is not None and result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("instant", "count", "starts"),
    [
        (md(2026, 6, 19, 17, 0), 3, [md(2026, 6, 20, 10), md(2026, 6, 22, 9), md(2026, 6, 22, 15)]),
        (md(2026, 6, 15, 9, 0), 1, [md(2026, 6, 15, 15)]),  # strictly after, not the current one
        (md(2026, 6, 15, 9, 0), 0, []),
    ],
)
def test_openings_after(instant: datetime, count: int, starts: list[datetime]) -> None:
    assert OFFICE.openings_after(instant, count) == starts


@pytest.mark.parametrize(
    ("instant", "closing"),
    [
        (md(2026, 6, 15, 10, 0), md(2026, 6, 15, 14, 0)),
        (md(2026, 6, 15, 14, 30), md(2026, 6, 15, 18, 0)),  # closed: end of the next opening
        (md(2026, 12, 24, 9, 0), md(2026, 12, 24, 13, 0)),
    ],
)
def test_closing_after(instant: datetime, closing: datetime) -> None:
    assert OFFICE.closing_after(instant) == closing


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        (md(2026, 6, 15, 9, 0), True),
        (md(2026, 6, 15, 13, 29), True),
        (md(2026, 6, 15, 13, 30), False),  # exactly the cut-off
        (md(2026, 6, 15, 13, 45), False),
        (md(2026, 6, 15, 14, 30), False),  # closed
        (md(2026, 6, 15, 17, 29, 59), True),
        (md(2026, 6, 15, 17, 31), False),
        (md(2026, 5, 1, 11, 0), True),  # holiday hours count as open
        (md(2026, 5, 1, 9, 0), False),
    ],
)
def test_callbacks_allowed(instant: datetime, allowed: bool) -> None:
    assert OFFICE.callbacks_allowed(instant) is allowed


def test_adjacent_ranges_merge_into_one_opening() -> None:
    cal = BusinessCalendar(
        "Europe/Madrid", week(monday=[("09:00", "13:00"), ("13:00", "18:00"), ("10:00", "11:00")])
    )
    assert cal.closing_after(md(2026, 6, 15, 10)) == md(2026, 6, 15, 18)
    assert cal.openings_after(md(2026, 6, 15, 8), 2) == [md(2026, 6, 15, 9), md(2026, 6, 22, 9)]


def test_never_open_calendar() -> None:
    cal = BusinessCalendar("Europe/Madrid")
    now = md(2026, 6, 15, 10)
    assert cal.mode_at(now) is Mode.AFTER_HOURS
    assert cal.next_opening(now) is None
    assert cal.closing_after(now) is None
    assert cal.openings_after(now, 3) == []
    assert not cal.callbacks_allowed(now)


def test_always_open_calendar_never_closes() -> None:
    full = [("00:00", "24:00")]
    cal = BusinessCalendar(
        "America/Santiago", week(**{d.key: full for d in Weekday}), callback_cutoff_minutes=60
    )
    now = cl(2026, 4, 4, 23, 30)  # inside the repeated hour
    assert cal.mode_at(now) is Mode.BUSINESS
    # In the repeated hour Python never finds zones equal (PEP 495): compare in UTC.
    assert cal.next_opening(now) == now.astimezone(UTC)
    assert cal.closing_after(now) is None
    assert cal.openings_after(now, 2) == []
    assert cal.callbacks_allowed(now)


@pytest.mark.parametrize("call", ["mode_at", "next_opening", "closing_after", "callbacks_allowed"])
def test_naive_instants_are_refused(call: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        getattr(OFFICE, call)(datetime(2026, 6, 15, 10, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"timezone": "Europe/Madrid", "weekly": ((),) * 6}, "7 days"),
        ({"timezone": "Europe/Madrid", "callback_cutoff_minutes": -1}, "negative"),
        (
            {
                "timezone": "Europe/Madrid",
                "holidays": (Holiday(date(2026, 1, 1), "a"), Holiday(date(2026, 1, 1), "b")),
            },
            "two holidays",
        ),
    ],
)
def test_invalid_calendars(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("10:00", "09:00"),
        ("10:00", "10:00"),
        ("25:00", "26:00"),
        ("9", "10:00"),
        ("09:00", "24:01"),
    ],
)
def test_invalid_ranges(start: str, end: str) -> None:
    with pytest.raises(ValueError):
        TimeRange.parse(start, end)


def test_range_with_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        TimeRange(time(9, 0, 30), time(10))


def test_holiday_on() -> None:
    assert OFFICE.holiday_on(date(2026, 12, 8)) == Holiday(date(2026, 12, 8), "Inmaculada", None)
    assert OFFICE.holiday_on(date(2026, 12, 9)) is None
