"""The integration settings page against real peers: an SQLite database through unixODBC, a spyne
SOAP service, an HTTP receiver for webhooks, aiosmtpd for the test email and the .eml spool.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.exceptions import StarletteDeprecationWarning

from appliance.adapters.mail.smtp import SmtpMailer
from appliance.adapters.mail.smtp import SmtpSettings as RelaySettings
from appliance.adapters.mail.spool import SpoolMailer
from appliance.adapters.store.sql_store import SqlStore
from appliance.config import SmtpSettings
from appliance.domain.records import Role
from appliance.services.integrations import load_integrations
from tests.integration.webui.conftest import FakeClock, add_user, sign_in, webhook_receiver
from tests.support.odbc import quiet_odbc, sqlite_conn_str
from tests.support.smtp import free_port, smtp_server
from tests.support.soap_server import soap_server
from webui.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # prefers the httpx2 fork
    from fastapi.testclient import TestClient
from webui.deps import WebContext

SECRET = "whsec-very-secret-value"
ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(store: SqlStore, data_dir: Path, clock: FakeClock) -> Iterator[ClientFactory]:
    """A signed-in admin's client (English pages) on an app whose context gets the extra fields."""
    opened: list[TestClient] = []

    def make(**extra: Any) -> TestClient:
        context = WebContext(store=store, api_token="api-token-for-tests", node="test",
                             data_dir=data_dir, clock=clock, **extra)
        client = TestClient(create_app(context), follow_redirects=False)
        client.__enter__()
        opened.append(client)
        if store.get_user("ana") is None:
            add_user(store, "ana", Role.ADMIN)
        token = sign_in(client, "ana")
        client.headers["x-test-csrf"] = token  # where csrf() finds it; the app ignores it
        assert client.post("/lang", data={"lang": "en", "csrf": token}).status_code == 303
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def csrf(client: TestClient) -> str:
    return str(client.headers["x-test-csrf"])


def post(client: TestClient, path: str, **data: Any) -> Any:
    version = load_integrations(client.app.state.context.store).version  # type: ignore[attr-defined]
    return client.post(path, data={"csrf": csrf(client), "version": str(version), **data})


