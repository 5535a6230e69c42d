"""The message sub-flow: prompt and beep, record, save, read the reference back.

A hang-up while recording still keeps the message; a failed recording offers a ticket instead.
"""

from __future__ import annotations

from dataclasses import replace

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.menu_common import Result, end_call, play, record, with_effects
from appliance.domain.menu_model import (
    MenuPlan,
    MenuState,
    MessageSaved,
    RecordingFailed,
    RecordingStopped,
    SaveMessage,
    StartRecording,
    StopReason,
)
from appliance.domain.menu_ticket import start_ticket
from appliance.domain.tickets import spoken_digits

_RECORDING_STAGES = (Stage.RECORD_PROMPT, Stage.RECORDING, Stage.MESSAGE_SAVING)


def start_message(state: MenuState, plan: MenuPlan) -> Result:
    # No barge-in: a digit must not cut the beep the caller waits for.
    return play(state, ("record_after_tone", "beep"), barge_in=False, stage=Stage.RECORD_PROMPT)


def after_prompt(state: MenuState, plan: MenuPlan) -> Result:
    """Record once the beep has played; leave after the reference was read back."""
    if state.stage is Stage.RECORD_PROMPT:
        start = StartRecording(plan.record_max_s, plan.record_silence_s, "#")
        return replace(state, stage=Stage.RECORDING), [start, record(EventKind.RECORDING_STARTED)]
    return end_call(state)


def on_stopped(state: MenuState, event: RecordingStopped, plan: MenuPlan) -> Result:
    if state.stage is not Stage.RECORDING:
        return state, []
    partial = state.ended or event.reason is StopReason.HANGUP
    too_short = event.seconds < plan.record_min_s
    save = SaveMessage(
        caller=state.caller,
        mode=state.mode,
        language=state.language,
        answered_at=state.answered_at,
        seconds=event.seconds,
        stop_reason=event.reason,
        too_short=too_short,
        silent=event.silent,
        partial=partial,
    )
    recorded = record(
        EventKind.MESSAGE_RECORDED,
        seconds=event.seconds,
        reason=event.reason,
        too_short=too_short,
        silent=event.silent,
    )
    return replace(state, stage=Stage.MESSAGE_SAVING), [recorded, save]


def on_saved(state: MenuState, event: MessageSaved, plan: MenuPlan) -> Result:
    if state.stage is not Stage.MESSAGE_SAVING:
        return state, []
    saved = record(EventKind.MESSAGE_SAVED, reference=event.reference)
    state = replace(state, reference=event.reference)
    if state.ended:
        return state, [saved]
    prompts = ("message_saved", "your_reference_is", *spoken_digits(event.reference), "goodbye")
    played = play(state, prompts, barge_in=False, stage=Stage.MESSAGE_READBACK)
    return with_effects([saved, record(EventKind.DISCONNECT, reason="done")], played)


def on_failed(state: MenuState, event: RecordingFailed, plan: MenuPlan) -> Result:
    """Disk full or write error: apologise and take a ticket instead."""
    if state.stage not in _RECORDING_STAGES:
        return state, []
    failed = record(EventKind.RECORDING_FAILED, reason=event.reason)
    if state.ended:
        return replace(state, stage=Stage.GOODBYE), [failed]
    return with_effects([failed], start_ticket(state, plan, "technical_problem"))
