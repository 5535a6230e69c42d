"""The caller's menu state machine: `step(state, event, plan) -> (state, effects)`. Pure.

This module owns the greeting, the main menu and keep-waiting; messages and tickets live in
menu_message and menu_ticket. Types are in menu_model.
"""

from __future__ import annotations

from dataclasses import replace

from appliance.domain import menu_message, menu_ticket
from appliance.domain.call_events import EventKind, Stage
from appliance.domain.hours import Mode
from appliance.domain.menu_common import (
    Result,
    end_call,
    goodbye,
    play,
    record,
    retry_or_fallback,
    stop_waiting,
    wait,
    with_effects,
)
from appliance.domain.menu_model import (
    Action,
    CallAnswered,
    CallerHungUp,
    Digit,
    Effect,
    Event,
    MenuPlan,
    MenuState,
    MessageSaved,
    NoInputTimeout,
    PromptFinished,
    RecordingFailed,
    RecordingStopped,
    StopPlayback,
    TicketCreated,
    TicketFailed,
    Transfer,
    TransferFailed,
    TransferSucceeded,
)

_GREETINGS = {
    Mode.BUSINESS: ("welcome", "agents_busy"),
    Mode.AFTER_HOURS: ("welcome", "office_closed"),
    Mode.HOLIDAY: ("welcome", "holiday"),
}
_ASKING = (
    Stage.MENU,
    Stage.TICKET_ID,
    Stage.TICKET_TYPE,
    Stage.TICKET_CONFIRM_NUMBER,
    Stage.TICKET_ENTER_NUMBER,
    Stage.TICKET_SLOT,
    Stage.TICKET_READBACK,
)
DTMF_KEYS = frozenset("0123456789*#")


def initial_state() -> MenuState:
    return MenuState()


def step(state: MenuState, event: Event, plan: MenuPlan) -> Result:
    """Advance the caller's menu by one event. Pure: no I/O, no clock."""
    if isinstance(event, CallAnswered):
        return _answer(event, plan)
    if isinstance(event, CallerHungUp):
        return _hung_up(state)
    if isinstance(event, PromptFinished):
        if event.play_id != state.play_id or not state.playing or state.ended:
            return state, []  # a superseded prompt
        return _after_prompt(replace(state, playing=False), plan)
    if isinstance(event, NoInputTimeout):
        if event.timer_id != state.timer_id or not state.waiting or state.ended:
            return state, []
        return _on_timeout(replace(state, waiting=False), plan)
    if isinstance(event, Digit):
        return _on_digit(state, event.key, plan)
    return _on_result(state, event, plan)


def _on_result(state: MenuState, event: Event, plan: MenuPlan) -> Result:
    """Results of effects the service performed."""
    if isinstance(event, RecordingStopped):
        return menu_message.on_stopped(state, event, plan)
    if isinstance(event, RecordingFailed):
        return menu_message.on_failed(state, event, plan)
    if isinstance(event, MessageSaved):
        return menu_message.on_saved(state, event, plan)
    if isinstance(event, TicketCreated) and state.stage is Stage.TICKET_CREATING:
        return menu_ticket.on_created(state, event, plan)
    if isinstance(event, TicketFailed) and state.stage is Stage.TICKET_CREATING:
        return menu_ticket.on_failed(state, event)
    if state.stage is Stage.TRANSFER and not state.ended:
        if isinstance(event, TransferSucceeded):
            ended, effects = end_call(state)
            return ended, [record(EventKind.TRANSFER_SUCCEEDED), *effects]
        if isinstance(event, TransferFailed):
            return _transfer_failed(state, event, plan)
    return state, []


def _answer(event: CallAnswered, plan: MenuPlan) -> Result:
    state = MenuState(
        mode=event.mode,
        language=plan.language,
        caller=event.caller,
        answered_at=event.now,
        slots=event.slots,
    )
    prompts = _GREETINGS[event.mode] + ((event.incident,) if event.incident else ())
    answered = record(EventKind.ANSWERED, mode=event.mode, language=plan.language)
    return with_effects([answered], play(state, prompts, barge_in=plan.barge_in))


def _hung_up(state: MenuState) -> Result:
    if state.ended:
        return state, []
    event = record(EventKind.HANGUP, stage=state.stage)
    _, cancel = stop_waiting(state)
    return replace(state, ended=True, playing=False, waiting=False), [event, *cancel]


def _after_prompt(state: MenuState, plan: MenuPlan) -> Result:
    stage = state.stage
    if stage is Stage.GREETING:
        return _menu(state, plan)
    if stage is Stage.TRANSFER:
        return state, [Transfer(plan.return_target), record(EventKind.TRANSFER_STARTED)]
    if stage in (Stage.RECORD_PROMPT, Stage.MESSAGE_READBACK):
        return menu_message.after_prompt(state, plan)
    if stage is Stage.GOODBYE:
        return end_call(state)
    if stage in _ASKING:
        return wait(state, plan.no_input_timeout_s)
    return state, []  # e.g. the apology played while a ticket is being created


