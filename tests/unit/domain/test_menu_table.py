"""Every menu transition as one row: stage and flags before, event, stage after, effects out."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.domain.call_events import Stage
from appliance.domain.menu import step
from appliance.domain.menu_model import (
    CallerHungUp,
    Digit,
    Event,
    MenuPlan,
    MenuState,
    MessageSaved,
    NoInputTimeout,
    PromptFinished,
    RecordingFailed,
    RecordingStopped,
    StopReason,
    TicketCreated,
    TicketFailed,
    TransferFailed,
    TransferSucceeded,
)
from tests.unit.domain.menu_driver import CALLER

PLAN = MenuPlan(return_target="sip:q")
PLAYING = {"playing": True, "play_id": 1, "barge_in": True}
WAITING = {"waiting": True, "timer_id": 1}

S = Stage
ROWS: list[tuple[Stage, dict[str, Any], Event, Stage, str]] = [
    (S.GREETING, PLAYING, PromptFinished(1), S.MENU, "Play"),
    (S.GREETING, PLAYING, Digit("3"), S.TICKET_CONFIRM_NUMBER, "StopPlayback RE RE Play"),
    (S.GREETING, {**PLAYING, "barge_in": False}, Digit("3"), S.GREETING, ""),
    (S.GREETING, PLAYING, PromptFinished(2), S.GREETING, ""),
    (S.MENU, PLAYING, PromptFinished(1), S.MENU, "StartTimer"),
    (S.MENU, PLAYING, Digit("2"), S.RECORD_PROMPT, "StopPlayback RE RE Play"),
    (S.MENU, WAITING, Digit("1"), S.TRANSFER, "CancelTimer RE RE Play"),
    (S.MENU, WAITING, Digit("2"), S.RECORD_PROMPT, "CancelTimer RE RE Play"),
    (S.MENU, WAITING, Digit("3"), S.TICKET_CONFIRM_NUMBER, "CancelTimer RE RE Play"),
    (S.MENU, WAITING, Digit("9"), S.MENU, "CancelTimer RE RE Play"),
    (S.MENU, WAITING, NoInputTimeout(1), S.MENU, "RE Play"),
    (S.MENU, WAITING, NoInputTimeout(0), S.MENU, ""),
    (S.MENU, {**WAITING, "no_inputs": 2}, NoInputTimeout(1), S.GOODBYE, "RE RE RE Play"),
    (S.MENU, {**WAITING, "invalids": 3}, Digit("9"), S.GOODBYE, "CancelTimer RE RE RE RE Play"),
    (S.TRANSFER, PLAYING, Digit("2"), S.TRANSFER, ""),
    (S.TRANSFER, PLAYING, PromptFinished(1), S.TRANSFER, "Transfer RE"),
    (S.TRANSFER, {}, TransferSucceeded(), S.TRANSFER, "RE EndCall"),
    (S.TRANSFER, {}, TransferFailed(503), S.MENU, "RE Play"),
    (S.RECORD_PROMPT, PLAYING, PromptFinished(1), S.RECORDING, "StartRecording RE"),
    (S.RECORDING, {}, RecordingStopped(StopReason.HASH, 9.0), S.MESSAGE_SAVING, "RE SaveMessage"),
    (S.RECORDING, {}, RecordingFailed("disk full"), S.TICKET_CONFIRM_NUMBER, "RE Play"),
    (S.MESSAGE_SAVING, {}, MessageSaved("12"), S.MESSAGE_READBACK, "RE RE Play"),
    (S.MESSAGE_READBACK, PLAYING, PromptFinished(1), S.MESSAGE_READBACK, "EndCall"),
    (
        S.TICKET_CONFIRM_NUMBER,
        WAITING,
        Digit("1"),
        S.TICKET_CREATING,
        "CancelTimer RE RE RE CreateTicket",
    ),
    (S.TICKET_CONFIRM_NUMBER, WAITING, Digit("2"), S.TICKET_ENTER_NUMBER, "CancelTimer RE Play"),
    (
        S.TICKET_ENTER_NUMBER,
        WAITING,
        Digit("9"),
        S.TICKET_ENTER_NUMBER,
        "CancelTimer RE StartTimer",
    ),
    (
        S.TICKET_ENTER_NUMBER,
        {**WAITING, "buffer": "91234567"},
        Digit("8"),
        S.TICKET_ENTER_NUMBER,
        "CancelTimer RE StartTimer",
    ),
    (
        S.TICKET_ENTER_NUMBER,
        {**WAITING, "buffer": "912345678"},
        Digit("#"),
        S.TICKET_CREATING,
        "CancelTimer RE RE RE CreateTicket",
    ),
    (
        S.TICKET_ENTER_NUMBER,
        {**WAITING, "buffer": "912345678"},
        NoInputTimeout(1),
        S.TICKET_CREATING,
        "RE RE CreateTicket",
    ),
    (
        S.TICKET_ENTER_NUMBER,
        {**WAITING, "buffer": "12"},
        Digit("#"),
        S.TICKET_ENTER_NUMBER,
        "CancelTimer RE RE RE Play",
    ),
    (S.TICKET_CREATING, {}, TicketCreated("15", True), S.TICKET_READBACK, "RE RE RE Play"),
    (S.TICKET_CREATING, {}, TicketFailed("down"), S.GOODBYE, "RE RE Play"),
    (S.TICKET_CREATING, {}, Digit("1"), S.TICKET_CREATING, ""),
    (
        S.TICKET_READBACK,
        {**WAITING, "readbacks": 1, "reference": "15"},
        Digit("1"),
        S.GOODBYE,
        "CancelTimer RE RE RE Play",
    ),
    (S.TICKET_READBACK, WAITING, NoInputTimeout(1), S.GOODBYE, "RE Play"),
    (S.GOODBYE, PLAYING, PromptFinished(1), S.GOODBYE, "EndCall"),
    (S.GOODBYE, PLAYING, Digit("1"), S.GOODBYE, ""),
    (S.MENU, WAITING, CallerHungUp(), S.MENU, "RE CancelTimer"),
    (S.RECORDING, {}, CallerHungUp(), S.RECORDING, "RE"),
    (S.MENU, {"ended": True}, Digit("1"), S.MENU, ""),
    (S.MENU, {"ended": True}, CallerHungUp(), S.MENU, ""),
]


@pytest.mark.parametrize(
    ("stage", "flags", "event", "after", "effects"),
    ROWS,
    ids=[f"{r[0]}-{type(r[2]).__name__}-{i}" for i, r in enumerate(ROWS)],
)
def test_transition(
    stage: Stage, flags: dict[str, Any], event: Event, after: Stage, effects: str
) -> None:
    state = MenuState(stage=stage, caller=CALLER, **flags)
    new, out = step(state, event, PLAN)
    assert new.stage is after
    names = ["RE" if type(e).__name__ == "RecordEvent" else type(e).__name__ for e in out]
    assert " ".join(names) == effects
