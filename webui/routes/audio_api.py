"""A message's recording over the JSON API, for internal systems: the WAV as recorded, served only
from inside the recordings directory (a path stored elsewhere is refused, never followed)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from webui.deps import ApiAuth, ContextDep, StoreDep

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[ApiAuth])


def recording_path(stored: str, recordings: Path) -> Path | None:
    """The recording's real path if it lies inside `recordings` (symlinks resolved), else None."""
    root = recordings.resolve()
    path = Path(stored).resolve()
    return path if path.is_relative_to(root) else None


@router.get("/messages/{message_id}/audio")
def message_audio(message_id: str, store: StoreDep, context: ContextDep) -> FileResponse:
    message = store.get_message(message_id)
    if message is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such message")
    recordings = context.recordings
    if recordings is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "recordings are not served by this node")
    path = recording_path(message.path, recordings)
    if path is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "recording lies outside the recordings dir")
    if not path.is_file():
        raise HTTPException(status.HTTP_410_GONE, "the recording was deleted (retention)")
    return FileResponse(path, media_type="audio/wav", filename=f"message-{message.id}.wav")
