"""Data retention (admins): how many days recordings and transcripts are kept, for every service
and per service; the daily task in appliance.ops.retention applies it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import User
from appliance.ops.retention import Keep, RetentionPolicy, load_policy, save_policy
from appliance.ports.store import SettingVersionConflict, Store
from appliance.services.business import load_catalog
from webui.deps import AdminDep, CsrfCheck, NowDep, StoreDep, form_version
from webui.rendering import render
from webui.routes.services import CONFLICT, FormDep, text_fields

router = APIRouter(tags=["retention"], dependencies=[CsrfCheck])
MAX_DAYS = 36500  # a century: beyond it a date calculation would overflow
KINDS = ("recordings_days", "transcripts_days")
DEFAULT_ROW = "*"


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise ValueError(f"days to keep must be a whole number from 1 to {MAX_DAYS}, not {text!r}")
    return int(text)


def policy_from_form(fields: Mapping[str, str], services: Sequence[str]) -> RetentionPolicy:
    """Row `*` is every service; a service's empty field inherits it; empty at `*` keeps forever."""
    def keep(row: str) -> Keep:
        return Keep(*(_days(fields.get(f"{row}.{kind}", "")) for kind in KINDS))

    per_service = {s: keep(s) for s in services}
    return RetentionPolicy(keep(DEFAULT_ROW), {s: k for s, k in per_service.items() if k != Keep()})


def _page(request: Request, user: User, store: Store, status: int = 200,
          **extra: object) -> HTMLResponse:
    policy, version = load_policy(store)
    services = sorted(load_catalog(store).profiles)
    rows = [(DEFAULT_ROW, policy.default)] + [(s, policy.services.get(s, Keep())) for s in services]
    return render(request, "retention.html", user=user, status_code=status, rows=rows,
                  version=version, default_row=DEFAULT_ROW, max_days=MAX_DAYS, **extra)


@router.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request, user: AdminDep, store: StoreDep,
                   saved: int = 0) -> HTMLResponse:
    return _page(request, user, store, notice="Saved." if saved else None)


@router.post("/retention", response_model=None)
def save_retention(request: Request, user: AdminDep, store: StoreDep, now: NowDep,
                   form: FormDep) -> Response:
    fields = text_fields(form)
    version = form_version(fields)
    try:
        policy = policy_from_form(fields, sorted(load_catalog(store).profiles))
    except ValueError as exc:
        return _page(request, user, store, status=400, error=str(exc))
    try:
        save_policy(store, policy, expected_version=version, actor=user.username, now=now)
    except SettingVersionConflict:
        return _page(request, user, store, status=409, error=CONFLICT)
    return RedirectResponse("/retention?saved=1", status_code=303)
