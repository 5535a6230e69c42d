"""The audit log: who changed what, when, with the value before and after."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from webui.deps import CatalogDep, StoreDep, SupervisorDep, display_zone
from webui.rendering import render

router = APIRouter(tags=["audit"])
PAGE = 100
MAX_PAGE = 10**6  # bounds the SQL offset: a forged page number cannot overflow it


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, user: SupervisorDep, store: StoreDep, catalog: CatalogDep,
    actor: Annotated[str, Query(max_length=64)] = "", page: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
) -> HTMLResponse:
    entries = store.list_audit(actor=actor or None, limit=PAGE + 1, offset=page * PAGE)
    return render(request, "audit.html", user=user, zone=display_zone(catalog),
                  entries=entries[:PAGE], more=len(entries) > PAGE, page=page, actor=actor)
