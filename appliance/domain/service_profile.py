"""A service (one hunt group's overflow) as configured by the admin: how calls are matched to it,
its calendar, its menus per language, its return target, who gets its messages, its incident
announcement. Plain data with a JSON codec; the store keeps the list under one settings key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from appliance.domain.calendar import BusinessCalendar
from appliance.domain.callbacks import CallbackPolicy, policy_from_dict, policy_to_dict
from appliance.domain.dialplan import DialPlan
from appliance.domain.hours import Mode, TimeRange
from appliance.domain.menu_model import Action, MenuPlan, TicketOptions
from appliance.domain.tickets import IdScheme


@dataclass(frozen=True)
class Incident:
    """A front-end announcement played before the menu until it expires or is switched off."""

    active: bool = False
    prompt: str = "incident_default"  # a prompt name (uploaded audio) to play
    text: str = ""  # what the announcement says, for the UI and the audit log
    expires_at: datetime | None = None

    def playing_at(self, instant: datetime) -> bool:
        return self.active and (self.expires_at is None or instant < self.expires_at)


@dataclass(frozen=True)
class Destinations:
    """Who receives this service's voicemail emails, by calendar mode (as Portav does)."""

    business: tuple[str, ...] = ()
    after_hours: tuple[str, ...] = ()
    holiday: tuple[str, ...] = ()

    def for_mode(self, mode: Mode) -> tuple[str, ...]:
        chosen = {Mode.BUSINESS: self.business, Mode.AFTER_HOURS: self.after_hours,
                  Mode.HOLIDAY: self.holiday}[mode]
        return chosen or self.business or self.after_hours


@dataclass(frozen=True)
class ServiceProfile:
    name: str
    numbers: tuple[str, ...] = ()  # dialled numbers / Diversion targets that select this service
    calendar: BusinessCalendar = field(default_factory=lambda: always_open())
    plans: Mapping[str, MenuPlan] = field(default_factory=lambda: {"es": MenuPlan()})
    default_language: str = "es"
    destinations: Destinations = field(default_factory=Destinations)
    incident: Incident = field(default_factory=Incident)
    transcription: bool = False
    callback_strategy: str = "customer_first"  # or "agent_first"
    callback_target: str = ""  # hunt group URI for callbacks (high priority where the PBX has one)
    callback_slot_capacity: int = 0  # callbacks one offered slot can hold; 0: no limit
    callback_policy: CallbackPolicy = field(default_factory=CallbackPolicy)  # strategy: above

    def plan(self, language: str | None = None) -> MenuPlan:
        return self.plans.get(language or self.default_language) or next(iter(self.plans.values()))


def always_open(timezone: str = "America/Santiago") -> BusinessCalendar:
    day = (TimeRange.parse("00:00", "24:00"),)
    return BusinessCalendar(timezone=timezone, weekly=(day,) * 7)


def demo_profile() -> ServiceProfile:
    """The demo's one service: open 24/7, Spanish by default, English selectable."""
    return ServiceProfile(
        name="default",
        destinations=Destinations(business=("staff@localhost",)),
        plans={"es": MenuPlan(language="es", return_target="sip:600@127.0.0.1"),
               "en": MenuPlan(language="en", return_target="sip:600@127.0.0.1")},
    )


def select_service(
    profiles: Mapping[str, ServiceProfile], dialled: str, diversion: str | None
) -> ServiceProfile:
    """The service whose numbers match the Diversion target first, then the dialled number."""
    for candidate in (diversion, dialled):
        if not candidate:
            continue
        for profile in profiles.values():
            if candidate in profile.numbers:
                return profile
    return profiles.get("default") or next(iter(profiles.values()))


# JSON codec ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def plan_to_dict(plan: MenuPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(plan):
        value = getattr(plan, f.name)
        if isinstance(value, DialPlan):
            out[f.name] = value.to_dict()
        elif isinstance(value, TicketOptions):
            out[f.name] = {t.name: _plain(getattr(value, t.name)) for t in fields(value)}
        else:
            out[f.name] = _plain(value)
    return out


def _actions(value: Any) -> dict[str, Action] | None:
    return None if value is None else {str(k): Action(v) for k, v in dict(value).items()}


def plan_from_dict(data: Mapping[str, Any]) -> MenuPlan:
    known = {f.name for f in fields(MenuPlan)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown menu keys: {sorted(unknown)}")
    kwargs: dict[str, Any] = dict(data)
    for key in ("business", "after_hours", "holiday"):
        if key in kwargs:
            kwargs[key] = _actions(kwargs[key])
    if "default_action" in kwargs:
        kwargs["default_action"] = Action(kwargs["default_action"])
    if "dial_plan" in kwargs:
        kwargs["dial_plan"] = DialPlan.from_dict(kwargs["dial_plan"])
    if "ticket" in kwargs:
        ticket = dict(kwargs["ticket"])
        ticket["request_types"] = tuple(ticket.get("request_types", ()))
        ticket["id_scheme"] = IdScheme(ticket.get("id_scheme", IdScheme.NONE))
        kwargs["ticket"] = TicketOptions(**ticket)
    return MenuPlan(**kwargs)


def profile_to_dict(profile: ServiceProfile) -> dict[str, Any]:
    incident = profile.incident
    return {
        "name": profile.name,
        "numbers": list(profile.numbers),
        "calendar": profile.calendar.to_dict(),
        "plans": {lang: plan_to_dict(plan) for lang, plan in profile.plans.items()},
        "default_language": profile.default_language,
        "destinations": _plain({f.name: getattr(profile.destinations, f.name)
                                for f in fields(Destinations)}),
        "incident": {"active": incident.active, "prompt": incident.prompt, "text": incident.text,
                     "expires_at": _plain(incident.expires_at)},
        "transcription": profile.transcription,
        "callback_strategy": profile.callback_strategy,
        "callback_target": profile.callback_target,
        "callback_slot_capacity": profile.callback_slot_capacity,
        "callback_policy": policy_to_dict(profile.callback_policy),
    }


def profile_from_dict(data: Mapping[str, Any]) -> ServiceProfile:
    incident = dict(data.get("incident") or {})
    expires = incident.get("expires_at")
    incident["expires_at"] = datetime.fromisoformat(expires) if expires else None
    destinations = {k: tuple(v) for k, v in dict(data.get("destinations") or {}).items()}
    base = ServiceProfile(name=str(data["name"]))
    return replace(
        base,
        numbers=tuple(data.get("numbers", ())),
        calendar=BusinessCalendar.from_dict(data["calendar"]) if "calendar" in data else base.calendar,
        plans={lang: plan_from_dict(p) for lang, p in dict(data.get("plans") or {}).items()}
        or base.plans,
        default_language=str(data.get("default_language", base.default_language)),
        destinations=Destinations(**destinations),
        incident=Incident(**incident),
        transcription=bool(data.get("transcription", False)),
        callback_strategy=str(data.get("callback_strategy", base.callback_strategy)),
        callback_target=str(data.get("callback_target", "")),
        callback_slot_capacity=int(data.get("callback_slot_capacity", 0)),
        callback_policy=policy_from_dict(data.get("callback_policy") or {}),
    )
