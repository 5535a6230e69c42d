"""The outbox over the JSON API: every delivery job with its status, attempts and last error, and a
supervisor system's replay / cancel. Bearer token (webui.deps.ApiAuth); each change is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from appliance.domain.records import JobStatus, OutboxJob
from appliance.services.admin import audit
from webui.deps import ApiAuth, NowDep, StoreDep

router = APIRouter(prefix="/api/v1/outbox", tags=["api"], dependencies=[ApiAuth])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]  # within SQL integer range
API_ACTOR = "api"


def job_view(job: OutboxJob) -> dict[str, Any]:
    """What a job shows: never its payload (recipients and caller numbers stay in the UI)."""
    return {
        "id": job.id, "kind": job.kind, "status": job.status.value, "attempts": job.attempts,
        "last_error": job.last_error, "due_at": job.due_at.isoformat(),
        "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat(),
        "target": job.payload.get("target"), "event_kind": job.payload.get("event_kind"),
    }


@router.get("")
def list_outbox(
    store: StoreDep, status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None, limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    return [job_view(j) for j in store.list_jobs(status_, kind=kind, limit=limit, offset=offset)]


@router.get("/{job_id}")
def get_job(job_id: str, store: StoreDep) -> dict[str, Any]:
    job = store.get_job(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    return job_view(job)


def _act(action: str, job_id: str, store: StoreDep, now: NowDep) -> dict[str, Any]:
    job = store.get_job(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    done = (store.replay_job(job_id, now=now) if action == "replay"
            else store.cancel_job(job_id, now=now))
    if not done:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"a {job.status.value} job cannot be {action}ed")
    audit(store, actor=API_ACTOR, action=f"outbox.{action}", target=job_id, now=now,
          before={"status": job.status.value, "kind": job.kind, "last_error": job.last_error},
          after={"status": "pending" if action == "replay" else "cancelled"})
    updated = store.get_job(job_id)
    return job_view(updated if updated is not None else job)


@router.post("/{job_id}/replay")
def replay(job_id: str, store: StoreDep, now: NowDep) -> dict[str, Any]:
    """A failed, cancelled or done job runs again now, its attempts counted from zero."""
    return _act("replay", job_id, store, now)


@router.post("/{job_id}/cancel")
def cancel(job_id: str, store: StoreDep, now: NowDep) -> dict[str, Any]:
    """A job not yet done stops; a worker running it loses its fence and settles nothing."""
    return _act("cancel", job_id, store, now)