def _on_digit(state: MenuState, key: str, plan: MenuPlan) -> Result:
    greeting = state.stage is Stage.GREETING
    if state.ended or key not in DTMF_KEYS or not (state.stage in _ASKING or greeting):
        return state, []
    effects: list[Effect] = []
    if state.playing:
        if not state.barge_in:
            return state, []
        # A digit during the greeting is the caller who already knows the menu.
        stage = Stage.MENU if greeting else state.stage
        state, effects = replace(state, playing=False, stage=stage), [StopPlayback()]
    elif not state.waiting:
        return state, []
    state, cancel = stop_waiting(state)
    shown = "*" if state.stage in (Stage.TICKET_ID, Stage.TICKET_ENTER_NUMBER) else key
    pressed = [*effects, *cancel, record(EventKind.DIGIT, key=shown, stage=state.stage)]
    if state.stage is Stage.MENU:
        return with_effects(pressed, _menu_choice(state, key, plan))
    return with_effects(pressed, menu_ticket.on_input(state, key, plan))


def _on_timeout(state: MenuState, plan: MenuPlan) -> Result:
    if state.stage is Stage.MENU:
        return _retry_menu(state, plan, silence=True)
    return menu_ticket.on_timeout(state, plan)


def actions(state: MenuState, plan: MenuPlan) -> dict[str, Action]:
    """The digits the caller may press now: keep waiting only in business hours, once."""
    table = {
        Mode.BUSINESS: plan.business,
        Mode.AFTER_HOURS: plan.after_hours,
        Mode.HOLIDAY: plan.after_hours if plan.holiday is None else plan.holiday,
    }[state.mode]
    can_wait = (
        state.mode is Mode.BUSINESS and state.keep_waiting_allowed and bool(plan.return_target)
    )
    return {k: a for k, a in table.items() if a is not Action.KEEP_WAITING or can_wait}


def menu_prompt(state: MenuState, plan: MenuPlan) -> str:
    if state.mode is Mode.BUSINESS:
        return (
            plan.menu_prompt_business if state.keep_waiting_allowed else plan.menu_prompt_no_waiting
        )
    if state.mode is Mode.HOLIDAY:
        return plan.menu_prompt_holiday
    return plan.menu_prompt_after_hours


def _menu(state: MenuState, plan: MenuPlan, *prefix: str) -> Result:
    return play(
        state, (*prefix, menu_prompt(state, plan)), barge_in=plan.barge_in, stage=Stage.MENU
    )


def _menu_choice(state: MenuState, key: str, plan: MenuPlan) -> Result:
    action = actions(state, plan).get(key)
    if action is None:
        return _retry_menu(state, plan, silence=False)
    chosen = record(EventKind.OPTION_CHOSEN, action=action, key=key)
    return with_effects([chosen], _perform(state, action, plan))


def _retry_menu(state: MenuState, plan: MenuPlan, *, silence: bool) -> Result:
    def reprompt(s: MenuState, notice: str) -> Result:
        return play(s, (notice, menu_prompt(s, plan)), barge_in=plan.barge_in)

    def fallback(s: MenuState, p: MenuPlan) -> Result:
        default = p.default_action
        if default not in actions(s, p).values() or default is Action.REPEAT:
            default = Action.HANGUP
        chosen = record(EventKind.DEFAULT_ACTION, action=default)
        reason = "no_input" if silence else "invalid_input"
        return with_effects([chosen], _perform(s, default, p, reason=reason))

    return retry_or_fallback(state, plan, silence=silence, reprompt=reprompt, fallback=fallback)


def _perform(state: MenuState, action: Action, plan: MenuPlan, *, reason: str = "done") -> Result:
    if action is Action.KEEP_WAITING:
        return play(state, ("transferring",), barge_in=False, stage=Stage.TRANSFER)
    if action is Action.LEAVE_MESSAGE:
        return menu_message.start_message(state, plan)
    if action is Action.TICKET:
        return menu_ticket.start_ticket(state, plan)
    if action is Action.REPEAT:
        return _menu(state, plan)
    return goodbye(state, reason=reason)


def _transfer_failed(state: MenuState, event: TransferFailed, plan: MenuPlan) -> Result:
    """Tell the caller and offer the other options again, without keep waiting."""
    failed = record(EventKind.TRANSFER_FAILED, status=event.status)
    state = replace(state, keep_waiting_allowed=False)
    return with_effects([failed], _menu(state, plan, "transfer_failed"))
