"""Services round-trip through JSON and the store, with version conflicts and an audit trail."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.callbacks import CallbackPolicy, MachineAction
from appliance.domain.hours import Holiday, Mode, TimeRange
from appliance.domain.menu_model import Action, MenuPlan, TicketOptions
from appliance.domain.retry import RetryPolicy
from appliance.domain.service_profile import (
    Destinations,
    Incident,
    ServiceProfile,
    demo_profile,
    profile_from_dict,
    profile_to_dict,
    select_service,
)
from appliance.domain.tickets import IdScheme
from appliance.ports.store import SettingVersionConflict
from appliance.services.business import load_catalog, save_profile

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _support() -> ServiceProfile:
    week = (TimeRange.parse("09:00", "13:00"), TimeRange.parse("14:00", "18:00"))
    calendar = BusinessCalendar(
        timezone="Europe/Madrid", weekly=(week,) * 5 + ((), ()),
        holidays=(Holiday(day=date(2026, 1, 6), name="Reyes"),),
    )
    plan = MenuPlan(
        language="es", business={"1": Action.KEEP_WAITING, "2": Action.LEAVE_MESSAGE},
        holiday={"2": Action.LEAVE_MESSAGE}, return_target="sip:700@pbx",
        ticket=TicketOptions(ask_id=True, id_scheme=IdScheme.CL_RUT, request_types=("a", "b")),
    )
    return ServiceProfile(
        name="support", numbers=("700", "+34910000700"), calendar=calendar, plans={"es": plan},
        destinations=Destinations(business=("desk@example.com",), after_hours=("oncall@example.com",)),
        incident=Incident(active=True, text="Caída", expires_at=NOW),
        transcription=True, callback_strategy="agent_first", callback_slot_capacity=4,
        callback_policy=CallbackPolicy(
            max_outbound=3, confirm_digit="1", machine_action=MachineAction.MESSAGE,
            retry=RetryPolicy(intervals=(timedelta(minutes=2),), max_attempts=4)),
    )


@pytest.mark.parametrize("profile", [demo_profile(), _support()], ids=["demo", "support"])
def test_profiles_round_trip_through_json(profile: ServiceProfile) -> None:
    assert profile_from_dict(json.loads(json.dumps(profile_to_dict(profile)))) == profile


def test_unknown_callback_policy_keys_are_refused() -> None:
    data = profile_to_dict(demo_profile())
    data["callback_policy"]["max_outbund"] = 3
    with pytest.raises(ValueError, match="max_outbund"):
        profile_from_dict(data)


def test_unknown_menu_keys_are_refused() -> None:
    data = profile_to_dict(demo_profile())
    data["plans"]["es"]["max_repeatz"] = 3
    with pytest.raises(ValueError, match="max_repeatz"):
        profile_from_dict(data)


@pytest.mark.parametrize(
    ("dialled", "diversion", "expected"),
    [("700", None, "support"), ("999", "+34910000700", "support"), ("999", None, "default"),
     ("s", "", "default")],
)
def test_the_service_is_chosen_by_diversion_then_dialled(
    dialled: str, diversion: str | None, expected: str
) -> None:
    profiles = {"default": demo_profile(), "support": _support()}
    assert select_service(profiles, dialled, diversion).name == expected


def test_destinations_fall_back_to_business() -> None:
    d = Destinations(business=("a@x",), after_hours=("b@x",))
    assert d.for_mode(Mode.HOLIDAY) == ("a@x",)
    assert d.for_mode(Mode.AFTER_HOURS) == ("b@x",)


def test_incident_expires() -> None:
    incident = Incident(active=True, expires_at=NOW)
    assert incident.playing_at(NOW.replace(hour=11))
    assert not incident.playing_at(NOW)


def test_catalog_saves_with_versions_and_audit(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        first = load_catalog(store)
        assert first.version == 0 and list(first.profiles) == ["default"]
        saved = save_profile(store, _support(), expected_version=0, actor="ana", now=NOW)
        assert set(saved.profiles) == {"default", "support"}
        again = load_catalog(store)
        assert again.profiles["support"] == _support() and again.version == saved.version
        with pytest.raises(SettingVersionConflict):
            save_profile(store, replace(_support(), transcription=False),
                         expected_version=0, actor="bob", now=NOW)
        audit = store.list_audit()
        assert [(a.actor, a.action, a.target) for a in audit] == [("ana", "service.save", "support")]
        assert audit[0].before is None and audit[0].after["name"] == "support"
    finally:
        store.close()
