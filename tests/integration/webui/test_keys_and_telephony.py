"""API keys for the callbacks API (created once-shown, used, revoked) and the dashboard's SIP state."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from starlette.exceptions import StarletteDeprecationWarning

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Role
from appliance.errors import SipError
from appliance.ports.telephony import EngineStatus
from tests.integration.webui.conftest import FakeClock, add_user, sign_in
from webui.app import create_app
from webui.deps import WebContext

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # prefers the httpx2 fork
    from fastapi.testclient import TestClient

_KEY = re.compile(r'<code id="new-key">([^<]+)</code>')
CALLBACK = {"number": "+56221234567", "service": "default"}


def test_an_api_key_is_shown_once_works_and_stops_working_when_revoked(
    client: TestClient, admin: str, store: SqlStore
) -> None:
    created = client.post("/api-keys", data={"csrf": admin, "name": "  web   site "})
    assert created.status_code == 200
    found = _KEY.search(created.text)
    assert found
    plain = found.group(1)
    listing = client.get("/api-keys").text
    assert plain not in listing and "web site" in listing
    (key,) = store.list_api_keys()
    assert key.hash != plain and not key.revoked

    # The key opens the API: a refusal from here on is about the request, never the key.
    answer = client.post("/api/v1/callbacks", json=CALLBACK, headers={"X-Api-Key": plain})
    assert answer.status_code != 401, answer.text
    wrong = client.post("/api/v1/callbacks", json=CALLBACK, headers={"X-Api-Key": plain + "x"})
    assert wrong.status_code == 401

    revoked = client.post(f"/api-keys/{key.id}/revoke", data={"csrf": admin})
    assert revoked.status_code == 303
    assert store.list_api_keys()[0].revoked
    after = client.post("/api/v1/callbacks", json=CALLBACK, headers={"X-Api-Key": plain})
    assert after.status_code == 401
    actions = [e.action for e in store.list_audit(limit=10)]
    assert "api_key.create" in actions and "api_key.revoke" in actions
    assert plain not in str([(e.before, e.after) for e in store.list_audit(limit=10)])


def test_api_keys_need_a_name_and_an_admin(
    client: TestClient, admin: str, store: SqlStore
) -> None:
    assert client.post("/api-keys", data={"csrf": admin, "name": "   "}).status_code == 400
    assert client.post("/api-keys/nope/revoke", data={"csrf": admin}).status_code == 404
    assert store.list_api_keys() == []
    add_user(store, "sue", Role.SUPERVISOR)
    token = sign_in(client, "sue")
    assert client.get("/api-keys").status_code == 403
    assert client.post("/api-keys", data={"csrf": token, "name": "x"}).status_code == 403


def _dashboard(store: SqlStore, data_dir: Path, status: object) -> str:
    context = WebContext(store=store, api_token="t", node="test", data_dir=data_dir,
                         clock=FakeClock(), engine_status=status)  # type: ignore[arg-type]
    with TestClient(create_app(context), follow_redirects=False) as client:
        if store.get_user("ana") is None:
            add_user(store, "ana", Role.ADMIN)
        token = sign_in(client, "ana")
        client.post("/lang", data={"lang": "en", "csrf": token})
        page = client.get("/")
        assert page.status_code == 200
        text: str = page.text
        return text


def test_the_dashboard_shows_registrations_and_channels(store: SqlStore, data_dir: Path) -> None:
    status = EngineStatus(mode="register", active_channels=3, max_channels=30,
                          registrations={"sip:600@pbx.example": "registered",
                                         "sip:601@pbx.example": "failed"})
    page = _dashboard(store, data_dir, lambda: status)
    assert '<strong id="sip-mode">registration</strong>' in page
    assert '<strong id="channels">3 / 30</strong>' in page
    assert re.search(r"sip:600@pbx.example</td><td><span class=\"badge done\">registered", page)
    assert re.search(r"sip:601@pbx.example</td><td><span class=\"badge failed\">failed", page)


def test_the_dashboard_says_when_the_engine_state_is_unknown(
    store: SqlStore, data_dir: Path
) -> None:
    def broken() -> EngineStatus:
        raise SipError("engine stopped")

    for status in (None, broken):
        page = _dashboard(store, data_dir, status)
        assert "The SIP engine&#39;s state is not available" in page
    trunk = _dashboard(store, data_dir, lambda: EngineStatus(mode="trunk", max_channels=8))
    assert '<strong id="sip-mode">SIP trunk</strong>' in trunk and "0 / 8" in trunk
