"""The menu state machine: greeting, main menu, repeats, invalid digits, barge-in, keep waiting."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.hours import Mode
from appliance.domain.menu import actions, initial_state, step
from appliance.domain.menu_model import (
    Action,
    CallerHungUp,
    CancelTimer,
    Digit,
    EndCall,
    MenuPlan,
    NoInputTimeout,
    Play,
    PromptFinished,
    StartTimer,
    StopPlayback,
    Transfer,
    TransferFailed,
    TransferSucceeded,
)
from appliance.domain.outcomes import Outcome
from tests.unit.domain.menu_driver import Driver

PLAN = MenuPlan(return_target="sip:600@pbx.example", max_repeats=2, max_invalid=2)


def in_menu(mode: Mode = Mode.BUSINESS, plan: MenuPlan = PLAN) -> Driver:
    d = Driver(plan)
    d.answer(mode)
    d.finish()  # greeting done -> menu prompt
    d.finish()  # menu prompt done -> waiting for a digit
    return d


@pytest.mark.parametrize(
    ("mode", "incident", "prompts"),
    [
        (Mode.BUSINESS, None, ("welcome", "agents_busy")),
        (Mode.AFTER_HOURS, None, ("welcome", "office_closed")),
        (Mode.HOLIDAY, None, ("welcome", "holiday")),
        (Mode.BUSINESS, "incident_fibre_cut", ("welcome", "agents_busy", "incident_fibre_cut")),
    ],
)
def test_greeting(mode: Mode, incident: str | None, prompts: tuple[str, ...]) -> None:
    d = Driver(PLAN)
    effects = d.answer(mode, incident=incident)
    assert d.played() == prompts
    assert d.state.stage is Stage.GREETING
    assert d.kinds() == [EventKind.ANSWERED]
    assert effects[-1] == Play(prompts, True, 1, "es")


@pytest.mark.parametrize(
    ("mode", "keep_waiting_allowed", "prompt"),
    [
        (Mode.BUSINESS, True, "menu_business"),
        (Mode.BUSINESS, False, "menu_after_hours"),
        (Mode.AFTER_HOURS, True, "menu_after_hours"),
        (Mode.HOLIDAY, True, "menu_after_hours"),
    ],
)
def test_menu_prompt_per_mode(mode: Mode, keep_waiting_allowed: bool, prompt: str) -> None:
    d = Driver(PLAN)
    d.answer(mode)
    d.state = replace(d.state, keep_waiting_allowed=keep_waiting_allowed)
    d.finish()
    assert d.played() == (prompt,)
    assert d.state.stage is Stage.MENU
    assert d.finish() == [StartTimer(1, 6.0)]


@pytest.mark.parametrize(
    ("mode", "allowed", "target", "digits"),
    [
        (Mode.BUSINESS, True, "sip:q", {"1", "2", "3"}),
        (Mode.BUSINESS, False, "sip:q", {"2", "3"}),
        (Mode.BUSINESS, True, "", {"2", "3"}),  # no return target configured
        (Mode.AFTER_HOURS, True, "sip:q", {"2", "3"}),
        (Mode.HOLIDAY, True, "sip:q", {"2", "3"}),
    ],
)
def test_keep_waiting_only_in_business_hours(
    mode: Mode, allowed: bool, target: str, digits: set[str]
) -> None:
    state = replace(initial_state(), mode=mode, keep_waiting_allowed=allowed)
    assert set(actions(state, replace(PLAN, return_target=target))) == digits


def test_holiday_table_when_configured() -> None:
    plan = replace(PLAN, holiday={"3": Action.TICKET})
    assert actions(replace(initial_state(), mode=Mode.HOLIDAY), plan) == {"3": Action.TICKET}


@pytest.mark.parametrize(
    ("key", "stage", "prompts"),
    [
        ("1", Stage.TRANSFER, ("transferring",)),
        ("2", Stage.RECORD_PROMPT, ("record_after_tone", "beep")),
        ("3", Stage.TICKET_CONFIRM_NUMBER, None),
        ("4", Stage.MENU, ("invalid_option", "menu_business")),
        ("#", Stage.MENU, ("invalid_option", "menu_business")),
    ],
)
def test_menu_digit_transitions(key: str, stage: Stage, prompts: tuple[str, ...] | None) -> None:
    d = in_menu()
    effects = d.press(key)
    assert effects[0] == CancelTimer()
    assert d.state.stage is stage
    if prompts is not None:
        assert d.played() == prompts


def test_after_hours_refuses_keep_waiting() -> None:
    d = in_menu(Mode.AFTER_HOURS)
    d.press("1")
    assert d.played() == ("invalid_option", "menu_after_hours")
    assert EventKind.INVALID_DIGIT in d.kinds()


@pytest.mark.parametrize(
    ("default", "stage", "prompts"),
    [
        (Action.HANGUP, Stage.GOODBYE, ("goodbye",)),
        (Action.LEAVE_MESSAGE, Stage.RECORD_PROMPT, ("record_after_tone", "beep")),
        (Action.KEEP_WAITING, Stage.TRANSFER, ("transferring",)),
        (Action.REPEAT, Stage.GOODBYE, ("goodbye",)),  # repeating forever is not a default
    ],
)
def test_no_input_repeats_then_default_action(
    default: Action, stage: Stage, prompts: tuple[str, ...]
) -> None:
    d = in_menu(plan=replace(PLAN, default_action=default))
    for _ in range(PLAN.max_repeats):
        d.timeout()
        assert d.played() == ("no_input", "menu_business")
        d.finish()
    d.timeout()
    assert d.state.stage is stage
    assert d.played() == prompts
    assert d.kinds().count(EventKind.NO_INPUT) == PLAN.max_repeats + 1
    assert EventKind.DEFAULT_ACTION in d.kinds()


def test_default_keep_waiting_after_hours_hangs_up() -> None:
    d = in_menu(Mode.AFTER_HOURS, replace(PLAN, default_action=Action.KEEP_WAITING, max_repeats=0))
    d.timeout()
    assert d.played() == ("goodbye",)
    assert d.finish() == [EndCall()]
    assert d.outcome() is Outcome.NO_INPUT


def test_too_many_invalid_digits() -> None:
    d = in_menu()
    for _ in range(PLAN.max_invalid):
        d.press("9")
        d.finish()
    d.press("9")
    assert d.played() == ("goodbye",)
    d.finish()
    assert d.state.ended
    assert d.outcome() is Outcome.NO_INPUT


def test_barge_in_stops_the_prompt() -> None:
    d = Driver(PLAN)
    d.answer()
    effects = d.press("2")  # during the greeting
    assert effects[0] == StopPlayback()
    assert d.state.stage is Stage.RECORD_PROMPT


def test_without_barge_in_digits_during_prompts_are_ignored() -> None:
    d = Driver(replace(PLAN, barge_in=False))
    d.answer()
    assert d.press("2") == []
    assert d.state.stage is Stage.GREETING


def test_repeat_action_replays_the_menu() -> None:
    d = in_menu(plan=replace(PLAN, business={**PLAN.business, "9": Action.REPEAT}))
    d.press("9")
    assert d.played() == ("menu_business",)
    assert d.state.invalids == 0


@pytest.mark.parametrize(
    "event",
    [PromptFinished(99), NoInputTimeout(99), Digit("A"), TransferSucceeded(), TransferFailed(486)],
)
def test_stale_or_foreign_events_change_nothing(
    event: PromptFinished | NoInputTimeout | Digit | TransferSucceeded | TransferFailed,
) -> None:
    d = in_menu()
    before = d.state
    assert d.send(event) == []
    assert d.state == before


def test_digit_while_nothing_is_asked_is_ignored() -> None:
    d = in_menu()
    d.press("1")  # -> transferring, no barge-in
    assert d.press("2") == []
    d.finish()
    assert d.press("2") == []  # waiting for the transfer result


def test_keep_waiting_transfer_succeeds() -> None:
    d = in_menu()
    d.press("1")
    effects = d.finish()
    assert Transfer("sip:600@pbx.example") in effects
    assert d.send(TransferSucceeded())[-1] == EndCall()
    assert d.state.ended
    assert d.outcome() is Outcome.RETURNED_TO_QUEUE
    assert d.send(CallerHungUp()) == []  # the BYE that follows is not an abandon


@pytest.mark.parametrize("status", [486, 503, None])
def test_transfer_failure_falls_back_to_menu_without_keep_waiting(status: int | None) -> None:
    d = in_menu()
    d.press("1")
    d.finish()
    d.send(TransferFailed(status))
    assert d.played() == ("transfer_failed", "menu_after_hours")
    assert d.state.stage is Stage.MENU
    assert not d.state.keep_waiting_allowed
    d.finish()
    d.press("1")
    assert d.played() == ("invalid_option", "menu_after_hours")
    d.send(CallerHungUp())
    assert d.outcome() is Outcome.TRANSFER_FAILED


@pytest.mark.parametrize(
    ("moves", "outcome"),
    [
        ("", Outcome.ABANDONED_IN_GREETING),
        ("f", Outcome.ABANDONED_IN_MENU),
        ("ff", Outcome.ABANDONED_IN_MENU),
        ("ff1", Outcome.ABANDONED_IN_TRANSFER),
        ("ff2", Outcome.ABANDONED_IN_RECORDING),
        ("ff3", Outcome.ABANDONED_IN_TICKET),
    ],
)
def test_hangup_anywhere_is_recorded_with_its_stage(moves: str, outcome: Outcome) -> None:
    d = Driver(PLAN)
    d.answer()
    for move in moves:
        d.finish() if move == "f" else d.press(move)
    stage = d.state.stage
    effects = d.send(CallerHungUp())
    assert effects[0].kind is EventKind.HANGUP  # type: ignore[union-attr]
    assert effects[0].detail == {"stage": stage}  # type: ignore[union-attr]
    assert d.state.ended
    assert d.outcome() is outcome
    assert d.finish() == [] and d.timeout() == [] and d.press("1") == []


def test_hangup_while_waiting_cancels_the_timer() -> None:
    d = in_menu()
    assert d.send(CallerHungUp())[-1] == CancelTimer()


def test_step_is_pure() -> None:
    state = initial_state()
    first = step(state, Digit("1"), PLAN)
    assert step(state, Digit("1"), PLAN) == first
    assert state == initial_state()
