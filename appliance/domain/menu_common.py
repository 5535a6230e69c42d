"""Moves every menu stage shares: play a prompt, wait for input, count silence and wrong digits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.menu_model import (
    CancelTimer,
    Effect,
    EndCall,
    MenuPlan,
    MenuState,
    Play,
    RecordEvent,
    StartTimer,
)

Result = tuple[MenuState, list[Effect]]
InputHandler = Callable[[MenuState, str, MenuPlan], Result]
StateHandler = Callable[[MenuState, MenuPlan], Result]


def record(kind: EventKind, **detail: Any) -> RecordEvent:
    return RecordEvent(kind, detail)


def play(
    state: MenuState,
    prompts: Iterable[str],
    *,
    barge_in: bool,
    stage: Stage | None = None,
    **changes: Any,
) -> Result:
    """Start a prompt sequence; entering a new stage resets its counters and digit buffer."""
    if stage is not None and stage is not state.stage:
        changes = {"no_inputs": 0, "invalids": 0, "buffer": "", **changes}
    play_id = state.play_id + 1
    new = replace(
        state,
        stage=stage or state.stage,
        playing=True,
        barge_in=barge_in,
        play_id=play_id,
        waiting=False,
        **changes,
    )
    return new, [Play(tuple(prompts), barge_in, play_id, state.language)]


def wait(state: MenuState, seconds: float) -> Result:
    timer_id = state.timer_id + 1
    return replace(state, waiting=True, timer_id=timer_id), [StartTimer(timer_id, seconds)]


def stop_waiting(state: MenuState) -> Result:
    if not state.waiting:
        return state, []
    return replace(state, waiting=False), [CancelTimer()]


def goodbye(state: MenuState, *prefix: str, reason: str = "done") -> Result:
    """Say goodbye, then end the call (see after_goodbye)."""
    new, effects = play(state, (*prefix, "goodbye"), barge_in=False, stage=Stage.GOODBYE)
    return new, [record(EventKind.DISCONNECT, reason=reason), *effects]


def end_call(state: MenuState) -> Result:
    return replace(state, ended=True, playing=False, waiting=False), [EndCall()]


def with_effects(effects: Sequence[Effect], result: Result) -> Result:
    return result[0], [*effects, *result[1]]


def retry_or_fallback(
    state: MenuState,
    plan: MenuPlan,
    *,
    silence: bool,
    reprompt: Callable[[MenuState, str], Result],
    fallback: StateHandler,
) -> Result:
    """Count a silence or a wrong digit; re-prompt while under the plan's limit, else fall back."""
    if silence:
        state = replace(state, no_inputs=state.no_inputs + 1)
        over, notice = state.no_inputs > plan.max_repeats, "no_input"
        event = record(EventKind.NO_INPUT, stage=state.stage, count=state.no_inputs)
    else:
        state = replace(state, invalids=state.invalids + 1)
        over, notice = state.invalids > plan.max_invalid, "invalid_option"
        event = record(EventKind.INVALID_DIGIT, stage=state.stage, count=state.invalids)
    return with_effects([event], fallback(state, plan) if over else reprompt(state, notice))
