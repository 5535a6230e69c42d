"""POST /api/v1/callbacks through FastAPI: both key headers, status codes for created, merged,
refused, unauthorised and rate-limited requests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette wants httpx2, which is not installable here; httpx still works for in-process calls
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.service_profile import ServiceProfile
from appliance.services.business import save_profile
from appliance.services.callback_requests import CallbackRequests, RateLimiter, issue_api_key
from webui.deps import WebContext
from webui.routes import callbacks_api

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    save_profile(opened, ServiceProfile(name="default"), expected_version=0, actor="t", now=NOW)
    yield opened
    opened.close()


@pytest.fixture
def client(store: SqlStore) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.context = WebContext(store=store, api_token="admin-token", node="n1",
                                   clock=lambda: NOW)
    app.state.callback_requests = CallbackRequests(
        store, limiter=RateLimiter(per_minute=1, burst=3))
    app.include_router(callbacks_api.router)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def key(store: SqlStore) -> str:
    return issue_api_key(store, "website", NOW)[1]


def test_created_then_merged_with_either_header(client: TestClient, key: str) -> None:
    first = client.post("/api/v1/callbacks", json={"number": "912345678"},
                        headers={"Authorization": f"Bearer {key}"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "scheduled" and len(body["ticket"]) >= 2
    assert body["due_at"] == NOW.isoformat()
    again = client.post("/api/v1/callbacks", json={"number": "+56912345678"},
                        headers={"X-Api-Key": key})
    assert again.status_code == 200
    assert again.json() | {"status": "scheduled"} == body


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"X-Api-Key": "nope"}, 401),
     ({"Authorization": "Basic eDp5"}, 401)],
)
def test_unauthorised(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.post("/api/v1/callbacks", json={"number": "912345678"}, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == "unauthorised"


def test_the_admin_token_is_not_an_api_key(client: TestClient) -> None:
    response = client.post("/api/v1/callbacks", json={"number": "912345678"},
                           headers={"Authorization": "Bearer admin-token"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"number": "+34911234567"}, 422, "number_international"),
        ({"number": "912345678", "service": "ghost"}, 422, "unknown_service"),
        ({"number": "912345678", "request_type": "x"}, 422, "unknown_request_type"),
        ({"number": "912345678", "extra": 1}, 422, None),  # schema: unknown field
        ({}, 422, None),
    ],
)
def test_refused(client: TestClient, key: str, payload: dict[str, object], status: int,
                 error: str | None) -> None:
    response = client.post("/api/v1/callbacks", json=payload, headers={"X-Api-Key": key})
    assert response.status_code == status
    if error is not None:
        assert response.json()["error"] == error


def test_rate_limited_per_key(client: TestClient, store: SqlStore, key: str) -> None:
    codes = [client.post("/api/v1/callbacks", json={"number": f"91234567{n}"},
                         headers={"X-Api-Key": key}).status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]
    limited = client.post("/api/v1/callbacks", json={"number": "912345670"},
                          headers={"X-Api-Key": key})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    other = issue_api_key(store, "app", NOW)[1]
    assert client.post("/api/v1/callbacks", json={"number": "987654321"},
                       headers={"X-Api-Key": other}).status_code == 201
