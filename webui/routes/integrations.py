"""Integrations: the outbox (email, ODBC, SOAP, webhook, transcription jobs) with replay and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from appliance.domain.records import JobStatus
from appliance.services.admin import audit
from webui.deps import CatalogDep, CsrfCheck, NowDep, StoreDep, SupervisorDep, display_zone
from webui.errors import NotFound
from webui.rendering import render

router = APIRouter(tags=["integrations"], dependencies=[CsrfCheck])
LIST_LIMIT = 300
Text = Annotated[str, Query(max_length=40)]
_NOTICES = {"replayed": "The job will run again now.", "cancelled": "Job cancelled.",
            "stale": "The job changed meanwhile; nothing was done."}


@router.get("/integrations", response_class=HTMLResponse)
def outbox(
    request: Request, user: SupervisorDep, store: StoreDep, catalog: CatalogDep,
    status: Text = "", kind: Text = "", msg: Text = "",
) -> HTMLResponse:
    chosen = JobStatus(status) if status in JobStatus.__members__.values() else None
    return render(request, "integrations.html", user=user, zone=display_zone(catalog),
                  jobs=store.list_jobs(chosen, kind=kind or None, limit=LIST_LIMIT),
                  stats=store.outbox_stats(), statuses=[s.value for s in JobStatus],
                  status=status, kind=kind, notice=_NOTICES.get(msg))


def _act(action: str, job_id: str, user: str, store: StoreDep, now: NowDep) -> RedirectResponse:
    job = store.get_job(job_id)
    if job is None:
        raise NotFound()
    done = (store.replay_job(job_id, now=now) if action == "replay"
            else store.cancel_job(job_id, now=now))
    if not done:
        return RedirectResponse("/integrations?msg=stale", status_code=303)
    audit(store, actor=user, action=f"outbox.{action}", target=job_id, now=now,
          before={"status": job.status.value, "kind": job.kind, "last_error": job.last_error},
          after={"status": "pending" if action == "replay" else "cancelled"})
    return RedirectResponse(
        f"/integrations?msg={'replayed' if action == 'replay' else 'cancelled'}", status_code=303)


@router.post("/integrations/jobs/{job_id}/replay")
def replay(job_id: str, user: SupervisorDep, store: StoreDep, now: NowDep) -> RedirectResponse:
    return _act("replay", job_id, user.username, store, now)


@router.post("/integrations/jobs/{job_id}/cancel")
def cancel(job_id: str, user: SupervisorDep, store: StoreDep, now: NowDep) -> RedirectResponse:
    return _act("cancel", job_id, user.username, store, now)
