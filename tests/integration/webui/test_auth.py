"""Who may open what: sign-in, sessions, CSRF, roles, throttling and the first admin."""

from __future__ import annotations

import base64
import json
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Role
from appliance.services.admin import INITIAL_PASSWORD_FILE, ensure_first_admin
from tests.integration.webui.conftest import (
    PASSWORD,
    T0,
    FakeClock,
    TestClient,
    add_user,
    csrf_of,
    sign_in,
)
from webui.sessions import SESSION_COOKIE

# Probes for load balancers and Prometheus are public, as /healthz is.
_PUBLIC = {"/login", "/healthz", "/readyz", "/metrics"}


def _page_paths(client: TestClient, method: str) -> list[str]:
    paths = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if method.lower() not in operations or path in _PUBLIC or path.startswith("/api/"):
            continue
        paths.append(re.sub(r"\{[^}]+\}", "x", path))
    return sorted(set(paths))


def test_every_page_without_a_session_redirects_to_sign_in(client: TestClient) -> None:
    paths = _page_paths(client, "GET")
    assert len(paths) >= 15
    for path in paths:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path


def test_every_form_post_without_a_session_redirects_to_sign_in(client: TestClient) -> None:
    token = csrf_of(client)
    for path in _page_paths(client, "POST"):
        if path in ("/logout", "/lang"):
            continue
        response = client.post(path, data={"csrf": token})
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path


@pytest.mark.parametrize("resource", ["messages", "tickets", "calls"])
def test_the_api_without_the_token_is_401_and_with_it_200(client: TestClient, resource: str) -> None:
    assert client.get(f"/api/v1/{resource}").status_code == 401
    ok = client.get(f"/api/v1/{resource}", headers={"Authorization": "Bearer api-token-for-tests"})
    assert ok.status_code == 200
    assert ok.json() == []


def test_health_needs_no_session(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    client.get("/login")
    refused = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert refused.status_code == 403
    assert SESSION_COOKIE not in refused.cookies
    token = sign_in(client, "ana")
    for data in ({"name": "sales", "version": "0"},
                 {"name": "sales", "version": "0", "csrf": "forged"}):
        assert client.post("/services", data=data).status_code == 403
    assert client.post("/services", data={"name": "sales", "version": "0",
                                           "csrf": token}).status_code == 303


def test_a_csrf_token_from_another_browser_is_refused(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = sign_in(client, "ana")
    client.cookies.set("desborde_csrf", "attacker-chosen-nonce")
    assert client.post("/services", data={"name": "x", "version": "0",
                                           "csrf": token}).status_code == 403


def test_cookies_are_httponly_and_samesite_lax(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    first = client.get("/login")
    assert "httponly" in first.headers["set-cookie"].lower()
    token = csrf_of(client)
    response = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token})
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE)
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


@pytest.mark.parametrize("path", ["/users", "/services/default", "/services/default/calendar",
                                  "/services/default/prompts", "/integrations", "/audit",
                                  "/services/default/incident"])
def test_staff_cannot_open_admin_or_supervisor_pages(
    client: TestClient, store: SqlStore, path: str
) -> None:
    add_user(store, "sam", Role.STAFF)
    sign_in(client, "sam")
    response = client.get(path)
    assert response.status_code == 403
    assert "No tiene permiso" in response.text


def test_supervisors_reach_incidents_and_the_outbox_but_not_users(
    client: TestClient, store: SqlStore
) -> None:
    add_user(store, "sue", Role.SUPERVISOR)
    sign_in(client, "sue")
    assert client.get("/services/default/incident").status_code == 200
    assert client.get("/integrations").status_code == 200
    assert client.get("/users").status_code == 403
    assert client.get("/services/default/calendar").status_code == 403


