"""Pages with data: both languages, escaping, audio, CSV, and the actions staff take."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import CallbackStatus, JobStatus, Role, TicketStatus
from appliance.services.admin import audit
from tests.integration.webui.conftest import (
    EVIL,
    PASSWORD,
    T0,
    Seeded,
    TestClient,
    add_user,
    sign_in,
)

PAGES = ["/", "/messages", "/tickets", "/callbacks", "/calls", "/services", "/services/default",
         "/services/default/calendar", "/services/default/prompts", "/services/default/incident",
         "/integrations", "/integrations/settings", "/api-keys", "/retention", "/users", "/audit",
         "/account/password"]


@pytest.mark.parametrize(("lang", "words"), [("es", ["Panel", "Mensajes", "Cerrar sesión"]),
                                             ("en", ["Dashboard", "Messages", "Sign out"])])
def test_every_page_renders_in_both_languages(
    client: TestClient, admin: str, seeded: Seeded, lang: str, words: list[str]
) -> None:
    assert client.post("/lang", data={"lang": lang, "csrf": admin}).status_code == 303
    detail = [f"/messages/{seeded.message_id}", f"/calls/{seeded.call_id}"]
    for path in PAGES + detail:
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{lang}">' in page.text, path
        for word in words:
            assert word in page.text, (path, word)


def test_spanish_is_the_default_and_the_table_covers_the_dashboard(
    client: TestClient, admin: str
) -> None:
    page = client.get("/").text
    for english in ("Calls today", "Open messages", "Calls by day", "Deliveries queued"):
        assert english not in page
    assert "Llamadas hoy" in page


@pytest.mark.parametrize("path", ["/messages", "/tickets", "/calls", "/integrations", "/audit"])
def test_caller_provided_text_is_escaped(
    client: TestClient, admin: str, seeded: Seeded, path: str, store: SqlStore
) -> None:
    audit(store, actor="ana", action="service.save", target=EVIL, now=T0, after={"text": EVIL})
    pages = [client.get(path).text, client.get(f"/messages/{seeded.message_id}").text,
             client.get(f"/calls/{seeded.call_id}").text]
    for text in pages:
        assert "<script>alert" not in text
    assert "&lt;script&gt;" in pages[0] or "\\u003cscript\\u003e" in pages[0]


def test_a_message_plays_downloads_and_is_marked_handled(
    client: TestClient, admin: str, seeded: Seeded, store: SqlStore
) -> None:
    page = client.get(f"/messages/{seeded.message_id}")
    assert f'src="/messages/{seeded.message_id}/audio"' in page.text
    audio = client.get(f"/messages/{seeded.message_id}/audio")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    assert audio.headers["content-disposition"].startswith("inline")
    download = client.get(f"/messages/{seeded.message_id}/audio?download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    done = client.post(f"/messages/{seeded.message_id}/handled", data={"csrf": admin})
    assert done.status_code == 303
    message = store.get_message(seeded.message_id)
    assert message is not None and message.handled_by == "ana"
    assert store.list_audit()[0].action == "message.handled"


def test_audio_outside_the_recordings_directory_is_not_served(
    client: TestClient, admin: str, seeded: Seeded, store: SqlStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF-not-yours")
    message = store.get_message(seeded.message_id)
    assert message is not None
    for path in (str(secret), "../../secret.wav", "/etc/passwd"):
        store.save_message(replace(message, id=f"evil{abs(hash(path))}", path=path))
        assert client.get(f"/messages/evil{abs(hash(path))}/audio").status_code == 404, path


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize(("path", "column"), [("/messages.csv", "transcript"),
                                              ("/tickets.csv", "customer_id"),
                                              ("/calls.csv", "caller"),
                                              ("/callbacks.csv", "number")])
def test_csv_exports_have_a_header_and_the_rows(
    client: TestClient, admin: str, seeded: Seeded, path: str, column: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response.text)
    assert column in rows[0]
    assert len(rows) == 2


def test_csv_cells_cannot_become_spreadsheet_formulas(
    client: TestClient, admin: str, seeded: Seeded, store: SqlStore
) -> None:
    message = store.get_message(seeded.message_id)
    assert message is not None
    store.save_message(replace(message, id="formula", caller="=HYPERLINK(\"http://x\")"))
    rows = _rows(client.get("/messages.csv?q=hyperlink").text)
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"


def test_filters_narrow_the_lists(client: TestClient, admin: str, seeded: Seeded) -> None:
    assert "+56911111111" in client.get("/messages?q=hola").text
    assert "+56911111111" not in client.get("/messages?q=nothing-like-this").text
    assert "+56911111111" not in client.get("/messages?handled=yes").text
    assert "10004" in client.get("/tickets?status=open").text
    assert "10004" not in client.get("/tickets?status=closed").text
    assert "message_left" not in client.get("/calls?outcome=ticket_created").text
    assert len(_rows(client.get("/calls.csv?day=2026-03-02").text)) == 2
    assert len(_rows(client.get("/calls.csv?day=2026-03-01").text)) == 1


def test_staff_close_tickets_and_cancel_callbacks(
    client: TestClient, store: SqlStore, seeded: Seeded
) -> None:
    add_user(store, "sam", Role.STAFF)
    token = sign_in(client, "sam")
    assert client.post(f"/tickets/{seeded.ticket_id}/close", data={"csrf": token}).status_code == 303
    ticket = store.get_ticket(seeded.ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED
    cancelled = client.post(f"/callbacks/{seeded.callback_id}/cancel", data={"csrf": token})
    assert cancelled.headers["location"] == "/callbacks?msg=cancelled"
    callback = store.get_callback(seeded.callback_id)
    assert callback is not None and callback.status is CallbackStatus.CANCELLED
    again = client.post(f"/callbacks/{seeded.callback_id}/cancel", data={"csrf": token})
    assert again.headers["location"] == "/callbacks?msg=stale"
    actions = [e.action for e in store.list_audit()]
    assert actions == ["callback.cancel", "ticket.close"]
    assert store.list_audit()[0].before == {"status": "open"}


def test_a_callback_is_rescheduled_or_called_now(
    client: TestClient, admin: str, seeded: Seeded, store: SqlStore
) -> None:
    moved = client.post(f"/callbacks/{seeded.callback_id}/reschedule",
                        data={"csrf": admin, "due_at": "2026-03-03T10:30"})
    assert moved.headers["location"] == "/callbacks?msg=moved"
    open_now = store.list_callbacks(status=CallbackStatus.OPEN)
    assert len(open_now) == 1
    assert open_now[0].due_at.isoformat() == "2026-03-03T13:30:00+00:00"  # 10:30 in Santiago
    assert open_now[0].ticket_id == seeded.ticket_id
    client.post(f"/callbacks/{open_now[0].id}/reschedule", data={"csrf": admin, "call_now": "1"})
    latest = store.list_callbacks(status=CallbackStatus.OPEN)
    assert latest[0].due_at.isoformat() == "2026-03-02T15:00:00+00:00"
    bad = client.post(f"/callbacks/{latest[0].id}/reschedule", data={"csrf": admin, "due_at": ""})
    assert bad.headers["location"] == "/callbacks?msg=badtime"


def test_failed_jobs_are_replayed_and_cancelled(
    client: TestClient, admin: str, seeded: Seeded, store: SqlStore
) -> None:
    page = client.get("/integrations?status=failed").text
    assert "550 mailbox unavailable" in page
    replayed = client.post(f"/integrations/jobs/{seeded.job_id}/replay", data={"csrf": admin})
    assert replayed.headers["location"] == "/integrations?msg=replayed"
    job = store.get_job(seeded.job_id)
    assert job is not None and job.status is JobStatus.PENDING
    client.post(f"/integrations/jobs/{seeded.job_id}/cancel", data={"csrf": admin})
    job = store.get_job(seeded.job_id)
    assert job is not None and job.status is JobStatus.CANCELLED
    assert [e.action for e in store.list_audit(limit=2)] == ["outbox.cancel", "outbox.replay"]


def test_the_dashboard_counts_today(client: TestClient, admin: str, seeded: Seeded) -> None:
    page = client.get("/").text
    assert 'id="calls-today">1<' in page
    assert "mensaje dejado" in page
    assert page.count('<svg class="chart"') == 2
    assert 'href="/messages?handled=no">1<' in page


def test_admins_create_disable_and_change_users(
    client: TestClient, admin: str, store: SqlStore
) -> None:
    created = client.post("/users", data={"csrf": admin, "username": "Sam", "role": "staff",
                                          "password": PASSWORD})
    assert created.status_code == 200
    user = store.get_user("sam")
    assert user is not None and user.must_change_password and user.role is Role.STAFF
    dup = client.post("/users", data={"csrf": admin, "username": "sam", "role": "staff",
                                      "password": PASSWORD})
    assert dup.status_code == 400 and "already exists" in dup.text
    client.post("/users/sam", data={"csrf": admin, "role": "supervisor"})
    client.post("/users/sam", data={"csrf": admin, "disabled": "1"})
    user = store.get_user("sam")
    assert user is not None and user.disabled and user.role is Role.SUPERVISOR
    self_disable = client.post("/users/ana", data={"csrf": admin, "disabled": "1"})
    assert self_disable.status_code == 400
    audit = client.get("/audit").text
    assert "user.update" in audit and "supervisor" in audit
