"""BusinessCalendar across the DST changes of America/Santiago and Europe/Madrid (2026).

Madrid: 29 March 02:00 -> 03:00 (gap), 25 October 03:00 -> 02:00 (02:00-03:00 twice).
Santiago: 4 April 24:00 -> 23:00 (23:00-24:00 twice), 6 September 00:00 -> 01:00 (gap).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appliance.domain.calendar import BusinessCalendar, resolve_wall_time
from appliance.domain.hours import Mode, TimeRange, Weekday

MADRID = ZoneInfo("Europe/Madrid")
SANTIAGO = ZoneInfo("America/Santiago")


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def only(day: Weekday, *ranges: tuple[str, str]) -> tuple[tuple[TimeRange, ...], ...]:
    parsed = tuple(TimeRange.parse(a, b) for a, b in ranges)
    return tuple(parsed if d is day else () for d in Weekday)


@pytest.mark.parametrize(
    ("day", "at", "tz", "expected"),
    [
        (date(2026, 3, 29), time(1, 30), MADRID, utc(2026, 3, 29, 0, 30)),
        (date(2026, 3, 29), time(2, 30), MADRID, utc(2026, 3, 29, 1, 0)),  # gap -> the jump
        (date(2026, 3, 29), time(2, 0), MADRID, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), time(3, 0), MADRID, utc(2026, 3, 29, 1, 0)),
        (date(2026, 10, 25), time(2, 30), MADRID, utc(2026, 10, 25, 0, 30)),  # first occurrence
        (date(2026, 10, 25), time(3, 0), MADRID, utc(2026, 10, 25, 2, 0)),
        (date(2026, 9, 6), time(0, 0), SANTIAGO, utc(2026, 9, 6, 4, 0)),  # gap at midnight
        (date(2026, 9, 6), time(0, 59), SANTIAGO, utc(2026, 9, 6, 4, 0)),
        (date(2026, 9, 6), time(1, 0), SANTIAGO, utc(2026, 9, 6, 4, 0)),
        (date(2026, 4, 4), time(23, 30), SANTIAGO, utc(2026, 4, 5, 2, 30)),  # first occurrence
        (date(2026, 4, 5), time(0, 0), SANTIAGO, utc(2026, 4, 5, 4, 0)),
    ],
)
def test_resolve_wall_time(day: date, at: time, tz: ZoneInfo, expected: datetime) -> None:
    assert resolve_wall_time(day, at, tz) == expected


# Madrid, Sunday 29 March: a night shift across the gap and a range that starts in it.
MADRID_SPRING = BusinessCalendar(
    "Europe/Madrid",
    only(Weekday.SUNDAY, ("01:00", "04:00"), ("02:15", "02:45"), ("09:00", "10:00")),
)
MADRID_SPRING_LATE = BusinessCalendar("Europe/Madrid", only(Weekday.SUNDAY, ("02:30", "05:00")))
# Madrid, Sunday 25 October: a range ending inside the repeated hour, and a day shift.
MADRID_AUTUMN = BusinessCalendar(
    "Europe/Madrid", only(Weekday.SUNDAY, ("01:00", "02:30"), ("09:00", "18:00"))
)
# Santiago: the whole Saturday 4 April (25 hours long) and Saturday/Sunday around 6 September.
SANTIAGO_SAT = BusinessCalendar("America/Santiago", only(Weekday.SATURDAY, ("00:00", "24:00")))
SANTIAGO_WEEKEND = BusinessCalendar(
    "America/Santiago",
    tuple(
        (TimeRange.parse("22:00", "24:00"),)
        if d is Weekday.SATURDAY
        else (TimeRange.parse("00:00", "02:00"),)
        if d is Weekday.SUNDAY
        else ()
        for d in Weekday
    ),
)


@pytest.mark.parametrize(
    ("cal", "instant", "mode"),
    [
        (MADRID_SPRING, utc(2026, 3, 28, 23, 59), Mode.AFTER_HOURS),  # 00:59 CET
        (MADRID_SPRING, utc(2026, 3, 29, 0, 0), Mode.BUSINESS),  # 01:00 CET
        (MADRID_SPRING, utc(2026, 3, 29, 1, 59), Mode.BUSINESS),  # 03:59 CEST
        (MADRID_SPRING, utc(2026, 3, 29, 2, 0), Mode.AFTER_HOURS),  # 04:00 CEST
        (MADRID_SPRING, utc(2026, 3, 29, 7, 0), Mode.BUSINESS),  # 09:00 CEST
        (MADRID_SPRING_LATE, utc(2026, 3, 29, 0, 59), Mode.AFTER_HOURS),
        (MADRID_SPRING_LATE, utc(2026, 3, 29, 1, 0), Mode.BUSINESS),  # 03:00 CEST
        (MADRID_AUTUMN, utc(2026, 10, 25, 0, 29), Mode.BUSINESS),  # 02:29 CEST
        (MADRID_AUTUMN, utc(2026, 10, 25, 0, 30), Mode.AFTER_HOURS),  # 02:30 CEST
        (MADRID_AUTUMN, utc(2026, 10, 25, 1, 15), Mode.AFTER_HOURS),  # 02:15 CET, second time
        (MADRID_AUTUMN, utc(2026, 10, 25, 8, 0), Mode.BUSINESS),  # 09:00 CET
        (MADRID_AUTUMN, utc(2026, 10, 25, 16, 59), Mode.BUSINESS),
        (MADRID_AUTUMN, utc(2026, 10, 25, 17, 0), Mode.AFTER_HOURS),  # 18:00 CET
        (SANTIAGO_SAT, utc(2026, 4, 4, 2, 59), Mode.AFTER_HOURS),  # Fri 23:59 -03
        (SANTIAGO_SAT, utc(2026, 4, 4, 3, 0), Mode.BUSINESS),  # Sat 00:00 -03
        (SANTIAGO_SAT, utc(2026, 4, 5, 2, 30), Mode.BUSINESS),  # Sat 23:30 -03
        (SANTIAGO_SAT, utc(2026, 4, 5, 3, 30), Mode.BUSINESS),  # Sat 23:30 -04, again
        (SANTIAGO_SAT, utc(2026, 4, 5, 4, 0), Mode.AFTER_HOURS),  # Sun 00:00 -04
        (SANTIAGO_WEEKEND, utc(2026, 9, 6, 1, 59), Mode.AFTER_HOURS),  # Sat 21:59 -04
        (SANTIAGO_WEEKEND, utc(2026, 9, 6, 2, 0), Mode.BUSINESS),  # Sat 22:00 -04
        (SANTIAGO_WEEKEND, utc(2026, 9, 6, 4, 30), Mode.BUSINESS),  # Sun 01:30 -03
        (SANTIAGO_WEEKEND, utc(2026, 9, 6, 5, 0), Mode.AFTER_HOURS),  # Sun 02:00 -03
    ],
)
def test_mode_across_dst(cal: BusinessCalendar, instant: datetime, mode: Mode) -> None:
    assert cal.mode_at(instant) is mode


@pytest.mark.parametrize(
    ("cal", "instant", "opening", "closing"),
    [
        (MADRID_SPRING, utc(2026, 3, 28, 12), utc(2026, 3, 29, 0), utc(2026, 3, 29, 2)),
        (MADRID_SPRING, utc(2026, 3, 29, 2), utc(2026, 3, 29, 7), utc(2026, 3, 29, 8)),
        (MADRID_SPRING_LATE, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), utc(2026, 3, 29, 3)),
        (MADRID_AUTUMN, utc(2026, 10, 24, 12), utc(2026, 10, 24, 23), utc(2026, 10, 25, 0, 30)),
        (MADRID_AUTUMN, utc(2026, 10, 25, 1), utc(2026, 10, 25, 8), utc(2026, 10, 25, 17)),
        (SANTIAGO_SAT, utc(2026, 4, 3, 12), utc(2026, 4, 4, 3), utc(2026, 4, 5, 4)),
        # Saturday 22:00 to Sunday 02:00 is one opening: 24:00 and 00:00 are the same instant.
        (SANTIAGO_WEEKEND, utc(2026, 9, 5, 12), utc(2026, 9, 6, 2), utc(2026, 9, 6, 5)),
    ],
)
def test_opening_and_closing_across_dst(
    cal: BusinessCalendar, instant: datetime, opening: datetime, closing: datetime
) -> None:
    assert cal.next_opening(instant) == opening
    assert cal.closing_after(instant) == closing


def test_long_and_short_days_last_their_real_length() -> None:
    sat = SANTIAGO_SAT.next_opening(utc(2026, 4, 3, 12))
    end = SANTIAGO_SAT.closing_after(utc(2026, 4, 3, 12))
    assert sat is not None and end is not None
    assert end - sat == timedelta(hours=25)
    assert str(SANTIAGO_SAT.local(end)) == "2026-04-05 00:00:00-04:00"


def test_weekly_openings_keep_wall_clock_time_over_the_change() -> None:
    cal = BusinessCalendar("Europe/Madrid", only(Weekday.MONDAY, ("09:00", "17:00")))
    starts = cal.openings_after(datetime(2026, 3, 20, tzinfo=MADRID), 3)
    assert [cal.local(s).strftime("%Y-%m-%d %H:%M %z") for s in starts] == [
        "2026-03-23 09:00 +0100",
        "2026-03-30 09:00 +0200",
        "2026-04-06 09:00 +0200",
    ]


def test_range_inside_the_gap_never_opens() -> None:
    cal = BusinessCalendar("Europe/Madrid", only(Weekday.SUNDAY, ("02:15", "02:45")))
    assert cal.next_opening(utc(2026, 3, 28, 12)) == datetime(2026, 4, 5, 2, 15, tzinfo=MADRID)
