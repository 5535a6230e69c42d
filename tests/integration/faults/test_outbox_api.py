"""The outbox and audio JSON API on the real store: jobs with status, attempts and last error;
replay and cancel (audited, refused when they make no sense); a message's WAV only from inside
the recordings directory; the bearer token on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Message, OutboxJob, new_id
from webui.deps import WebContext
from webui.routes import audio_api, outbox_api

TOKEN = "api-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
async def client(store: SqlStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.context = WebContext(store=store, api_token=TOKEN, node="test",
                                   recordings_dir=tmp_path / "recordings", clock=lambda: NOW)
    app.include_router(outbox_api.router)
    app.include_router(audio_api.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desborde") as c:
        yield c


def failed_job(store: SqlStore) -> OutboxJob:
    job = OutboxJob(new_id(), "voicemail", {"message_id": "m"}, NOW, NOW, NOW)
    store.enqueue([job])
    [claimed] = store.claim_due_jobs(NOW, "w", limit=1, lease=timedelta(minutes=1))
    assert store.fail_job(claimed.id, "w", "delivery-permanent: SMTP 550 mailbox unavailable",
                          now=NOW)
    return job


async def test_jobs_listed_with_status_attempts_and_error(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    job = failed_job(store)
    assert (await client.get("/api/v1/outbox")).status_code == 401
    [shown] = (await client.get("/api/v1/outbox", headers=AUTH)).json()
    assert (shown["id"], shown["status"], shown["attempts"]) == (job.id, "failed", 1)
    assert "550 mailbox unavailable" in shown["last_error"]
    assert "payload" not in shown
    assert (await client.get("/api/v1/outbox?status=pending", headers=AUTH)).json() == []
    assert (await client.get("/api/v1/outbox?status=bogus", headers=AUTH)).status_code == 422


async def test_replay_then_cancel_are_audited_and_refused_when_meaningless(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    job = failed_job(store)
    replayed = (await client.post(f"/api/v1/outbox/{job.id}/replay", headers=AUTH))
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    assert replayed.json()["attempts"] == 0
    assert (await client.post(f"/api/v1/outbox/{job.id}/replay", headers=AUTH)).status_code == 409
    cancelled = await client.post(f"/api/v1/outbox/{job.id}/cancel", headers=AUTH)
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.post("/api/v1/outbox/nope/cancel", headers=AUTH)).status_code == 404
    actions = [(e.actor, e.action, e.target) for e in store.list_audit()]
    assert sorted(actions) == [("api", "outbox.cancel", job.id), ("api", "outbox.replay", job.id)]


def message_at(store: SqlStore, path: Path) -> Message:
    message = Message(new_id(), "call", "default", "+56912345678", NOW, 1.0, str(path), 10)
    store.save_message(message)
    return message


async def test_audio_is_served_from_the_recordings_dir_only(
    client: httpx.AsyncClient, store: SqlStore, tmp_path: Path
) -> None:
    inside = tmp_path / "recordings" / "2026" / "a.wav"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"RIFF....WAVEdata")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"not yours")
    sneaky = tmp_path / "recordings" / ".." / "secret.wav"
    good, bad, dotted = (message_at(store, p) for p in (inside, outside, sneaky))

    served = (await client.get(f"/api/v1/messages/{good.id}/audio", headers=AUTH))
    assert served.status_code == 200 and served.content == inside.read_bytes()
    assert served.headers["content-type"] == "audio/wav"
    assert (await client.get(f"/api/v1/messages/{good.id}/audio")).status_code == 401
    for message in (bad, dotted):
        refused = await client.get(f"/api/v1/messages/{message.id}/audio", headers=AUTH)
        assert refused.status_code == 403
    inside.unlink()
    assert (await client.get(f"/api/v1/messages/{good.id}/audio", headers=AUTH)).status_code == 410
    assert (await client.get("/api/v1/messages/nope/audio", headers=AUTH)).status_code == 404
