"""Integration settings (admins): ODBC / SOAP / webhook targets, per-service email options and
speech models, each target's "send a test", and the static [smtp] settings with a test email.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import User
from appliance.errors import ConfigError
from appliance.ports.store import SettingVersionConflict, Store
from appliance.services.admin import audit
from appliance.services.business import load_catalog
from appliance.services.integrations import (
    EVENT_KINDS,
    Integrations,
    load_integrations,
    redacted,
    save_integrations,
    test_target,
)
from webui import integration_forms as forms
from webui.deps import AdminDep, ContextDep, CsrfCheck, NowDep, StoreDep, VersionForm, WebContext
from webui.errors import NotFound
from webui.mail_test import mail_summary, send_test_email
from webui.rendering import render
from webui.routes.services import CONFLICT, FormDep, text_fields

router = APIRouter(tags=["integrations"], dependencies=[CsrfCheck])
PAGE = "/integrations/settings"
_NOTICES = {"saved": "Saved.", "removed": "Integration target removed."}


def _page(request: Request, user: User, store: Store, context: WebContext, status: int = 200,
          **extra: Any) -> HTMLResponse:
    try:
        integrations = load_integrations(store)
    except ConfigError as exc:  # a document stored by an older version: say so, edit nothing
        integrations, extra["error"] = Integrations(), str(exc)
    services = sorted(load_catalog(store).profiles)
    doc = redacted(integrations)
    return render(
        request, "integration_settings.html", user=user, status_code=status,
        version=integrations.version, targets=doc["targets"], kinds=forms.KINDS,
        events=EVENT_KINDS, services=services, models=integrations.models,
        email={s: integrations.email_for(s) for s in services}, format_mapping=forms.format_mapping,
        smtp=mail_summary(context), can_mail=context.mailer is not None, **extra)


@router.get(PAGE, response_class=HTMLResponse)
def settings_page(request: Request, user: AdminDep, store: StoreDep, context: ContextDep,
                  msg: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    return _page(request, user, store, context, notice=_NOTICES.get(msg))


def _save(request: Request, user: User, store: Store, context: WebContext, version: int,
          document: dict[str, Any], now: NowDep, msg: str) -> Response:
    try:
        save_integrations(store, document, expected_version=version, actor=user.username, now=now)
    except ConfigError as exc:
        return _page(request, user, store, context, status=400, error=str(exc))
    except SettingVersionConflict:
        return _page(request, user, store, context, status=409, error=CONFLICT)
    return RedirectResponse(f"{PAGE}?msg={msg}", status_code=303)


@router.post("/integrations/targets", response_model=None)
def save_target(request: Request, user: AdminDep, store: StoreDep, context: ContextDep,
                now: NowDep, form: FormDep, version: VersionForm) -> Response:
    fields = text_fields(form)
    events = [e for e in form.getlist("events") if isinstance(e, str)]
    try:
        item = forms.target_from_form(fields, events)
        document = forms.with_target(load_integrations(store), item, fields.get("original", ""))
    except (ValueError, ConfigError) as exc:
        return _page(request, user, store, context, status=400, error=str(exc))
    return _save(request, user, store, context, version, document, now, "saved")


@router.post("/integrations/targets/{name}/remove", response_model=None)
def remove_target(request: Request, name: str, user: AdminDep, store: StoreDep,
                  context: ContextDep, now: NowDep, version: VersionForm) -> Response:
    stored = load_integrations(store)
    if name not in stored.targets:
        raise NotFound()
    return _save(request, user, store, context, version, forms.without_target(stored, name),
                 now, "removed")


@router.post("/integrations/options", response_model=None)
def save_options(request: Request, user: AdminDep, store: StoreDep, context: ContextDep,
                 now: NowDep, form: FormDep, version: VersionForm) -> Response:
    try:
        stored = load_integrations(store)
        document = forms.options_from_form(stored, text_fields(form),
                                           sorted(load_catalog(store).profiles))
    except (ValueError, ConfigError) as exc:
        return _page(request, user, store, context, status=400, error=str(exc))
    return _save(request, user, store, context, version, document, now, "saved")


@router.post("/integrations/targets/{name}/test", response_class=HTMLResponse)
async def test_one(request: Request, name: str, user: AdminDep, store: StoreDep,
                   context: ContextDep, now: NowDep,
                   event: Annotated[str, Form(max_length=40)] = "ticket_created") -> HTMLResponse:
    integrations = await asyncio.to_thread(load_integrations, store)
    if name not in integrations.targets:
        raise NotFound()
    result = await test_target(integrations, name, event, now=now)
    await asyncio.to_thread(audit, store, actor=user.username, action="integrations.test",
                            target=name, now=now, after={"event": event, "ok": result.ok})
    return await asyncio.to_thread(_page, request, user, store, context,
                                   test_result=result, tested=name)


@router.post("/integrations/mail-test", response_class=HTMLResponse)
async def mail_test(request: Request, user: AdminDep, store: StoreDep, context: ContextDep,
                    now: NowDep, to: Annotated[str, Form(max_length=254)] = "") -> HTMLResponse:
    try:
        result = await send_test_email(context, to, sender=user.username, now=now)
    except ValueError as exc:
        return await asyncio.to_thread(_page, request, user, store, context, status=400,
                                       error=str(exc), mail_to=to)
    await asyncio.to_thread(audit, store, actor=user.username, action="integrations.test_email",
                            target=to.strip(), now=now, after={"ok": result.ok})
    return await asyncio.to_thread(_page, request, user, store, context,
                                   test_result=result, tested="smtp", mail_to=to)