def test_the_sixth_wrong_password_in_a_minute_is_throttled(
    client: TestClient, store: SqlStore, clock: FakeClock
) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = csrf_of(client)
    for _ in range(5):
        wrong = client.post("/login", data={"username": "ana", "password": "nope", "csrf": token})
        assert wrong.status_code == 401
    sixth = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token})
    assert sixth.status_code == 429
    assert "espere un minuto" in sixth.text
    clock.now = T0 + timedelta(seconds=61)
    assert client.post("/login", data={"username": "ana", "password": PASSWORD,
                                        "csrf": token}).status_code == 303


def test_wrong_passwords_spread_over_minutes_are_not_throttled(
    client: TestClient, store: SqlStore, clock: FakeClock
) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = csrf_of(client)
    for i in range(8):
        clock.now = T0 + timedelta(seconds=20 * i)
        status = client.post("/login", data={"username": "ana", "password": "nope",
                                              "csrf": token}).status_code
        assert status == 401, i


def test_the_first_admin_gets_a_one_time_password_and_must_change_it(
    client: TestClient, store: SqlStore, data_dir: Path
) -> None:
    shown: list[str] = []
    password = ensure_first_admin(store, data_dir, now=T0, announce=shown.append)
    assert password is not None and password in shown[0]
    path = data_dir / INITIAL_PASSWORD_FILE
    assert path.read_text().strip() == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_first_admin(store, data_dir, now=T0) is None

    token = csrf_of(client)
    signed = client.post("/login", data={"username": "admin", "password": password, "csrf": token})
    assert signed.headers["location"] == "/account/password"
    assert client.get("/messages").headers["location"] == "/account/password"
    short = client.post("/account/password", data={"current": password, "new": "short",
                                                   "repeat": "short", "csrf": token})
    assert short.status_code == 400
    changed = client.post("/account/password", data={
        "current": password, "new": "a much better one", "repeat": "a much better one",
        "csrf": token})
    assert changed.status_code == 303
    assert client.get("/messages").status_code == 200
    assert [e.action for e in store.list_audit()] == ["user.password", "user.create"]


def test_a_password_change_ends_other_sessions(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = sign_in(client, "ana")
    old_cookie = client.cookies.get(SESSION_COOKIE)
    client.post("/account/password", data={"current": PASSWORD, "new": "another password!",
                                           "repeat": "another password!", "csrf": token})
    assert client.get("/").status_code == 200
    client.cookies.set(SESSION_COOKIE, old_cookie or "")
    assert client.get("/").status_code == 303


def test_a_tampered_or_disabled_session_is_refused(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    add_user(store, "sam", Role.STAFF)
    sign_in(client, "sam")
    good = client.cookies.get(SESSION_COOKIE) or ""
    body, mac = good.rsplit(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["u"] == "sam"
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "u": "ana"}).encode()).decode()
    client.cookies.set(SESSION_COOKIE, f"{forged.rstrip('=')}.{mac}")
    assert client.get("/").status_code == 303
    client.cookies.set(SESSION_COOKIE, good)
    assert client.get("/").status_code == 200
    store.update_user("sam", disabled=True)
    assert client.get("/").status_code == 303


def test_sign_out_ends_the_session(client: TestClient, store: SqlStore) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = sign_in(client, "ana")
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_sign_in_never_redirects_off_site(client: TestClient, store: SqlStore, target: str) -> None:
    add_user(store, "ana", Role.ADMIN)
    token = csrf_of(client)
    response = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                           "csrf": token, "next": target})
    assert response.headers["location"] == "/"


def test_the_secure_flag_is_set_when_configured(store: SqlStore, data_dir: Path) -> None:
    from webui.app import create_app
    from webui.deps import WebContext

    context = WebContext(store=store, api_token="t", node="n", data_dir=data_dir,
                         secure_cookies=True)
    add_user(store, "ana", Role.ADMIN)
    with TestClient(create_app(context), base_url="https://testserver",
                    follow_redirects=False) as secure:
        token = csrf_of(secure)
        response = secure.post("/login", data={"username": "ana", "password": PASSWORD,
                                               "csrf": token})
        assert "secure" in response.headers["set-cookie"].lower()
