"""Services, menus, calendar, incidents and prompts edited through the forms, saved in the store."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.hours import Mode
from appliance.domain.menu_model import Action
from appliance.services.business import load_catalog
from tests.integration.webui.conftest import ASSETS, TestClient
from tests.support.tools import require_tool

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found
    return found.group(1)


def _week(client: TestClient, token: str, hours: str, **extra: str) -> int:
    version = _version(client.get("/services/default/calendar").text)
    data = {"csrf": token, "version": version, "timezone": "America/Santiago",
            "callback_cutoff_minutes": "0", **{f"day.{d}": hours for d in WEEKDAYS[:5]},
            "day.saturday": "", "day.sunday": "", **extra}
    status: int = client.post("/services/default/calendar/week", data=data).status_code
    return status


def test_a_schedule_change_changes_what_happens_at(client: TestClient, admin: str,
                                                   store: SqlStore) -> None:
    at = "/services/default/calendar?at=2026-03-02T19:30"  # a Monday evening in Santiago
    assert 'id="mode">horario de atención<' in client.get(at).text  # the demo is open 24/7
    assert _week(client, admin, "09:00-13:00, 14:00-18:00") == 303
    page = client.get(at).text
    assert 'id="mode">fuera de horario<' in page
    assert "seguir esperando" not in page.split('id="menu-at"')[1].split("</ul>")[0]
    assert "Próxima apertura: 2026-03-03 09:00" in page
    calendar = load_catalog(store).profiles["default"].calendar
    assert [str(r) for r in calendar.weekly[0]] == ["09:00-13:00", "14:00-18:00"]
    assert store.list_audit()[0].action == "service.save"


def test_bad_hours_are_refused_with_the_reason(client: TestClient, admin: str) -> None:
    response = client.post("/services/default/calendar/week", data={
        "csrf": admin, "version": "0", "timezone": "America/Santiago", "day.monday": "18:00-09:00"})
    assert response.status_code == 400
    assert "must end after it starts" in response.text
    assert _week(client, admin, "9-5") == 400
    assert _week(client, admin, "09:00-17:00", timezone="Mars/Olympus") == 400


def test_a_stale_form_is_refused_not_merged(client: TestClient, admin: str) -> None:
    stale = _version(client.get("/services/default/calendar").text)
    assert _week(client, admin, "09:00-18:00") == 303
    response = client.post("/services/default/calendar/week", data={
        "csrf": admin, "version": stale, "timezone": "UTC", "day.monday": "10:00-11:00"})
    assert response.status_code == 409
    assert "Otra persona guardó" in response.text


def test_chiles_holidays_are_imported_and_removed(client: TestClient, admin: str,
                                                  store: SqlStore) -> None:
    version = _version(client.get("/services/default/calendar").text)
    response = client.post("/services/default/calendar/holidays/import", data={
        "csrf": admin, "version": version, "country": "CL", "year": "2026",
        "behaves_like": "closed"})
    assert response.status_code == 303
    holidays = load_catalog(store).profiles["default"].calendar.holidays
    assert len(holidays) >= 15
    names = {h.day.isoformat(): h.name for h in holidays}
    assert names["2026-09-18"] == "Día de la Independencia"
    page = client.get(response.headers["location"]).text
    assert f"Se importaron {len(holidays)} feriados." in page
    assert "Día de la Independencia" in page
    # A holiday closed all day: 18 September is in holiday mode even at noon.
    assert 'id="mode">feriado<' in client.get(
        "/services/default/calendar?at=2026-09-18T12:00").text
    version = _version(page)
    client.post("/services/default/calendar/holidays/remove",
                data={"csrf": admin, "version": version, "day": "2026-09-18"})
    remaining = load_catalog(store).profiles["default"].calendar.holidays
    assert len(remaining) == len(holidays) - 1


def test_an_unknown_country_is_a_clear_error(client: TestClient, admin: str) -> None:
    response = client.post("/services/default/calendar/holidays/import", data={
        "csrf": admin, "version": "0", "country": "ZZ", "year": "2026"})
    assert response.status_code == 400
    assert "no holiday data" in response.text


def test_holidays_and_exceptions_by_hand(client: TestClient, admin: str, store: SqlStore) -> None:
    client.post("/services/default/calendar/holidays", data={
        "csrf": admin, "version": "0", "day": "2026-03-04", "holiday_name": "Aniversario",
        "behaves_like": "saturday"})
    version = _version(client.get("/services/default/calendar").text)
    client.post("/services/default/calendar/exceptions", data={
        "csrf": admin, "version": version, "day": "2026-03-05", "ranges": "", "note": "Inventario"})
    calendar = load_catalog(store).profiles["default"].calendar
    assert calendar.holidays[0].name == "Aniversario"
    assert calendar.exceptions[0].note == "Inventario"
    assert 'id="mode">fuera de horario<' in client.get(
        "/services/default/calendar?at=2026-03-05T12:00").text


def test_menus_are_saved_per_language_and_mode(client: TestClient, admin: str,
                                               store: SqlStore) -> None:
    page = client.get("/services/default").text
    data = {"csrf": admin, "version": _version(page), "default_language": "es",
            "numbers": "600, 601", "dest.business": "desk@example.com", "dest.after_hours": "",
            "dest.holiday": "", "callback_target": "sip:610@pbx",
            "es.business.1": "keep_waiting", "es.business.9": "leave_message",
            "es.after_hours.2": "leave_message", "es.holiday_same": "1",
            "es.no_input_timeout_s": "8", "es.max_repeats": "3", "es.return_target": "sip:700@pbx",
            "en.business.1": "keep_waiting", "en.after_hours.3": "ticket",
            "en.holiday.2": "leave_message", "en.default_action": "leave_message"}
    response = client.post("/services/default", data=data)
    assert response.status_code == 303, response.text
    profile = load_catalog(store).profiles["default"]
    es, en = profile.plans["es"], profile.plans["en"]
    assert es.business == {"1": Action.KEEP_WAITING, "9": Action.LEAVE_MESSAGE}
    assert es.holiday is None and es.no_input_timeout_s == 8 and es.max_repeats == 3
    assert es.return_target == "sip:700@pbx"
    assert en.holiday == {"2": Action.LEAVE_MESSAGE}
    assert en.default_action is Action.LEAVE_MESSAGE
    assert profile.numbers == ("600", "601")
    assert profile.destinations.for_mode(Mode.HOLIDAY) == ("desk@example.com",)


@pytest.mark.parametrize(("field", "value"), [("es.max_repeats", "99"),
                                              ("es.no_input_timeout_s", "soon"),
                                              ("new_language", "../x")])
def test_bad_menu_values_are_refused(client: TestClient, admin: str, field: str,
                                     value: str) -> None:
    response = client.post("/services/default", data={"csrf": admin, "version": "0",
                                                      field: value})
    assert response.status_code == 400


def test_a_new_service_starts_from_the_default_calendar(client: TestClient, admin: str,
                                                        store: SqlStore) -> None:
    response = client.post("/services", data={"csrf": admin, "version": "0", "name": "ventas"})
    assert response.headers["location"] == "/services/ventas"
    assert set(load_catalog(store).profiles) == {"default", "ventas"}
    refused = client.post("/services", data={"csrf": admin, "version": "1", "name": "Bad Name"})
    assert refused.status_code == 400


def test_the_incident_announcement_is_switched_on_with_an_expiry(
    client: TestClient, admin: str, store: SqlStore
) -> None:
    response = client.post("/services/default/incident", data={
        "csrf": admin, "version": "0", "active": "1", "text": "Caída del servicio <b>X</b>",
        "expires_at": "2026-03-02T18:00"})
    assert response.status_code == 303
    incident = load_catalog(store).profiles["default"].incident
    assert incident.active and incident.text == "Caída del servicio <b>X</b>"
    assert incident.expires_at is not None and incident.expires_at.isoformat().startswith(
        "2026-03-02T21:00")
    page = client.get("/services/default/incident").text
    assert 'id="incident-state">activo<' in page
    assert "&lt;b&gt;X&lt;/b&gt;" in page
    past = client.post("/services/default/incident", data={
        "csrf": admin, "version": "1", "active": "1", "expires_at": "2026-03-01T10:00"})
    assert past.status_code == 400


def _mp3(tmp_path: Path) -> Path:
    sox = require_tool("sox")
    out = tmp_path / "greeting.mp3"
    subprocess.run([sox, str(ASSETS / "speech_8k.wav"), str(out)], check=True)
    return out


@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_a_prompt_upload_is_converted_stored_and_played(
    client: TestClient, admin: str, store: SqlStore, data_dir: Path, tmp_path: Path, kind: str
) -> None:
    require_tool("sox")
    source = ASSETS / "speech_8k.wav" if kind == "wav" else _mp3(tmp_path)
    with source.open("rb") as handle:
        response = client.post("/services/default/prompts", data={
            "csrf": admin, "lang": "es", "prompt": "welcome"},
            files={"audio": (f"bienvenida.{kind}", handle, f"audio/{kind}")})
    assert response.status_code == 303, response.text
    stored = data_dir / "prompts" / "default" / "es" / "welcome.wav"
    assert stored.is_file()
    played = client.get("/services/default/prompts/es/welcome.wav")
    assert played.status_code == 200 and played.content == stored.read_bytes()
    page = client.get("/services/default/prompts?lang=es").text
    assert 'id="prompt-welcome"' in page and "subida" in page
    assert store.list_audit()[0].action == "prompt.upload"


@pytest.mark.parametrize(("filename", "message"), [
    ("notes.txt", "Suba un archivo WAV, MP3 u OGG."),
    ("../../etc/welcome.wav", "El nombre del archivo no debe contener una ruta."),
    ("..\\welcome.wav", "El nombre del archivo no debe contener una ruta."),
])
def test_bad_uploads_are_refused_with_a_clear_message(
    client: TestClient, admin: str, data_dir: Path, filename: str, message: str
) -> None:
    response = client.post("/services/default/prompts", data={
        "csrf": admin, "lang": "es", "prompt": "welcome"},
        files={"audio": (filename, b"RIFF....WAVE", "audio/wav")})
    assert response.status_code == 400
    assert message in response.text
    assert not (data_dir / "prompts" / "default" / "es" / "welcome.wav").exists()


def test_audio_that_sox_cannot_read_is_refused(client: TestClient, admin: str) -> None:
    require_tool("sox")
    response = client.post("/services/default/prompts", data={
        "csrf": admin, "lang": "es", "prompt": "welcome"},
        files={"audio": ("x.wav", b"this is not audio at all" * 100, "audio/wav")})
    assert response.status_code == 400
    assert "cannot read the uploaded file" in response.text


def test_prompt_names_cannot_escape_the_prompts_directory(client: TestClient, admin: str) -> None:
    response = client.post("/services/default/prompts", data={
        "csrf": admin, "lang": "es", "prompt": "../../../session-secret"},
        files={"audio": ("x.wav", (ASSETS / "speech_8k.wav").read_bytes(), "audio/wav")})
    assert response.status_code == 400
    assert client.get("/services/default/prompts/es/..%2F..%2Fsession-secret.wav").status_code == 404


def test_a_prompt_reset_goes_back_to_the_shipped_one(
    client: TestClient, admin: str, data_dir: Path
) -> None:
    stored = data_dir / "prompts" / "default" / "es" / "welcome.wav"
    stored.parent.mkdir(parents=True)
    shutil.copy(ASSETS / "speech_8k.wav", stored)
    response = client.post("/services/default/prompts/es/welcome/reset", data={"csrf": admin})
    assert response.status_code == 303
    assert not stored.exists()
    assert client.get("/services/default/prompts/es/welcome.wav").status_code == 200