def test_a_webhook_target_is_saved_its_secret_never_shown_and_its_test_is_signed(
    make_client: ClientFactory, store: SqlStore
) -> None:
    client = make_client()
    with webhook_receiver() as receiver:
        saved = post(client, "/integrations/targets", kind="webhook", name="crm",
                     url=receiver.url, secret=SECRET, timeout_s="5",
                     events=["ticket_created", "message_left"])
        assert saved.status_code == 303, saved.text
        page = client.get("/integrations/settings").text
        assert SECRET not in page and receiver.url in page
        # Saving again with the secret left empty keeps it (the form never had it).
        again = post(client, "/integrations/targets", kind="webhook", name="crm", original="crm",
                     url=receiver.url, secret="", timeout_s="7", events=["ticket_created"])
        assert again.status_code == 303, again.text
        target = load_integrations(store).targets["crm"]
        assert target.secret == SECRET and target.timeout_s == 7.0  # type: ignore[union-attr]
        assert SECRET not in str([e.after for e in store.list_audit(limit=10)])

        tested = client.post("/integrations/targets/crm/test",
                             data={"csrf": csrf(client), "event": "ticket_created"})
        assert tested.status_code == 200
        assert "webhook crm: the signed ping was accepted" in tested.text
        headers, body = receiver.seen[-1]
        expected = hmac.new(SECRET.encode(), headers["x-desborde-timestamp"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        assert headers["x-desborde-signature"] == f"sha256={expected}"

        receiver.status = 410
        failed = client.post("/integrations/targets/crm/test",
                             data={"csrf": csrf(client), "event": "ticket_created"})
        assert 'class="error" id="test-result"' in failed.text and "410" in failed.text


def test_an_odbc_test_runs_the_statement_and_rolls_it_back(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    quiet_odbc()
    db = tmp_path / "desk.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE tickets (event_id TEXT, ticket TEXT, caller TEXT)")
    client = make_client()
    insert = "INSERT INTO tickets (event_id, ticket, caller) VALUES (:event_id, :ticket, :caller)"
    saved = post(client, "/integrations/targets", kind="odbc", name="desk",
                 connection=sqlite_conn_str(db), **{"stmt.ticket_created": insert,
                                                    "stmt.message_left": "INSERT INTO nowhere (x) VALUES (:ticket)"})
    assert saved.status_code == 303, saved.text
    page = client.get("/integrations/settings").text
    assert str(db) not in page  # the connection string may carry a password: never shown

    ok = client.post("/integrations/targets/desk/test",
                     data={"csrf": csrf(client), "event": "ticket_created"})
    assert "ODBC desk: the ticket_created statement ran and was rolled back" in ok.text
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM tickets").fetchone() == (0,)

    bad = client.post("/integrations/targets/desk/test",
                      data={"csrf": csrf(client), "event": "message_left"})
    assert 'class="error" id="test-result"' in bad.text and "nowhere" in bad.text


def test_a_soap_test_makes_the_real_call(make_client: ClientFactory) -> None:
    client = make_client()
    mapping = ("ticket_number = ticket\nphone = callback_number\ncaller_id = caller\n"
               "created_at = created_at\nkind = kind")
    with soap_server() as (wsdl, desk):
        saved = post(client, "/integrations/targets", kind="soap", name="helpdesk",
                     wsdl_url=wsdl, username="", password="", timeout_s="5",
                     transient_fault_codes="Server",
                     **{"op.ticket_created": "CreateTicket", "fields.ticket_created": mapping})
        assert saved.status_code == 303, saved.text
        tested = client.post("/integrations/targets/helpdesk/test",
                             data={"csrf": csrf(client), "event": "ticket_created"})
    assert "SOAP helpdesk: CreateTicket accepted the call" in tested.text
    assert [t["ticket_number"] for t in desk.tickets] == ["TEST-0000"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "ftp", "name": "x"}, "choose ODBC, SOAP or webhook"),
    ({"kind": "webhook", "name": "x", "url": "ftp://x", "secret": "s"}, "must start with http"),
    ({"kind": "webhook", "name": "bad name", "url": "http://x", "secret": "s"}, "letters, digits"),
    ({"kind": "odbc", "name": "x", "connection": "DSN=x",
      "stmt.ticket_created": "INSERT INTO t VALUES (:nope)"}, "nope"),
    ({"kind": "soap", "name": "x", "wsdl_url": "http://x", "op.ticket_created": "Op",
      "fields.ticket_created": "no equals sign"}, "parameter = field"),
    ({"kind": "webhook", "name": "x", "url": "http://x", "secret": "s", "timeout_s": "nan"},
     "timeout_s"),
])
def test_a_wrong_target_is_refused_with_the_reason(
    make_client: ClientFactory, store: SqlStore, fields: dict[str, str], message: str
) -> None:
    client = make_client()
    refused = post(client, "/integrations/targets", **fields)
    assert refused.status_code == 400
    assert message in refused.text
    assert load_integrations(store).version == 0


def test_targets_are_renamed_removed_and_names_stay_unique(
    make_client: ClientFactory, store: SqlStore
) -> None:
    client = make_client()
    hook = {"kind": "webhook", "url": "http://127.0.0.1:9/x", "events": ["ticket_created"]}
    assert post(client, "/integrations/targets", name="a", secret="sa", **hook).status_code == 303
    assert post(client, "/integrations/targets", name="b", secret="sb", **hook).status_code == 303
    clash = post(client, "/integrations/targets", name="a", secret="x", **hook)
    assert clash.status_code == 400 and "with this name exists" in clash.text
    renamed = post(client, "/integrations/targets", name="c", original="b", secret="", **hook)
    assert renamed.status_code == 303
    targets = load_integrations(store).targets
    assert sorted(targets) == ["a", "c"] and targets["c"].secret == "sb"  # type: ignore[union-attr]
    assert post(client, "/integrations/targets/a/remove").status_code == 303
    assert sorted(load_integrations(store).targets) == ["c"]
    assert post(client, "/integrations/targets/zz/remove").status_code == 404
    stale = client.post("/integrations/targets/c/remove", data={"csrf": csrf(client), "version": "1"})
    assert stale.status_code == 409


