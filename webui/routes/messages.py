"""Voicemail messages: list with filters, one message with its audio and transcript, mark handled,
CSV export. Audio is served only from inside the recordings directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from appliance.domain.records import Message
from appliance.ports.store import Store
from appliance.services.admin import audit
from webui.csv_export import csv_response
from webui.deps import CatalogDep, ContextDep, CsrfCheck, NowDep, StoreDep, UserDep, display_zone
from webui.errors import NotFound
from webui.rendering import render

router = APIRouter(tags=["messages"], dependencies=[CsrfCheck])
LIST_LIMIT = 500
Text = Annotated[str, Query(max_length=100)]


def _filtered(store: Store, service: str, handled: str, q: str) -> list[Message]:
    flag = {"yes": True, "no": False}.get(handled)
    found = store.list_messages(service=service or None, handled=flag, limit=LIST_LIMIT)
    needle = q.strip().lower()
    if needle:
        found = [m for m in found
                 if needle in m.caller.lower() or needle in (m.transcript or "").lower()]
    return found


@router.get("/messages", response_class=HTMLResponse)
def list_messages(
    request: Request, user: UserDep, store: StoreDep, catalog: CatalogDep,
    service: Text = "", handled: Text = "", q: Text = "",
) -> HTMLResponse:
    return render(request, "messages.html", user=user, zone=display_zone(catalog),
                  messages=_filtered(store, service, handled, q), services=sorted(catalog.profiles),
                  service=service, handled=handled, q=q)


@router.get("/messages.csv")
def export_messages(
    user: UserDep, store: StoreDep, service: Text = "", handled: Text = "", q: Text = "",
) -> Response:
    rows = ([m.id, m.service, m.caller, m.recorded_at.isoformat(), m.duration_s,
             m.transcript or "", m.handled_at.isoformat() if m.handled_at else "",
             m.handled_by or ""] for m in _filtered(store, service, handled, q))
    header = ["id", "service", "caller", "recorded_at", "duration_s", "transcript",
              "handled_at", "handled_by"]
    return csv_response("messages.csv", header, rows)


def _message(store: Store, message_id: str) -> Message:
    message = store.get_message(message_id)
    if message is None:
        raise NotFound()
    return message


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def show_message(
    request: Request, message_id: str, user: UserDep, store: StoreDep, catalog: CatalogDep,
    context: ContextDep, done: int = 0,
) -> HTMLResponse:
    message = _message(store, message_id)
    return render(request, "message.html", user=user, zone=display_zone(catalog),
                  message=message, audio_ok=recording_path(context.recordings, message) is not None,
                  notice="Marked as handled." if done else None)


def recording_path(recordings: Path | None, message: Message) -> Path | None:
    """The message's file, only if it resolves inside the recordings directory and exists."""
    if recordings is None or not message.path:
        return None
    root = recordings.resolve()
    candidate = Path(message.path)
    path = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@router.get("/messages/{message_id}/audio")
def message_audio(
    message_id: str, user: UserDep, store: StoreDep, context: ContextDep, download: int = 0,
) -> FileResponse:
    message = _message(store, message_id)
    path = recording_path(context.recordings, message)
    if path is None:
        raise NotFound()
    name = f"message-{message.recorded_at:%Y%m%d-%H%M%S}-{message.id[:8]}.wav"
    return FileResponse(path, media_type="audio/wav", filename=name,
                        content_disposition_type="attachment" if download else "inline")


@router.post("/messages/{message_id}/handled")
def mark_handled(message_id: str, user: UserDep, store: StoreDep, now: NowDep) -> RedirectResponse:
    message = _message(store, message_id)
    if store.mark_message_handled(message_id, by=user.username, at=now):
        audit(store, actor=user.username, action="message.handled", target=message_id, now=now,
              before={"handled_at": None}, after={"handled_by": user.username})
    return RedirectResponse(f"/messages/{message.id}?done=1", status_code=303)
