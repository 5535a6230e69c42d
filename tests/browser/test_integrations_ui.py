"""Integration settings, API keys, retention and the dashboard's telephony card in Chromium, in
Spanish and English: a webhook target added and tested against a real receiver, a test email into
the spool, a callback API key created once-shown and revoked. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from appliance.ops.retention import load_policy
from appliance.services.integrations import load_integrations
from tests.browser.conftest import SCREENSHOTS, Live, shot, sign_in_as_admin
from tests.integration.webui.conftest import webhook_receiver

SECRET = "whsec-browser-secret"
WORDS = {"es": {"ok": "Guardado.", "revoked": "Clave revocada.", "mode": "registro"},
         "en": {"ok": "Saved.", "revoked": "Key revoked.", "mode": "registration"}}


def _to_language(page: Page, lang: str) -> None:
    if page.locator("html").get_attribute("lang") != lang:
        page.click("#lang-switch")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_webhook_target_is_added_and_tested(page: Page, live: Live, lang: str) -> None:
    sign_in_as_admin(page, live)
    _to_language(page, lang)
    page.goto(live.url + "/integrations")
    page.click("#settings-link")
    page.wait_for_selector("#smtp")
    shot(page, f"integration-settings-empty-{lang}")
    with webhook_receiver() as receiver:
        page.click("#new-webhook summary")
        form = page.locator("#new-webhook form")
        form.locator("input[name=name]").fill("crm")
        form.locator("input[name=url]").fill(receiver.url)
        form.locator("input[name=secret]").fill(SECRET)
        form.locator(".add-target").click()
        page.wait_for_selector("#notice")
        assert page.inner_text("#notice") == WORDS[lang]["ok"]
        assert SECRET not in page.content()
        assert page.input_value("#target-crm input[name=secret]") == ""
        page.click("#target-crm .test-target")
        page.wait_for_selector("#test-result")
        assert "the signed ping was accepted" in page.inner_text("#test-result")
        assert len(receiver.seen) == 1
    target = load_integrations(live.store).targets["crm"]
    assert target.secret == SECRET  # type: ignore[union-attr]
    shot(page, f"integration-settings-{lang}")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_test_email_is_sent_from_the_page(page: Page, live: Live, lang: str) -> None:
    sign_in_as_admin(page, live)
    _to_language(page, lang)
    page.goto(live.url + "/integrations/settings")
    assert str(live.data_dir / "mail") in page.inner_text("#smtp")
    page.fill("#mail-to", "mesa@example.cl")
    page.click("#mail-test")
    page.wait_for_selector("#test-result")
    assert "written to the mail spool" in page.inner_text("#test-result")
    (spooled,) = (live.data_dir / "mail").glob("*.eml")
    assert b"To: mesa@example.cl" in spooled.read_bytes()
    shot(page, f"integration-test-email-{lang}")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_api_key_is_created_shown_once_and_revoked(page: Page, live: Live, lang: str) -> None:
    sign_in_as_admin(page, live)
    _to_language(page, lang)
    page.goto(live.url + "/api-keys")
    page.fill("#key-name", "sitio web")
    page.click("#create-key")
    page.wait_for_selector("#new-key")
    key = page.inner_text("#new-key")
    assert key.startswith("dsb_")
    shot(page, f"api-key-created-{lang}")
    page.goto(live.url + "/api-keys")
    assert key not in page.content()
    page.click("#api-keys .revoke")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == WORDS[lang]["revoked"]
    assert all(k.revoked for k in live.store.list_api_keys())
    shot(page, f"api-keys-{lang}")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_dashboard_shows_the_sip_state(page: Page, live: Live, lang: str) -> None:
    sign_in_as_admin(page, live)
    _to_language(page, lang)
    page.goto(live.url + "/")
    assert page.inner_text("#sip-mode") == WORDS[lang]["mode"]
    assert page.inner_text("#channels") == "2 / 30"
    assert "sip:601@pbx.example.cl" in page.inner_text("#registrations")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#telephony").screenshot(path=SCREENSHOTS / f"dashboard-telephony-{lang}.png")



@pytest.mark.parametrize("lang", ["es", "en"])
def test_retention_days_are_set(page: Page, live: Live, lang: str) -> None:
    sign_in_as_admin(page, live)
    _to_language(page, lang)
    page.goto(live.url + "/retention")
    page.fill("input[name='*.recordings_days']", "90")
    page.fill("input[name='default.transcripts_days']", "30")
    page.click("#save-retention")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == WORDS[lang]["ok"]
    policy, _ = load_policy(live.store)
    assert (policy.default.recordings_days, policy.services["default"].transcripts_days) == (90, 30)
    shot(page, f"retention-{lang}")
