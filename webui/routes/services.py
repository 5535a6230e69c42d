"""Services and their menus (admins), and the incident announcement switch (supervisors)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from appliance.domain.menu_model import Action
from appliance.domain.records import User
from appliance.domain.service_profile import Incident, ServiceProfile, always_open
from appliance.ports.store import SettingVersionConflict, Store
from appliance.services.business import ServiceCatalog, load_catalog, save_profile
from webui.deps import (
    AdminDep,
    CatalogDep,
    CsrfCheck,
    NowDep,
    StoreDep,
    SupervisorDep,
    VersionForm,
    form_version,
)
from webui.errors import NotFound
from webui.forms import local_input, parse_local
from webui.rendering import render
from webui.service_forms import DIGITS, MODES, check_service_name, profile_from_form

router = APIRouter(tags=["services"], dependencies=[CsrfCheck])
CONFLICT = "Someone else saved these settings meanwhile: reload the page and redo your change."


async def _form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]


def text_fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def get_profile(catalog: ServiceCatalog, name: str) -> ServiceProfile:
    profile = catalog.profiles.get(name)
    if profile is None:
        raise NotFound()
    return profile


def save(store: Store, profile: ServiceProfile, version: int, user: User, now: NowDep) -> str | None:
    """Save, or the message to show when someone else saved first."""
    try:
        save_profile(store, profile, expected_version=version, actor=user.username, now=now)
    except SettingVersionConflict:
        return CONFLICT
    return None


@router.get("/services", response_class=HTMLResponse)
def list_services(request: Request, user: SupervisorDep, catalog: CatalogDep,
                  now: NowDep) -> HTMLResponse:
    return render(request, "services.html", user=user, now=now, version=catalog.version,
                  services=sorted(catalog.profiles.values(), key=lambda p: p.name))


@router.post("/services", response_model=None)
def add_service(
    request: Request, user: AdminDep, store: StoreDep, catalog: CatalogDep, now: NowDep,
    name: Annotated[str, Form()], version: VersionForm,
) -> Response:
    try:
        check_service_name(name)
        if name in catalog.profiles:
            raise ValueError("a service with this name exists")
    except ValueError as exc:
        return render(request, "services.html", user=user, now=now, version=catalog.version,
                      status_code=400, error=str(exc),
                      services=sorted(catalog.profiles.values(), key=lambda p: p.name))
    default = catalog.profiles.get("default")
    profile = ServiceProfile(name=name, calendar=default.calendar if default else always_open())
    problem = save(store, profile, version, user, now)
    return RedirectResponse(f"/services/{name}" if problem is None else "/services", status_code=303)


def _menus_page(request: Request, user: User, profile: ServiceProfile, version: int,
                status: int = 200, **extra: object) -> HTMLResponse:
    return render(request, "service.html", user=user, status_code=status, profile=profile,
                  version=version, digits=DIGITS, modes=MODES,
                  actions=[a.value for a in Action], **extra)


@router.get("/services/{name}", response_class=HTMLResponse)
def show_service(request: Request, name: str, user: AdminDep, catalog: CatalogDep,
                 saved: int = 0) -> HTMLResponse:
    return _menus_page(request, user, get_profile(catalog, name), catalog.version,
                       notice="Saved." if saved else None)


@router.post("/services/{name}", response_model=None)
def save_service(
    request: Request, name: str, user: AdminDep, store: StoreDep, now: NowDep, form: FormDep,
) -> Response:
    catalog = load_catalog(store)
    profile = get_profile(catalog, name)
    fields = text_fields(form)
    version = form_version(fields)
    try:
        changed = profile_from_form(profile, fields)
    except ValueError as exc:
        return _menus_page(request, user, profile, version, status=400, error=str(exc))
    problem = save(store, changed, version, user, now)
    if problem:
        return _menus_page(request, user, profile, catalog.version, status=409, error=problem)
    return RedirectResponse(f"/services/{name}?saved=1", status_code=303)


@router.get("/services/{name}/incident", response_class=HTMLResponse)
def incident_form(request: Request, name: str, user: SupervisorDep, catalog: CatalogDep,
                  now: NowDep, saved: int = 0) -> HTMLResponse:
    profile = get_profile(catalog, name)
    return render(request, "incident.html", user=user, profile=profile, version=catalog.version,
                  now=now, expires=local_input(profile.incident.expires_at, profile.calendar.timezone),
                  notice="Saved." if saved else None)


@router.post("/services/{name}/incident", response_model=None)
def incident_save(
    request: Request, name: str, user: SupervisorDep, store: StoreDep, now: NowDep,
    version: VersionForm, text: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "", expires_at: Annotated[str, Form()] = "",
    prompt: Annotated[str, Form()] = "",
) -> Response:
    catalog = load_catalog(store)
    profile = get_profile(catalog, name)
    try:
        expires = parse_local(expires_at, profile.calendar.timezone) if expires_at.strip() else None
        if active and expires is not None and expires <= now:
            raise ValueError("the expiry time is already past")
    except ValueError as exc:
        return render(request, "incident.html", user=user, profile=profile, version=version,
                      now=now, expires=expires_at, status_code=400, error=str(exc))
    incident = Incident(active=bool(active), prompt=prompt.strip() or profile.incident.prompt,
                        text=text.strip()[:500], expires_at=expires)
    problem = save(store, replace(profile, incident=incident), version, user, now)
    if problem:
        return render(request, "incident.html", user=user, profile=profile, version=catalog.version,
                      now=now, expires=expires_at, status_code=409, error=problem)
    return RedirectResponse(f"/services/{name}/incident?saved=1", status_code=303)
