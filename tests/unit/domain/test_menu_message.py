"""The message sub-flow: record, save, read back; hang-ups, short messages, failures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.hours import Mode
from appliance.domain.menu_model import (
    CallerHungUp,
    CreateTicket,
    EndCall,
    MenuPlan,
    MessageSaved,
    RecordingFailed,
    RecordingStopped,
    SaveMessage,
    StartRecording,
    StopReason,
    TicketCreated,
    TicketOptions,
)
from appliance.domain.outcomes import Outcome
from tests.unit.domain.menu_driver import CALLER, NOW, Driver

PLAN = MenuPlan(return_target="sip:q", record_max_s=90, record_silence_s=4, record_min_s=3.0)


def recording(mode: Mode = Mode.BUSINESS) -> Driver:
    d = Driver(PLAN)
    d.answer(mode)
    d.finish()
    d.finish()
    d.press("2")
    assert d.played() == ("record_after_tone", "beep")
    assert d.press("5") == []  # no barge-in over the beep
    effects = d.finish()
    assert effects[0] == StartRecording(90, 4, "#")
    assert d.state.stage is Stage.RECORDING
    return d


@pytest.mark.parametrize(
    ("reason", "seconds", "silent", "too_short"),
    [
        (StopReason.HASH, 12.5, False, False),
        (StopReason.SILENCE, 30.0, False, False),
        (StopReason.MAX_LENGTH, 90.0, False, False),
        (StopReason.HASH, 1.2, False, True),
        (StopReason.SILENCE, 4.0, True, False),
    ],
)
def test_message_recorded_saved_and_read_back(
    reason: StopReason, seconds: float, silent: bool, too_short: bool
) -> None:
    d = recording()
    effects = d.send(RecordingStopped(reason, seconds, silent))
    assert effects[-1] == SaveMessage(
        caller=CALLER,
        mode=Mode.BUSINESS,
        language="es",
        answered_at=NOW,
        seconds=seconds,
        stop_reason=reason,
        too_short=too_short,
        silent=silent,
        partial=False,
    )
    d.send(MessageSaved("307"))
    assert d.played() == (
        "message_saved",
        "your_reference_is",
        "digit_3",
        "digit_0",
        "digit_7",
        "goodbye",
    )
    assert d.finish() == [EndCall()]
    assert d.outcome() is Outcome.MESSAGE_LEFT


def test_after_hours_message() -> None:
    d = recording(Mode.AFTER_HOURS)
    d.send(RecordingStopped(StopReason.HASH, 10.0))
    assert d.of_type(SaveMessage)[0].mode is Mode.AFTER_HOURS


def test_hangup_while_recording_keeps_the_message() -> None:
    d = recording()
    d.send(CallerHungUp())
    effects = d.send(RecordingStopped(StopReason.HANGUP, 7.0))
    assert isinstance(effects[-1], SaveMessage) and effects[-1].partial
    assert d.send(MessageSaved("42")) == [d.last[0]]
    assert d.kinds()[-1] is EventKind.MESSAGE_SAVED
    assert d.outcome() is Outcome.MESSAGE_LEFT


def test_hangup_reported_only_by_the_recorder() -> None:
    d = recording()
    effects = d.send(RecordingStopped(StopReason.HANGUP, 2.0))
    assert isinstance(effects[-1], SaveMessage)
    assert effects[-1].partial and effects[-1].too_short


def test_hangup_before_the_beep_is_abandoned_in_recording() -> None:
    d = Driver(PLAN)
    d.answer()
    d.press("2")
    d.send(CallerHungUp())
    assert d.outcome() is Outcome.ABANDONED_IN_RECORDING


def test_recording_failure_offers_a_ticket() -> None:
    d = recording()
    d.send(RecordingFailed("disk full"))
    assert d.played()[0] == "technical_problem"
    assert d.played()[1] == "press_1_to_be_called_at"
    assert d.state.stage is Stage.TICKET_CONFIRM_NUMBER
    assert EventKind.RECORDING_FAILED in d.kinds()


def test_save_failure_after_recording_is_not_a_message() -> None:
    d = recording()
    d.send(RecordingStopped(StopReason.HASH, 10.0))
    d.send(RecordingFailed("write error"))
    d.send(CallerHungUp())
    assert d.outcome() is Outcome.ABANDONED_IN_TICKET


def test_recording_failure_after_hangup_only_records() -> None:
    d = recording()
    d.send(CallerHungUp())
    assert d.send(RecordingFailed("disk full")) == [d.last[0]]
    assert d.outcome() is Outcome.ABANDONED_IN_RECORDING


@pytest.mark.parametrize(
    "event", [RecordingStopped(StopReason.HASH, 3.0), MessageSaved("1"), RecordingFailed("x")]
)
def test_recording_results_outside_recording_are_ignored(
    event: RecordingStopped | MessageSaved | RecordingFailed,
) -> None:
    d = Driver(PLAN)
    d.answer()
    assert d.send(event) == []


def test_recording_failure_with_no_ticket_questions_creates_while_apologising() -> None:
    d = Driver(replace(PLAN, ticket=TicketOptions(callbacks=False)))
    d.answer()
    d.press("2")
    d.finish()
    effects = d.send(RecordingFailed("disk full"))
    assert isinstance(effects[-2], CreateTicket)
    assert d.played() == ("technical_problem",)
    assert d.finish() == []  # the apology ends; the ticket number is still on its way
    d.send(TicketCreated("15"))
    assert d.played()[:3] == ("your_reference_is", "digit_1", "digit_5")