def test_email_options_and_speech_models_are_saved(
    make_client: ClientFactory, store: SqlStore
) -> None:
    client = make_client()
    saved = post(client, "/integrations/options", **{
        "email.default.sample_width": "2", "email.default.transcript_wait_s": "45",
        "new_model_lang": "es", "new_model_path": "/opt/vosk/es"})
    assert saved.status_code == 303, saved.text
    stored = load_integrations(store)
    assert stored.email_for("default").sample_width == 2
    assert stored.email_for("default").transcript_wait_s == 45.0
    assert stored.models == {"es": "/opt/vosk/es"}
    removed = post(client, "/integrations/options", **{"model.es": ""})
    assert removed.status_code == 303 and load_integrations(store).models == {}
    wrong = post(client, "/integrations/options", **{"email.default.transcript_wait_s": "9999"})
    assert wrong.status_code == 400 and "between 0 and 600" in wrong.text


def test_the_test_email_goes_through_a_real_relay(make_client: ClientFactory) -> None:
    with smtp_server() as server:
        relay = RelaySettings(host="127.0.0.1", port=server.port, security="none", timeout_s=5)
        client = make_client(mailer=SmtpMailer(relay), smtp=SmtpSettings(
            host="127.0.0.1", port=server.port, security="none", username="vm",
            password=SecretStr("relay-password"), from_address="centralita@example.com"))
        page = client.get("/integrations/settings").text
        assert f"127.0.0.1:{server.port}" in page and "relay-password" not in page
        sent = client.post("/integrations/mail-test",
                           data={"csrf": csrf(client), "to": "desk@example.com"})
        assert "the relay accepted the test email to desk@example.com" in sent.text
        (envelope, message), = server.sink.messages
    assert envelope.rcpt_tos == ["desk@example.com"]
    assert message["From"] == "centralita@example.com"
    assert message["Subject"] == "Desborde test email (test)"


def test_the_test_email_reports_a_relay_that_is_down(make_client: ClientFactory) -> None:
    port = free_port()  # nothing listens there
    client = make_client(
        mailer=SmtpMailer(RelaySettings(host="127.0.0.1", port=port, security="none", timeout_s=3)),
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none"))
    sent = client.post("/integrations/mail-test", data={"csrf": csrf(client), "to": "a@b.example"})
    assert 'class="error" id="test-result"' in sent.text
    assert "the relay accepted" not in sent.text


def test_without_a_relay_the_test_email_lands_in_the_spool(
    make_client: ClientFactory, data_dir: Path
) -> None:
    client = make_client(mailer=SpoolMailer(data_dir / "mail"), smtp=SmtpSettings())
    page = client.get("/integrations/settings").text
    assert str(data_dir / "mail") in page
    sent = client.post("/integrations/mail-test", data={"csrf": csrf(client), "to": "d@x.example"})
    assert "written to the mail spool" in sent.text
    spooled = list((data_dir / "mail").glob("*.eml"))
    assert len(spooled) == 1 and b"To: d@x.example" in spooled[0].read_bytes()


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b.example\r\nBcc: x@y.example",
                                     "Ana <a@b.example>", "a@b.example, c@d.example"])
def test_a_bad_test_address_is_refused(
    make_client: ClientFactory, data_dir: Path, address: str
) -> None:
    client = make_client(mailer=SpoolMailer(data_dir / "mail"), smtp=SmtpSettings())
    sent = client.post("/integrations/mail-test", data={"csrf": csrf(client), "to": address})
    assert sent.status_code in (400, 422)
    assert not (data_dir / "mail").exists()


def test_only_admins_open_the_settings(client: TestClient, store: SqlStore) -> None:
    add_user(store, "sue", Role.SUPERVISOR)
    token = sign_in(client, "sue")
    assert client.get("/integrations/settings").status_code == 403
    assert client.post("/integrations/mail-test",
                       data={"csrf": token, "to": "a@b.example"}).status_code == 403
    assert 'id="settings-link"' not in client.get("/integrations").text
