"""Calls: list with filters, one call's event timeline, CSV export."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from appliance.domain.records import Call, CallQuery
from appliance.ports.store import Store
from webui.csv_export import csv_response
from webui.deps import CatalogDep, StoreDep, UserDep, display_zone
from webui.errors import NotFound
from webui.forms import parse_date
from webui.rendering import render
from webui.reports import start_of_day

router = APIRouter(tags=["calls"])
LIST_LIMIT = 500
Text = Annotated[str, Query(max_length=100)]


def _day_bounds(day: str, zone: str) -> tuple[datetime | None, datetime | None]:
    """A local calendar day as [start, end) instants; anything unparsable means "any day"."""
    try:
        picked = parse_date(day)
    except ValueError:
        return None, None
    since = start_of_day(datetime.combine(picked, time(12), ZoneInfo(zone)), zone)
    return since, since + timedelta(days=1)


def _filtered(store: Store, zone: str, service: str, outcome: str, caller: str,
              day: str) -> list[Call]:
    since, until = _day_bounds(day, zone) if day else (None, None)
    query = CallQuery(service=service or None, outcome=outcome or None,
                      caller=caller or None, since=since, until=until)
    return store.list_calls(query, limit=LIST_LIMIT)


@router.get("/calls", response_class=HTMLResponse)
def list_calls(
    request: Request, user: UserDep, store: StoreDep, catalog: CatalogDep,
    service: Text = "", outcome: Text = "", caller: Text = "", day: Text = "",
) -> HTMLResponse:
    zone = display_zone(catalog)
    return render(request, "calls.html", user=user, zone=zone,
                  calls=_filtered(store, zone, service, outcome, caller, day),
                  services=sorted(catalog.profiles), service=service, outcome=outcome,
                  caller=caller, day=day)


@router.get("/calls.csv")
def export_calls(
    user: UserDep, store: StoreDep, catalog: CatalogDep,
    service: Text = "", outcome: Text = "", caller: Text = "", day: Text = "",
) -> Response:
    calls = _filtered(store, display_zone(catalog), service, outcome, caller, day)
    header = ["id", "service", "caller", "dialled", "mode", "language", "started_at",
              "ended_at", "outcome", "node"]
    rows = ([c.id, c.service, c.caller, c.dialled, c.mode, c.language, c.started_at.isoformat(),
             c.ended_at.isoformat() if c.ended_at else "", c.outcome or "", c.node] for c in calls)
    return csv_response("calls.csv", header, rows)


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def show_call(
    request: Request, call_id: str, user: UserDep, store: StoreDep, catalog: CatalogDep,
) -> HTMLResponse:
    found = store.get_call(call_id)
    if found is None:
        raise NotFound()
    call, events = found
    return render(request, "call.html", user=user, zone=display_zone(catalog), call=call,
                  events=[(e, (e.at - call.started_at).total_seconds()) for e in events])
