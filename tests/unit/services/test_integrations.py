"""Integrations as business settings: validation, the stored round trip with versions, secrets kept
out of the audit trail and of reprs, and the routing of events to targets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.errors import ConfigError
from appliance.ports.store import SettingVersionConflict
from appliance.services import integrations as integ
from appliance.services.integrations import (
    MASK,
    EmailOptions,
    OdbcTarget,
    SoapTarget,
    WebhookTarget,
    load_integrations,
    parse_integrations,
    redacted,
    save_integrations,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
INSERT = "INSERT INTO t (event_id, ticket) VALUES (:event_id, :ticket)"


def document() -> dict[str, Any]:
    return {
        "targets": [
            {"name": "erp", "kind": "odbc", "connection": "Driver={SQLite3};Database=x;Pwd=odbc-pw",
             "statements": {"ticket_created": INSERT}},
            {"name": "crm", "kind": "soap", "wsdl_url": "http://crm/?wsdl", "username": "u",
             "password": "soap-pw", "transient_fault_codes": ["Server", "Client.Busy"],
             "operations": {"ticket_created": {"operation": "CreateTicket",
                                               "fields": {"ticket_number": "ticket"}},
                            "message_left": {"operation": "CreateTicket",
                                             "fields": {"ticket_number": "ticket"}}}},
            {"name": "hook", "kind": "webhook", "url": "https://hooks.example/x",
             "secret": "hook-pw", "events": ["message_left"]},
        ],
        "email": {"default": {"sample_width": 1, "transcript_wait_s": 20},
                  "sales": {"sample_width": 2, "transcript_wait_s": 0}},
        "models": {"es": "/opt/vosk/es"},
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    yield s
    s.close()


def test_document_parses_into_typed_targets_and_routes_events() -> None:
    integrations = parse_integrations(document())
    erp, crm = integrations.targets["erp"], integrations.targets["crm"]
    assert isinstance(erp, OdbcTarget) and isinstance(crm, SoapTarget)
    assert crm.transient_fault_codes == ("Server", "Client.Busy")
    assert integrations.targets_for("ticket_created") == ["crm", "erp"]
    assert integrations.targets_for("message_left") == ["crm", "hook"]
    assert integrations.targets_for("callback_finished") == []
    assert integrations.email_for("sales") == EmailOptions(2, 0.0)
    assert integrations.email_for("support") == EmailOptions(1, 20.0)  # falls back to "default"
    assert parse_integrations({}).email_for("x") == EmailOptions()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["targets"][0]["statements"].update(ticket_created="INSERT :nope"), "nope"),
        (lambda d: d["targets"][0]["statements"].update(call_made=INSERT), "call_made"),
        (lambda d: d["targets"][0].update(connection=""), "connection is required"),
        (lambda d: d["targets"][1]["operations"]["ticket_created"]["fields"].update(a="zzz"),
         "zzz"),
        (lambda d: d["targets"][2].update(url="ftp://x"), "http"),
        (lambda d: d["targets"][2].update(kind="fax"), "fax"),
        (lambda d: d["targets"][2].update(name="erp"), "unique"),
        (lambda d: d["targets"][2].update(name="a b"), "letters"),
        (lambda d: d["email"]["sales"].update(sample_width=3), "sample_width"),
        (lambda d: d["email"]["sales"].update(transcript_wait_s=-1), "transcript_wait_s"),
        (lambda d: d["targets"][1].update(timeout_s=0), "timeout_s"),
        (lambda d: d.update(targets=[{"kind": "odbc"}]), "name"),
    ],
)
def test_invalid_documents_are_refused_with_the_reason(change: Any, words: str) -> None:
    doc = document()
    change(doc)
    with pytest.raises(ConfigError, match=words):
        parse_integrations(doc)


def test_secrets_stay_out_of_reprs_and_the_redacted_view() -> None:
    integrations = parse_integrations(document())
    shown = repr(integrations) + json.dumps(redacted(integrations))
    for secret in ("odbc-pw", "soap-pw", "hook-pw"):
        assert secret not in shown
    assert redacted(integrations)["targets"][1]["password"] == MASK


def test_saved_with_versions_audited_without_secrets(store: SqlStore) -> None:
    assert load_integrations(store).version == 0
    first = save_integrations(store, document(), expected_version=0, actor="ana", now=NOW)
    assert first.version == 1 and load_integrations(store) == first
    with pytest.raises(SettingVersionConflict):
        save_integrations(store, document(), expected_version=0, actor="bob", now=NOW)
    [entry] = store.list_audit()
    assert (entry.actor, entry.action, entry.before) == ("ana", "integrations.save", None)
    assert "pw" not in json.dumps(entry.after)


def test_a_masked_or_empty_secret_keeps_the_stored_one(store: SqlStore) -> None:
    save_integrations(store, document(), expected_version=0, actor="ana", now=NOW)
    edit = redacted(load_integrations(store))  # what a form shows: every secret masked
    edit["targets"][1]["password"] = ""
    edit["targets"][2]["url"] = "https://hooks.example/y"
    saved = save_integrations(store, edit, expected_version=1, actor="ana", now=NOW)
    crm, hook, erp = (saved.targets[n] for n in ("crm", "hook", "erp"))
    assert isinstance(crm, SoapTarget) and crm.password == "soap-pw"
    assert isinstance(erp, OdbcTarget) and erp.connection.endswith("Pwd=odbc-pw")
    assert isinstance(hook, WebhookTarget) and hook.secret == "hook-pw"
    assert hook.url.endswith("/y")


async def test_testing_an_unknown_target_or_event_says_so_without_raising() -> None:
    integrations = parse_integrations(document())
    missing = await integ.test_target(integrations, "nope", "ticket_created", now=NOW)
    assert not missing.ok and "nope" in missing.text
    unhandled = await integ.test_target(integrations, "erp", "message_left", now=NOW)
    assert not unhandled.ok and "message_left" in unhandled.text
