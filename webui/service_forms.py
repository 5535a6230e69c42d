"""Reading the service and menu forms into ServiceProfile/MenuPlan values; ValueError says what
is wrong in words the page shows. Field names are `<lang>.<setting>` and `<lang>.<mode>.<digit>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from appliance.domain.menu_model import Action, MenuPlan
from appliance.domain.service_profile import Destinations, ServiceProfile
from webui.forms import parse_list

DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")
MODES = ("business", "after_hours", "holiday")
SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_LIMITS: dict[str, tuple[float, float]] = {
    "no_input_timeout_s": (1, 60),
    "digit_timeout_s": (1, 30),
    "max_repeats": (0, 10),
    "max_invalid": (1, 10),
    "record_max_s": (10, 3600),
    "record_silence_s": (1, 60),
}


def check_service_name(name: str) -> str:
    if not SERVICE_NAME.fullmatch(name):
        raise ValueError("service names use lowercase letters, digits, - and _ (at most 32)")
    return name


def _number(form: Mapping[str, str], key: str, current: float) -> float:
    low, high = _LIMITS[key.split(".", 1)[1]]
    raw = form.get(key, "").strip()
    if not raw:
        return current
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key}: not a number: {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{key}: must be between {low:g} and {high:g}")
    return value


def _whole(form: Mapping[str, str], key: str, current: int) -> int:
    value = _number(form, key, current)
    if value != int(value):
        raise ValueError(f"{key}: must be a whole number")
    return int(value)


def _actions(form: Mapping[str, str], prefix: str) -> dict[str, Action]:
    chosen = {}
    for digit in DIGITS:
        value = form.get(f"{prefix}.{digit}", "")
        if value:
            chosen[digit] = Action(value)
    return chosen


def plan_from_form(plan: MenuPlan, form: Mapping[str, str]) -> MenuPlan:
    lang = plan.language
    holiday = None if form.get(f"{lang}.holiday_same") else _actions(form, f"{lang}.holiday")
    default = form.get(f"{lang}.default_action", plan.default_action.value)
    return replace(
        plan,
        business=_actions(form, f"{lang}.business"),
        after_hours=_actions(form, f"{lang}.after_hours"),
        holiday=holiday,
        default_action=Action(default),
        return_target=form.get(f"{lang}.return_target", plan.return_target).strip(),
        no_input_timeout_s=_number(form, f"{lang}.no_input_timeout_s", plan.no_input_timeout_s),
        digit_timeout_s=_number(form, f"{lang}.digit_timeout_s", plan.digit_timeout_s),
        max_repeats=_whole(form, f"{lang}.max_repeats", plan.max_repeats),
        max_invalid=_whole(form, f"{lang}.max_invalid", plan.max_invalid),
        record_max_s=_whole(form, f"{lang}.record_max_s", plan.record_max_s),
        record_silence_s=_whole(form, f"{lang}.record_silence_s", plan.record_silence_s),
    )


def profile_from_form(profile: ServiceProfile, form: Mapping[str, str]) -> ServiceProfile:
    """The menus of every language plus the service-wide fields; a new language copies the default."""
    plans = {lang: plan_from_form(plan, form) for lang, plan in profile.plans.items()}
    new_lang = form.get("new_language", "").strip()
    if new_lang:
        if not LANGUAGE.fullmatch(new_lang):
            raise ValueError(f"not a language code: {new_lang!r} (use es, en, pt...)")
        plans.setdefault(new_lang, replace(profile.plan(), language=new_lang))
    default_language = form.get("default_language", profile.default_language)
    if default_language not in plans:
        raise ValueError(f"the default language {default_language!r} has no menu")
    return replace(
        profile,
        plans=plans,
        default_language=default_language,
        numbers=parse_list(form.get("numbers", "")),
        destinations=Destinations(*(parse_list(form.get(f"dest.{m}", "")) for m in MODES)),
        callback_target=form.get("callback_target", "").strip(),
        transcription=bool(form.get("transcription")),
    )
