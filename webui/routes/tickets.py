"""Tickets: list with filters, close (mark handled), CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import Ticket, TicketStatus
from appliance.ports.store import Store
from appliance.services.admin import audit
from webui.csv_export import csv_response
from webui.deps import CatalogDep, CsrfCheck, NowDep, StoreDep, UserDep, display_zone
from webui.errors import NotFound
from webui.rendering import render

router = APIRouter(tags=["tickets"], dependencies=[CsrfCheck])
LIST_LIMIT = 500
Text = Annotated[str, Query(max_length=100)]


def _filtered(store: Store, service: str, status: str, q: str) -> list[Ticket]:
    found = store.list_tickets(service=service or None, limit=LIST_LIMIT)
    if status:
        found = [tk for tk in found if tk.status.value == status]
    needle = q.strip().lower()
    if needle:
        found = [tk for tk in found if any(needle in (v or "").lower() for v in
                 (tk.number, tk.caller, tk.customer_id, tk.callback_number, tk.request_type))]
    return found


@router.get("/tickets", response_class=HTMLResponse)
def list_tickets(
    request: Request, user: UserDep, store: StoreDep, catalog: CatalogDep,
    service: Text = "", status: Text = "", q: Text = "",
) -> HTMLResponse:
    return render(request, "tickets.html", user=user, zone=display_zone(catalog),
                  tickets=_filtered(store, service, status, q), services=sorted(catalog.profiles),
                  statuses=[s.value for s in TicketStatus], service=service, status=status, q=q)


@router.get("/tickets.csv")
def export_tickets(
    user: UserDep, store: StoreDep, service: Text = "", status: Text = "", q: Text = "",
) -> Response:
    header = ["number", "service", "caller", "created_at", "status", "callback_number",
              "request_type", "customer_id", "call_id"]
    rows = ([tk.number, tk.service, tk.caller, tk.created_at.isoformat(), tk.status.value,
             tk.callback_number, tk.request_type, tk.customer_id, tk.call_id]
            for tk in _filtered(store, service, status, q))
    return csv_response("tickets.csv", header, rows)


@router.post("/tickets/{ticket_id}/close")
def close_ticket(ticket_id: str, user: UserDep, store: StoreDep, now: NowDep) -> RedirectResponse:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise NotFound()
    if store.set_ticket_status(ticket_id, TicketStatus.CLOSED):
        audit(store, actor=user.username, action="ticket.close", target=ticket.number, now=now,
              before={"status": ticket.status.value}, after={"status": TicketStatus.CLOSED.value})
    return RedirectResponse("/tickets", status_code=303)
