"""A service's calendar: weekly hours, holidays (by hand or imported), date exceptions, and the
"what happens at ...?" checker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.adapters.holidays_import import as_calendar_holidays, import_holidays
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.hours import DateException, Holiday, Weekday
from appliance.domain.records import User
from appliance.domain.service_profile import ServiceProfile
from appliance.errors import ConfigError
from appliance.services.business import load_catalog
from webui import calendar_view as cv
from webui.deps import (
    AdminDep,
    CatalogDep,
    CsrfCheck,
    LangDep,
    NowDep,
    StoreDep,
    VersionForm,
    form_version,
)
from webui.forms import format_ranges, local_input, parse_date, parse_local, parse_ranges
from webui.i18n import translator
from webui.rendering import render
from webui.routes.services import FormDep, get_profile, save, text_fields

router = APIRouter(tags=["calendar"], dependencies=[CsrfCheck])
FormStr = Annotated[str, Form()]
_NOTICES = {"saved": "Saved."}


def _page(request: Request, user: User, profile: ServiceProfile, version: int, now: datetime,
          lang: str, at: str = "", status: int = 200, **extra: object) -> HTMLResponse:
    cal = profile.calendar
    instant = now
    if at:
        try:
            instant = parse_local(at, cal.timezone)
        except ValueError as exc:
            extra.setdefault("error", str(exc))
    language = lang if lang in profile.plans else profile.default_language
    return render(request, "calendar.html", user=user, status_code=status, profile=profile,
                  version=version, cal=cal, weekdays=list(Weekday),
                  week={d.key: format_ranges(cal.weekly[d]) for d in Weekday},
                  ranges_text=format_ranges, at=at or local_input(now, cal.timezone),
                  outlook=cv.outlook(profile, instant, language), year=now.year, **extra)


@router.get("/services/{name}/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, name: str, user: AdminDep, catalog: CatalogDep,
                  now: NowDep, lang: LangDep, at: str = "", msg: str = "",
                  count: int = 0) -> HTMLResponse:
    profile = get_profile(catalog, name)
    notice = (translator(lang)("Imported {count} holidays.", count=count) if msg == "imported"
              else _NOTICES.get(msg))
    return _page(request, user, profile, catalog.version, now, lang, at, notice=notice)


def _edit(
    request: Request, name: str, user: User, store: StoreDep, now: datetime, lang: str,
    version: int, change: Callable[[BusinessCalendar], BusinessCalendar], msg: str = "saved",
) -> Response:
    catalog = load_catalog(store)
    profile = get_profile(catalog, name)
    try:
        changed = replace(profile, calendar=change(profile.calendar))
    except (ValueError, ConfigError) as exc:
        return _page(request, user, profile, version, now, lang, status=400, error=str(exc))
    problem = save(store, changed, version, user, now)
    if problem:
        return _page(request, user, profile, catalog.version, now, lang, status=409, error=problem)
    return RedirectResponse(f"/services/{name}/calendar?msg={msg}", status_code=303)


@router.post("/services/{name}/calendar/week", response_model=None)
def save_week(request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep,
              lang: LangDep, form: FormDep) -> Response:
    fields = text_fields(form)
    version = form_version(fields)
    return _edit(request, name, user, store, now, lang, version,
                 lambda cal: cv.with_week(cal, fields))


@router.post("/services/{name}/calendar/holidays", response_model=None)
def add_holiday(request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep,
                lang: LangDep, version: VersionForm, day: FormStr,
                holiday_name: FormStr, behaves_like: Annotated[str, Form()] = "sunday") -> Response:
    def change(cal: BusinessCalendar) -> BusinessCalendar:
        if cal.holiday_on(parse_date(day)) is not None:
            raise ValueError("there is already a holiday on that date")
        holiday = Holiday(parse_date(day), holiday_name.strip()[:100], cv.behaviour(behaves_like))
        return cv.with_holidays(cal, [holiday])[0]

    return _edit(request, name, user, store, now, lang, version, change)


@router.post("/services/{name}/calendar/holidays/remove", response_model=None)
def remove_holiday(request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep,
                   lang: LangDep, version: VersionForm, day: FormStr) -> Response:
    return _edit(request, name, user, store, now, lang, version,
                 lambda cal: cv.without_holiday(cal, parse_date(day)))


@router.post("/services/{name}/calendar/holidays/import", response_model=None)
def import_country(
    request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep, lang: LangDep,
    version: VersionForm, country: FormStr, year: Annotated[int, Form()],
    subdiv: Annotated[str, Form()] = "", behaves_like: Annotated[str, Form()] = "sunday",
) -> Response:
    added = [0]

    def change(cal: BusinessCalendar) -> BusinessCalendar:
        if not 2000 <= year <= 2100:
            raise ValueError("choose a year between 2000 and 2100")
        pairs = import_holidays(country.strip(), [year], language=lang,
                                subdiv=subdiv.strip() or None)
        changed, added[0] = cv.with_holidays(
            cal, as_calendar_holidays(pairs, cv.behaviour(behaves_like)))
        return changed

    response = _edit(request, name, user, store, now, lang, version, change)
    if isinstance(response, RedirectResponse):
        return RedirectResponse(f"/services/{name}/calendar?msg=imported&count={added[0]}",
                                status_code=303)
    return response


@router.post("/services/{name}/calendar/exceptions", response_model=None)
def add_exception(request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep,
                  lang: LangDep, version: VersionForm, day: FormStr,
                  ranges: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    return _edit(request, name, user, store, now, lang, version, lambda cal: cv.with_exception(
        cal, DateException(parse_date(day), parse_ranges(ranges), note.strip()[:200])))


@router.post("/services/{name}/calendar/exceptions/remove", response_model=None)
def remove_exception(request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep,
                     lang: LangDep, version: VersionForm, day: FormStr) -> Response:
    return _edit(request, name, user, store, now, lang, version,
                 lambda cal: cv.without_exception(cal, parse_date(day)))
