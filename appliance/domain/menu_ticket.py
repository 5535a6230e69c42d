"""The ticket sub-flow: optional ID, request type, callback number, slot, creation, read-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.dialplan import mask
from appliance.domain.hours import Weekday
from appliance.domain.menu_common import (
    Result,
    goodbye,
    play,
    record,
    retry_or_fallback,
    wait,
    with_effects,
)
from appliance.domain.menu_model import (
    CreateTicket,
    Effect,
    MenuPlan,
    MenuState,
    TicketCreated,
    TicketFailed,
)
from appliance.domain.tickets import IdScheme, national_id_valid, normalise_rut, spoken_digits

_ORDER = (Stage.TICKET_ID, Stage.TICKET_TYPE, Stage.TICKET_ENTER_NUMBER, Stage.TICKET_SLOT)
_COLLECTING = (Stage.TICKET_ID, Stage.TICKET_ENTER_NUMBER)
_NUMBER_CAP = 20  # 00 + 15 E.164 digits, with room to spare
_MAX_SLOTS = 8  # digits 2..9


def start_ticket(state: MenuState, plan: MenuPlan, *prefix: str) -> Result:
    return _advance(state, plan, None, prefix)


def _enabled(stage: Stage, state: MenuState, plan: MenuPlan) -> bool:
    options = plan.ticket
    if stage is Stage.TICKET_ID:
        return options.ask_id
    if stage is Stage.TICKET_TYPE:
        return bool(options.request_types)
    if stage is Stage.TICKET_ENTER_NUMBER:
        return options.callbacks
    return (
        options.offer_slots
        and bool(_slots(state, plan))
        and state.draft.callback_number is not None
    )


def _advance(
    state: MenuState, plan: MenuPlan, done: Stage | None, prefix: tuple[str, ...]
) -> Result:
    """Enter the first enabled step after `done`, or create the ticket."""
    start = 0 if done is None else _ORDER.index(_order_key(done)) + 1
    for stage in _ORDER[start:]:
        if _enabled(stage, state, plan):
            if stage is Stage.TICKET_ENTER_NUMBER and plan.dial_plan.check(state.caller).ok:
                stage = Stage.TICKET_CONFIRM_NUMBER
            entered = replace(state, stage=stage, no_inputs=0, invalids=0, buffer="")
            return play(entered, (*prefix, *ask_prompts(entered, plan)), barge_in=plan.barge_in)
    return _create(state, plan, prefix)


def _order_key(stage: Stage) -> Stage:
    return Stage.TICKET_ENTER_NUMBER if stage is Stage.TICKET_CONFIRM_NUMBER else stage


def _slots(state: MenuState, plan: MenuPlan) -> tuple[datetime, ...]:
    return state.slots[: min(plan.slot_count, _MAX_SLOTS)]


def ask_prompts(state: MenuState, plan: MenuPlan) -> tuple[str, ...]:
    """What the current ticket step asks (played again on silence or a wrong digit)."""
    if state.stage is Stage.TICKET_ID:
        return ("enter_id",)
    if state.stage is Stage.TICKET_TYPE:
        return ("request_type_menu",)
    if state.stage is Stage.TICKET_CONFIRM_NUMBER:
        e164 = plan.dial_plan.check(state.caller).e164 or ""
        digits = spoken_digits(plan.dial_plan.national_digits(e164))
        return ("press_1_to_be_called_at", *digits, "press_2_for_another_number")
    if state.stage is Stage.TICKET_ENTER_NUMBER:
        return ("enter_number_then_hash",)
    prompts = ["choose_slot"]
    for n, slot in enumerate(_slots(state, plan), start=2):
        day = Weekday(slot.weekday()).key
        prompts += [f"digit_{n}", "for", f"day_{day}", *spoken_digits(f"{slot:%H%M}")]
    return tuple(prompts)


def on_input(state: MenuState, key: str, plan: MenuPlan) -> Result:
    if state.stage in _COLLECTING:
        return _collect(state, key, plan)
    if state.stage is Stage.TICKET_TYPE:
        return _choose_type(state, key, plan)
    if state.stage is Stage.TICKET_CONFIRM_NUMBER:
        return _confirm_number(state, key, plan)
    if state.stage is Stage.TICKET_SLOT:
        return _choose_slot(state, key, plan)
    return _readback_choice(state, key, plan)


def on_timeout(state: MenuState, plan: MenuPlan) -> Result:
    if state.stage in _COLLECTING and state.buffer:
        return _finish_entry(state, plan)
    if state.stage is Stage.TICKET_READBACK:
        return goodbye(state)
    return _retry(state, plan, silence=True)


def _retry(state: MenuState, plan: MenuPlan, *, silence: bool, notice: str = "") -> Result:
    def reprompt(s: MenuState, default_notice: str) -> Result:
        prompts = (notice or default_notice, *ask_prompts(s, plan))
        return play(replace(s, buffer=""), prompts, barge_in=plan.barge_in)

    return retry_or_fallback(state, plan, silence=silence, reprompt=reprompt, fallback=_give_up)


def _give_up(state: MenuState, plan: MenuPlan) -> Result:
    """Past the limits: carry on with what the step would default to."""
    stage = state.stage
    if stage is Stage.TICKET_CONFIRM_NUMBER:
        return _number_chosen(state, plan, plan.dial_plan.check(state.caller).e164, "caller_id")
    if stage is Stage.TICKET_ENTER_NUMBER:
        return _number_chosen(state, plan, None, "none")
    return _advance(state, plan, stage, ())


def _collect(state: MenuState, key: str, plan: MenuPlan) -> Result:
    if key == "#":
        return _finish_entry(state, plan)
    rut = state.stage is Stage.TICKET_ID and plan.ticket.id_scheme is IdScheme.CL_RUT
    if key == "*" and not rut:
        return _retry(state, plan, silence=False)
    state = replace(state, buffer=state.buffer + key)
    cap = plan.ticket.id_max_length if state.stage is Stage.TICKET_ID else _NUMBER_CAP
    if len(state.buffer) >= cap:
        return _finish_entry(state, plan)
    return wait(state, plan.digit_timeout_s)


def _finish_entry(state: MenuState, plan: MenuPlan) -> Result:
    if state.stage is Stage.TICKET_ID:
        return _finish_id(state, plan)
    result = plan.dial_plan.check(state.buffer)
    if result.e164 is None:
        event = record(
            EventKind.CALLBACK_NUMBER_REFUSED, reason=result.reason, number=mask(state.buffer)
        )
        return with_effects([event], _retry(state, plan, silence=False, notice="invalid_number"))
    return _number_chosen(state, plan, result.e164, "typed")


def _finish_id(state: MenuState, plan: MenuPlan) -> Result:
    options, typed = plan.ticket, state.buffer
    if not typed:  # '#' alone: the caller skips the optional ID
        return _advance(state, plan, Stage.TICKET_ID, ())
    if not national_id_valid(
        options.id_scheme, typed, min_len=options.id_min_length, max_len=options.id_max_length
    ):
        event = record(EventKind.ID_REFUSED, length=len(typed))
        return with_effects([event], _retry(state, plan, silence=False, notice="invalid_id"))
    customer_id = normalise_rut(typed) if options.id_scheme is IdScheme.CL_RUT else typed
    draft = replace(state.draft, customer_id=customer_id)
    event = record(EventKind.ID_ENTERED, scheme=options.id_scheme)
    return with_effects([event], _advance(replace(state, draft=draft), plan, Stage.TICKET_ID, ()))


def _choose_type(state: MenuState, key: str, plan: MenuPlan) -> Result:
    types = plan.ticket.request_types
    if not (key.isdigit() and 1 <= int(key) <= len(types)):
        return _retry(state, plan, silence=False)
    chosen = types[int(key) - 1]
    draft = replace(state.draft, request_type=chosen)
    event = record(EventKind.REQUEST_TYPE_CHOSEN, request_type=chosen)
    return with_effects([event], _advance(replace(state, draft=draft), plan, Stage.TICKET_TYPE, ()))


def _confirm_number(state: MenuState, key: str, plan: MenuPlan) -> Result:
    if key == "1":
        return _number_chosen(state, plan, plan.dial_plan.check(state.caller).e164, "caller_id")
    if key == "2":
        entering = replace(
            state, stage=Stage.TICKET_ENTER_NUMBER, no_inputs=0, invalids=0, buffer=""
        )
        return play(entering, ("enter_number_then_hash",), barge_in=plan.barge_in)
    return _retry(state, plan, silence=False)


def _number_chosen(state: MenuState, plan: MenuPlan, e164: str | None, source: str) -> Result:
    draft = replace(state.draft, callback_number=e164)
    event = record(EventKind.CALLBACK_NUMBER_CHOSEN, source=source, number=mask(e164 or ""))
    return with_effects(
        [event], _advance(replace(state, draft=draft), plan, Stage.TICKET_ENTER_NUMBER, ())
    )


def _choose_slot(state: MenuState, key: str, plan: MenuPlan) -> Result:
    slots = _slots(state, plan)
    if key == "1":
        slot = None
    elif key.isdigit() and 2 <= int(key) <= len(slots) + 1:
        slot = state.slots[int(key) - 2]
    else:
        return _retry(state, plan, silence=False)
    event = record(EventKind.SLOT_CHOSEN, slot=slot.isoformat() if slot else "asap")
    return with_effects(
        [event], _create(replace(state, draft=replace(state.draft, slot=slot)), plan, ())
    )


def _create(state: MenuState, plan: MenuPlan, prefix: tuple[str, ...]) -> Result:
    draft = state.draft
    callback = plan.ticket.callbacks and draft.callback_number is not None
    request = CreateTicket(
        caller=state.caller,
        mode=state.mode,
        language=state.language,
        answered_at=state.answered_at,
        customer_id=draft.customer_id,
        request_type=draft.request_type,
        callback_number=draft.callback_number,
        callback=callback,
        slot=draft.slot,
    )
    new = replace(state, stage=Stage.TICKET_CREATING, no_inputs=0, invalids=0, buffer="")
    effects: list[Effect] = [record(EventKind.TICKET_REQUESTED, callback=callback), request]
    if prefix:  # an apology to play while the store works (the recording-failed path)
        new, played = play(new, prefix, barge_in=False)
        effects += played
    return new, effects


def on_created(state: MenuState, event: TicketCreated, plan: MenuPlan) -> Result:
    effects: list[Effect] = [
        record(EventKind.TICKET_CREATED, number=event.number, existing=event.existing)
    ]
    if event.callback_scheduled:
        effects.append(record(EventKind.CALLBACK_SCHEDULED))
    state = replace(state, reference=event.number, callback_scheduled=event.callback_scheduled)
    if state.ended:
        return state, effects
    return with_effects(effects, read_back(state, plan))


def on_failed(state: MenuState, event: TicketFailed) -> Result:
    effects: list[Effect] = [record(EventKind.TICKET_FAILED, reason=event.reason)]
    if state.ended:
        return state, effects
    return with_effects(effects, goodbye(state, "technical_problem", reason="ticket_failed"))


def read_back(state: MenuState, plan: MenuPlan) -> Result:
    state = replace(state, readbacks=state.readbacks + 1)
    spoken = ("your_reference_is", *spoken_digits(state.reference))
    if state.callback_scheduled:
        spoken += ("callback_scheduled",)
    event = record(EventKind.TICKET_READ_BACK, count=state.readbacks)
    if state.readbacks >= plan.ticket.max_readbacks:
        return with_effects([event], goodbye(state, *spoken))
    played = play(state, (*spoken, "repeat_ticket"), barge_in=False, stage=Stage.TICKET_READBACK)
    return with_effects([event], played)


def _readback_choice(state: MenuState, key: str, plan: MenuPlan) -> Result:
    return read_back(state, plan) if key == "1" else goodbye(state)
