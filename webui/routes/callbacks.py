"""Callbacks: list with filters, cancel, reschedule or call now, CSV export."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import Callback, CallbackStatus, new_id
from appliance.ports.store import Store
from appliance.services.admin import audit
from webui.csv_export import csv_response
from webui.deps import CatalogDep, CsrfCheck, NowDep, StoreDep, UserDep, display_zone
from webui.errors import NotFound
from webui.forms import parse_local
from webui.rendering import render

router = APIRouter(tags=["callbacks"], dependencies=[CsrfCheck])
LIST_LIMIT = 500
Text = Annotated[str, Query(max_length=100)]


def _filtered(store: Store, service: str, status: str) -> list[Callback]:
    chosen = CallbackStatus(status) if status in CallbackStatus.__members__.values() else None
    return store.list_callbacks(status=chosen, service=service or None, limit=LIST_LIMIT)


@router.get("/callbacks", response_class=HTMLResponse)
def list_callbacks(
    request: Request, user: UserDep, store: StoreDep, catalog: CatalogDep,
    service: Text = "", status: Text = "", msg: Text = "",
) -> HTMLResponse:
    return render(request, "callbacks.html", user=user, zone=display_zone(catalog),
                  callbacks=_filtered(store, service, status), services=sorted(catalog.profiles),
                  statuses=[s.value for s in CallbackStatus], service=service, status=status,
                  notice=_NOTICES.get(msg))


_NOTICES = {"cancelled": "Callback cancelled.", "moved": "Callback rescheduled.",
            "stale": "That callback is no longer waiting.",
            "badtime": "Choose a date and time to reschedule."}


@router.get("/callbacks.csv")
def export_callbacks(user: UserDep, store: StoreDep, service: Text = "", status: Text = "") -> Response:
    header = ["id", "service", "number", "status", "due_at", "attempts", "created_at",
              "closed_at", "ticket_id"]
    rows = ([c.id, c.service, c.number, c.status.value, c.due_at.isoformat(), c.attempts,
             c.created_at.isoformat(), c.closed_at.isoformat() if c.closed_at else "", c.ticket_id]
            for c in _filtered(store, service, status))
    return csv_response("callbacks.csv", header, rows)


def _callback(store: Store, callback_id: str) -> Callback:
    callback = store.get_callback(callback_id)
    if callback is None:
        raise NotFound()
    return callback


@router.post("/callbacks/{callback_id}/cancel")
def cancel(callback_id: str, user: UserDep, store: StoreDep, now: NowDep) -> RedirectResponse:
    callback = _callback(store, callback_id)
    if not store.cancel_callback(callback_id, now=now):
        return RedirectResponse("/callbacks?msg=stale", status_code=303)
    audit(store, actor=user.username, action="callback.cancel", target=callback_id, now=now,
          before={"status": callback.status.value}, after={"status": "cancelled"})
    return RedirectResponse("/callbacks?msg=cancelled", status_code=303)


@router.post("/callbacks/{callback_id}/reschedule")
def reschedule(
    callback_id: str, user: UserDep, store: StoreDep, catalog: CatalogDep, now: NowDep,
    due_at: Annotated[str, Form()] = "", call_now: Annotated[str, Form()] = "",
) -> RedirectResponse:
    callback = _callback(store, callback_id)
    try:
        when = now if call_now else parse_local(due_at, display_zone(catalog))
    except ValueError:
        return RedirectResponse("/callbacks?msg=badtime", status_code=303)
    if callback.status is not CallbackStatus.OPEN:
        return RedirectResponse("/callbacks?msg=stale", status_code=303)
    moved = move_callback(store, callback, when, now=now)
    if moved is None:
        return RedirectResponse("/callbacks?msg=stale", status_code=303)
    audit(store, actor=user.username, action="callback.reschedule", target=callback_id, now=now,
          before={"id": callback.id, "due_at": callback.due_at.isoformat()},
          after={"id": moved.id, "due_at": moved.due_at.isoformat()})
    return RedirectResponse("/callbacks?msg=moved", status_code=303)


def move_callback(store: Store, callback: Callback, due_at: datetime, *, now: datetime) -> Callback | None:
    """The store has no "set due_at": the waiting callback is cancelled and reopened at the new
    time with its ticket, number and attempt count. None when a dialler claimed it first."""
    if not store.cancel_callback(callback.id, now=now):
        return None
    fresh = replace(callback, id=new_id(), due_at=due_at, created_at=now,
                    status=CallbackStatus.OPEN, claimed_by=None, lease_until=None, closed_at=None)
    saved, _merged = store.create_or_merge_callback(fresh)
    return saved
