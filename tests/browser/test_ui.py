"""What a person sees and clicks, in Chromium: sign-in, schedules, holidays, prompts, incidents,
messages, callbacks and CSV export. Every page is photographed into test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
import shutil

from playwright.sync_api import FilePayload, Page

from appliance.domain.records import CallbackStatus
from appliance.services.admin import ensure_first_admin
from appliance.services.business import load_catalog
from tests.browser.conftest import ROOT, SCREENSHOTS, Live, shot, sign_in_as_admin
from tests.integration.webui.conftest import ASSETS, T0
from tests.support.tools import require_tool


def test_first_sign_in_forces_a_password_change_then_shows_the_dashboard(
    page: Page, live: Live
) -> None:
    shown: list[str] = []
    password = ensure_first_admin(live.store, live.data_dir, now=T0, announce=shown.append)
    assert password
    page.goto(live.url + "/")
    assert page.url.startswith(live.url + "/login")
    shot(page, "login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(live.url + "/account/password")
    shot(page, "password-change")
    page.fill("#current", password)
    page.fill("#new", "una clave nueva y larga")
    page.fill("#repeat", "una clave nueva y larga")
    page.click("#save-password")
    page.wait_for_url(live.url + "/?changed=1")
    assert page.inner_text("#notice") == "Contraseña cambiada."
    assert page.inner_text("#calls-today") != "0"
    assert page.locator("svg.chart").count() == 2
    shot(page, "dashboard")
    page.goto(live.url + "/")
    # The README's picture is refreshed by hand from this file (tests never write tracked files).
    page.screenshot(path=ROOT / "test-artifacts" / "dashboard-readme.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "dashboard-phone")


def test_every_list_page_in_english_and_spanish(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    for lang in ("en", "es"):
        page.click("#lang-switch")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == lang
        for path in ("messages", "tickets", "callbacks", "calls", "services", "integrations",
                     "users", "audit"):
            page.goto(f"{live.url}/{path}")
            shot(page, f"{path}-{lang}")
        page.goto(live.url + "/")


def test_a_schedule_change_shows_in_what_happens_at(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/services/default/calendar?at=2026-03-02T19:30")
    assert page.inner_text("#mode") == "horario de atención"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        page.fill(f"#day-{day}", "09:00-13:00, 14:00-18:00")
    page.fill("#day-saturday", "")
    page.fill("#day-sunday", "")
    page.click("#save-week")
    page.wait_for_selector("#notice")
    page.fill("#at", "2026-03-02T19:30")
    page.click("#check")
    page.wait_for_load_state()
    assert page.inner_text("#mode") == "fuera de horario"
    assert "seguir esperando" not in page.inner_text("#menu-at")
    page.fill("#at", "2026-03-02T10:15")
    page.click("#check")
    page.wait_for_load_state()
    assert page.inner_text("#mode") == "horario de atención"
    assert "seguir esperando" in page.inner_text("#menu-at")
    shot(page, "calendar")


def test_chiles_holidays_are_imported(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/services/default/calendar")
    page.fill("#import-country", "CL")
    page.fill("#import-year", "2026")
    page.click("#import")
    page.wait_for_selector("#notice")
    assert "feriados" in page.inner_text("#notice")
    assert "Día de la Independencia" in page.inner_text("#holidays")
    days = {h.day.isoformat() for h in load_catalog(live.store).profiles["default"].calendar.holidays}
    assert "2026-09-18" in days
    shot(page, "holidays")


def _audio_check(page: Page, selector: str) -> dict[str, float]:
    """Play the element and report what the browser decoded (duration, position, error)."""
    result: dict[str, float] = page.eval_on_selector(selector, """async (a) => {
        a.load();
        await a.play();
        await new Promise(r => setTimeout(r, 400));
        const out = {duration: a.duration, time: a.currentTime, error: a.error ? a.error.code : 0};
        a.pause();
        return out;
    }""")
    return result


def test_a_prompt_is_uploaded_and_played(page: Page, live: Live) -> None:
    require_tool("sox")
    sign_in_as_admin(page, live)
    page.goto(live.url + "/services/default/prompts?lang=es")
    page.select_option("#upload-prompt", "welcome")
    page.set_input_files("#upload-file", str(ASSETS / "speech_8k.wav"))
    page.click("#upload")
    page.wait_for_selector("#notice")
    assert "subida" in page.inner_text("#prompt-welcome")
    assert (live.data_dir / "prompts" / "default" / "es" / "welcome.wav").is_file()
    played = _audio_check(page, "#prompt-welcome audio")
    assert played["error"] == 0
    assert abs(played["duration"] - 4.94) < 0.1
    assert played["time"] > 0
    shot(page, "prompts")


def test_a_wrong_upload_is_refused_in_the_page(page: Page, live: Live, tmp_path: object) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/services/default/prompts?lang=es")
    page.set_input_files("#upload-file", files=[FilePayload(name="notes.txt", mimeType="text/plain",
                                                         buffer=b"hello")])
    page.click("#upload")
    page.wait_for_selector("#error")
    assert page.inner_text("#error") == "Suba un archivo WAV, MP3 u OGG."


def test_the_incident_announcement_is_turned_on(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/services/default/incident")
    assert page.inner_text("#incident-state") == "inactivo"
    page.check("#incident-active")
    page.fill("#incident-text", "Sabemos de la caída del correo; estará resuelto a las 18:00")
    page.fill("#incident-expires", "2026-03-02T18:00")
    page.click("#save-incident")
    page.wait_for_selector("#notice")
    assert page.inner_text("#incident-state") == "activo"
    assert load_catalog(live.store).profiles["default"].incident.playing_at(T0)
    shot(page, "incident")


def test_a_message_is_played_and_marked_handled(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/messages")
    page.click(f"a[href='/messages/{live.seeded.message_id}']")
    page.wait_for_selector("#message-audio")
    assert "<script>" in page.inner_text("#transcript")  # shown as text, never run
    played = _audio_check(page, "#message-audio")
    assert played["error"] == 0 and abs(played["duration"] - 4.94) < 0.1 and played["time"] > 0
    shot(page, "message")
    page.click("#mark-handled")
    page.wait_for_selector("#notice")
    message = live.store.get_message(live.seeded.message_id)
    assert message is not None and message.handled_by == "ana"


def test_a_callback_is_cancelled(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/callbacks")
    shot(page, "callbacks")
    page.click("tr[data-number='+56922222222'] .cancel-callback")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == "Devolución cancelada."
    callback = live.store.get_callback(live.seeded.callback_id)
    assert callback is not None and callback.status is CallbackStatus.CANCELLED


def test_calls_export_as_csv(page: Page, live: Live) -> None:
    sign_in_as_admin(page, live)
    page.goto(live.url + "/calls")
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    assert download.suggested_filename == "calls.csv"
    path = download.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["id", "service", "caller"]
    assert len(rows) > 20
    shutil.copy(path, SCREENSHOTS / "calls.csv")
    page.click(f"a[href='/calls/{live.seeded.call_id.replace('@', '%40')}']")
    page.wait_for_selector("#timeline")
    assert "dtmf" in page.inner_text("#timeline")
    shot(page, "call-timeline")
