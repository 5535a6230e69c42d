"""Schemathesis against the app's own OpenAPI schema: generated requests to every operation, on a
real SqlStore, signed in as an admin with valid CSRF tokens and API credentials; no answer may be 5xx.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # schemathesis imports pieces that warn about their own deprecations at import time, and
    # Starlette 1.x warns that its TestClient prefers the httpx2 fork.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    import schemathesis
    from fastapi.testclient import TestClient
    from schemathesis.checks import not_a_server_error
    from schemathesis.core import NOT_SET
    from schemathesis.generation.case import Case
    from schemathesis.schemas import BaseSchema

from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.config import SmtpSettings
from appliance.domain.records import Role
from appliance.ports.telephony import EngineStatus
from appliance.services.callback_requests import issue_api_key
from appliance.services.integrations import save_integrations
from appliance.services.status import StatusService, disk_check, store_check
from tests.integration.webui.conftest import T0, FakeClock, add_user, seed, sign_in
from webui.app import create_app
from webui.deps import WebContext
from webui.sessions import CSRF_COOKIE, SESSION_COOKIE

API_TOKEN = "api-token-for-schemathesis"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Credentials:
    cookies: dict[str, str]  # an admin's session and the browser's CSRF nonce
    csrf: str  # the form token matching that nonce
    api_key: str  # a callbacks API key
    known: dict[str, str]  # path parameter -> an id or name that exists


@dataclass(frozen=True)
class Fuzzed:
    schema: BaseSchema
    credentials: Credentials


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Fuzzed]:
    store = SqlStore.open(f"sqlite:///{tmp_path}/web.db")
    data_dir = tmp_path / "var"
    (data_dir / "recordings").mkdir(parents=True)
    seeded = seed(store, data_dir / "recordings")
    context = WebContext(store=store, api_token=API_TOKEN, node="fuzz", data_dir=data_dir,
                         clock=FakeClock(), mailer=SpoolMailer(data_dir / "mail"),
                         smtp=SmtpSettings(), engine_status=lambda: EngineStatus("trunk"))
    # A target named like the known service, so "send a test" runs (refused at once by port 9).
    save_integrations(store, {"targets": [{"name": "default", "kind": "webhook", "secret": "s",
                                           "url": "http://127.0.0.1:9/hook"}]},
                      expected_version=0, actor="fuzz", now=T0)
    app = create_app(context)
    # /readyz answers 503 by design when a check fails: wire real checks that pass here.
    app.state.ops_status = StatusService([store_check(store.ping), disk_check(data_dir, 1)])
    add_user(store, "ana", Role.ADMIN)
    with TestClient(app, follow_redirects=False) as client:
        csrf = sign_in(client, "ana")
        cookies = {name: str(client.cookies[name]) for name in (SESSION_COOKIE, CSRF_COOKIE)}
    _, api_key = issue_api_key(store, "fuzz", T0)
    add_user(store, "bea", Role.STAFF)
    known = {"name": "default", "lang": "es", "prompt": "agents_busy", "username": "bea",
             "message_id": seeded.message_id, "ticket_id": seeded.ticket_id,
             "callback_id": seeded.callback_id, "job_id": seeded.job_id, "call_id": seeded.call_id}
    yield Fuzzed(schemathesis.openapi.from_asgi("/openapi.json", app),
                 Credentials(cookies, csrf, api_key, known))
    store.close()


@pytest.fixture
def schema(fuzzed: Fuzzed) -> BaseSchema:
    return fuzzed.schema


@pytest.fixture
def credentials(fuzzed: Fuzzed) -> Credentials:
    return fuzzed.credentials


lazy_schema = schemathesis.pytest.from_fixture("schema")


def aim(case: Case[Any], known: dict[str, str]) -> None:
    """Half the cases address rows that exist: random ids alone would only ever meet a 404."""
    for key, value in (case.path_parameters or {}).items():
        if key in known and len(str(value)) % 2 == 0:
            case.path_parameters[key] = known[key]


def authorise(case: Case[Any], credentials: Credentials) -> dict[str, Any]:
    """Credentials for the case: bearer token, API key, or the admin's cookies and form token."""
    headers: dict[str, Any] = {}
    if case.path == "/api/v1/callbacks":
        headers["X-Api-Key"] = credentials.api_key
    elif case.path.startswith("/api/v1/"):
        headers["Authorization"] = f"Bearer {API_TOKEN}"
    if case.method.upper() == "POST":
        if isinstance(case.body, dict):
            case.body["csrf"] = credentials.csrf
        elif case.body is NOT_SET:
            case.body, case.media_type = {"csrf": credentials.csrf}, FORM
    return headers


@lazy_schema.parametrize()
@settings(max_examples=60, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case: Case[Any], credentials: Credentials) -> None:
    aim(case, credentials.known)
    headers = authorise(case, credentials)
    response = case.call(headers=headers, cookies=credentials.cookies)
    case.validate_response(response, checks=[not_a_server_error])
