"""The web app on a real SqlStore (SQLite in tmp_path), driven through FastAPI's TestClient."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 fork; httpx (a declared dependency) still works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Role, User
from appliance.services.admin import hash_password
from webui.app import create_app
from webui.deps import WebContext

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 12:00 in Santiago
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class FakeClock:
    """Tests move time by hand (throttle windows, "today" on the dashboard)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/web.db")
    yield opened
    opened.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    (path / "recordings").mkdir(parents=True)
    return path


@pytest.fixture
def client(store: SqlStore, data_dir: Path, clock: FakeClock) -> Iterator[TestClient]:
    context = WebContext(store=store, api_token="api-token-for-tests", node="test",
                         data_dir=data_dir, clock=clock)
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def add_user(store: SqlStore, username: str, role: Role, *, must_change: bool = False) -> None:
    store.create_user(User(username=username, password_hash=hash_password(PASSWORD), role=role,
                           created_at=T0, must_change_password=must_change))


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token for later posts."""
    token = csrf_of(client)
    response = client.post("/login", data={"username": username, "password": password,
                                            "csrf": token, "next": "/"})
    assert response.status_code == 303, response.text
    return token


@pytest.fixture
def admin(client: TestClient, store: SqlStore) -> str:
    add_user(store, "ana", Role.ADMIN)
    return sign_in(client, "ana")
