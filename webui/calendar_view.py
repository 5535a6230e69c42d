"""Calendar edits as pure functions on BusinessCalendar, and the "what happens at ...?" answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from appliance.domain.calendar import BusinessCalendar
from appliance.domain.hours import DateException, Holiday, Mode, Weekday
from appliance.domain.menu_model import Action
from appliance.domain.service_profile import ServiceProfile
from webui.forms import parse_ranges


def with_week(cal: BusinessCalendar, form: Mapping[str, str]) -> BusinessCalendar:
    weekly = tuple(parse_ranges(form.get(f"day.{d.key}", "")) for d in Weekday)
    cutoff_text = form.get("callback_cutoff_minutes", "0").strip() or "0"
    if not cutoff_text.isdigit():
        raise ValueError("the callback cut-off is a whole number of minutes")
    return BusinessCalendar(timezone=form.get("timezone", cal.timezone).strip(), weekly=weekly,
                            holidays=cal.holidays, exceptions=cal.exceptions,
                            callback_cutoff_minutes=int(cutoff_text))


def behaviour(text: str) -> Weekday | None:
    return None if text == "closed" else Weekday.parse(text or "sunday")


def with_holidays(cal: BusinessCalendar, added: Iterable[Holiday]) -> tuple[BusinessCalendar, int]:
    """Add holidays on dates not yet taken; returns the calendar and how many were new."""
    taken = {h.day for h in cal.holidays}
    new = []
    for holiday in added:
        if holiday.day not in taken:
            taken.add(holiday.day)
            new.append(holiday)
    holidays = tuple(sorted((*cal.holidays, *new), key=lambda h: h.day))
    return replace(cal, holidays=holidays), len(new)


def without_holiday(cal: BusinessCalendar, day: date) -> BusinessCalendar:
    return replace(cal, holidays=tuple(h for h in cal.holidays if h.day != day))


def with_exception(cal: BusinessCalendar, exception: DateException) -> BusinessCalendar:
    others = tuple(e for e in cal.exceptions if e.day != exception.day)
    return replace(cal, exceptions=tuple(sorted((*others, exception), key=lambda e: e.day)))


def without_exception(cal: BusinessCalendar, day: date) -> BusinessCalendar:
    return replace(cal, exceptions=tuple(e for e in cal.exceptions if e.day != day))


@dataclass(frozen=True)
class Outlook:
    """What a caller meets at one instant."""

    at_local: datetime
    mode: Mode
    holiday: str | None
    menu: list[tuple[str, Action]]
    incident: bool
    next_opening: datetime | None
    callbacks_allowed: bool


def outlook(profile: ServiceProfile, instant: datetime, language: str) -> Outlook:
    cal = profile.calendar
    mode = cal.mode_at(instant)
    plan = profile.plan(language)
    actions = {Mode.BUSINESS: plan.business, Mode.AFTER_HOURS: plan.after_hours,
               Mode.HOLIDAY: plan.holiday if plan.holiday is not None else plan.after_hours}[mode]
    menu = sorted((d, a) for d, a in actions.items()
                  if mode is Mode.BUSINESS or a is not Action.KEEP_WAITING)
    local = cal.local(instant)
    holiday = cal.holiday_on(local.date())
    opening = None if mode is Mode.BUSINESS else cal.next_opening(instant)
    return Outlook(local, mode, holiday.name if holiday else None, menu,
                   profile.incident.playing_at(instant),
                   cal.local(opening) if opening else None, cal.callbacks_allowed(instant))
