"""The web layer's pure helpers: signing, throttling, form parsing, charts, CSV cells, translations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from appliance.domain.calendar import BusinessCalendar
from appliance.domain.hours import Mode, TimeRange
from appliance.domain.menu_model import Action, MenuPlan
from appliance.domain.service_profile import Incident, ServiceProfile
from appliance.services.admin import LoginThrottle
from webui import calendar_view
from webui.charts import bar_chart
from webui.csv_export import _cell
from webui.forms import format_ranges, parse_local, parse_ranges
from webui.i18n import translator
from webui.i18n_es import SPANISH
from webui.prompt_files import UploadRefused, check_filename
from webui.service_forms import plan_from_form
from webui.sessions import Session, Signer

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parents[3] / "webui" / "templates"


def test_a_session_round_trips_and_expires() -> None:
    signer = Signer(b"k" * 32)
    value = signer.dump_session(Session("ana", NOW + timedelta(hours=1), "fp"))
    assert signer.load_session(value, NOW) == Session("ana", NOW + timedelta(hours=1), "fp")
    assert signer.load_session(value, NOW + timedelta(hours=2)) is None


@pytest.mark.parametrize("mangle", [lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),
                                    lambda v: "x" + v, lambda v: v.split(".")[0], lambda v: ""])
def test_a_mangled_session_is_refused(mangle: object) -> None:
    signer = Signer(b"k" * 32)
    value = signer.dump_session(Session("ana", NOW + timedelta(hours=1), "fp"))
    assert signer.load_session(mangle(value), NOW) is None  # type: ignore[operator]


def test_another_secret_refuses_the_session_and_the_csrf_token() -> None:
    one, two = Signer(b"a" * 32), Signer(b"b" * 32)
    value = one.dump_session(Session("ana", NOW + timedelta(hours=1), "fp"))
    assert two.load_session(value, NOW) is None
    assert one.csrf_ok("nonce", one.csrf_token("nonce"))
    assert not two.csrf_ok("nonce", one.csrf_token("nonce"))
    assert not one.csrf_ok("other", one.csrf_token("nonce"))
    assert not one.csrf_ok(None, one.csrf_token("nonce"))


def test_the_throttle_counts_failures_per_key_in_a_sliding_minute() -> None:
    throttle = LoginThrottle()
    for i in range(5):
        assert not throttle.blocked(["user:ana"], NOW + timedelta(seconds=i))
        throttle.fail(["user:ana"], NOW + timedelta(seconds=i))
    assert throttle.blocked(["user:ana"], NOW + timedelta(seconds=10))
    assert not throttle.blocked(["user:bob"], NOW + timedelta(seconds=10))
    assert throttle.blocked(["user:bob", "user:ana"], NOW + timedelta(seconds=10))
    assert not throttle.blocked(["user:ana"], NOW + timedelta(seconds=60))


@pytest.mark.parametrize(("text", "expected"), [
    ("", []), ("09:00-13:00", ["09:00-13:00"]),
    ("14:00-18:00, 09:00-13:00", ["09:00-13:00", "14:00-18:00"]),
    ("20:00-24:00;08:00-09:30", ["08:00-09:30", "20:00-24:00"]),
])
def test_opening_hours_parse_and_format(text: str, expected: list[str]) -> None:
    ranges = parse_ranges(text)
    assert [str(r) for r in ranges] == expected
    assert parse_ranges(format_ranges(ranges)) == ranges


@pytest.mark.parametrize("text", ["9-5", "09:00", "18:00-09:00", "25:00-26:00", "a-b"])
def test_bad_opening_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ranges(text)


def test_local_times_resolve_on_the_wall_clock_across_dst() -> None:
    assert parse_local("2026-03-02T09:30", "America/Santiago") == datetime(
        2026, 3, 2, 12, 30, tzinfo=UTC)
    assert parse_local("2026-07-02T09:30", "America/Santiago") == datetime(
        2026, 7, 2, 13, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_local("tomorrow", "America/Santiago")


def _profile() -> ServiceProfile:
    day = (TimeRange(time(9), time(18)),)
    cal = BusinessCalendar("America/Santiago", weekly=(day,) * 5 + ((), ()))
    return ServiceProfile(name="s", calendar=cal, plans={"es": MenuPlan(
        after_hours={"1": Action.KEEP_WAITING, "2": Action.LEAVE_MESSAGE})},
        incident=Incident(active=True, expires_at=NOW + timedelta(hours=1)))


@pytest.mark.parametrize(("instant", "mode", "menu", "incident"), [
    (NOW, Mode.BUSINESS, ["1", "2", "3"], True),  # Monday 12:00 local
    (NOW + timedelta(hours=8), Mode.AFTER_HOURS, ["2"], False),  # 20:00: keep waiting dropped
])
def test_what_happens_at(instant: datetime, mode: Mode, menu: list[str], incident: bool) -> None:
    seen = calendar_view.outlook(_profile(), instant, "es")
    assert seen.mode is mode
    assert [d for d, _ in seen.menu] == menu
    assert seen.incident is incident
    assert (seen.next_opening is None) is (mode is Mode.BUSINESS)


def test_imported_holidays_never_replace_existing_ones() -> None:
    from datetime import date

    from appliance.domain.hours import Holiday

    cal = BusinessCalendar("UTC", holidays=(Holiday(date(2026, 1, 1), "Mine"),))
    added, count = calendar_view.with_holidays(
        cal, [Holiday(date(2026, 1, 1), "Theirs"), Holiday(date(2026, 5, 1), "May")])
    assert count == 1
    assert [h.name for h in added.holidays] == ["Mine", "May"]


def test_the_menu_form_keeps_unlisted_settings() -> None:
    plan = MenuPlan(language="es", record_max_s=90)
    changed = plan_from_form(plan, {"es.business.5": "ticket", "es.holiday_same": "1"})
    assert changed.business == {"5": Action.TICKET}
    assert changed.after_hours == {}
    assert changed.record_max_s == 90 and changed.holiday is None


def test_chart_labels_are_escaped_and_bars_scale() -> None:
    svg = str(bar_chart([("<b>", 2), ("x", 4)], title="t<"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == pytest.approx(2 * heights[0])


@pytest.mark.parametrize(("value", "expected"), [("=1+1", "'=1+1"), ("+569", "'+569"),
                                                 ("@x", "'@x"), ("hola", "hola"), (None, "")])
def test_csv_cells_never_start_a_formula(value: str | None, expected: str) -> None:
    assert _cell(value) == expected


@pytest.mark.parametrize("name", ["", "a/b.wav", "..\\x.wav", ".wav", "x.exe", "x.wav\0.txt"])
def test_upload_names_with_paths_or_wrong_types_are_refused(name: str) -> None:
    with pytest.raises(UploadRefused):
        check_filename(name)


def test_every_text_in_the_templates_has_spanish() -> None:
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        keys |= set(re.findall(r't\("([^"]+)"\)', text)) | set(re.findall(r"t\('([^']+)'\)", text))
    assert len(keys) > 100
    assert sorted(keys - set(SPANISH)) == []


def test_the_translator_formats_and_falls_back() -> None:
    assert translator("es")("Imported {count} holidays.", count=3) == "Se importaron 3 feriados."
    assert translator("en")("Imported {count} holidays.", count=3) == "Imported 3 holidays."
    assert translator("fr").lang == "es"


def test_prompt_texts_come_from_the_shipped_table() -> None:
    from webui.prompt_files import list_prompts

    sounds = TEMPLATES.parents[1] / "sounds"
    rows = {r.name: r for r in list_prompts(None, sounds, "default", "es")}
    assert rows["welcome"].text == "Gracias por llamar."
    assert rows["beep"].text == ""  # a tone, not speech
    assert not rows["welcome"].custom
