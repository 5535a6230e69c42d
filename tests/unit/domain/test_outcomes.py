"""Deriving a call's outcome from its events; outcome groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from appliance.domain.call_events import EventKind as K
from appliance.domain.call_events import Stage
from appliance.domain.outcomes import Outcome, OutcomeGroup, abandoned_in, derive_outcome


@dataclass(frozen=True)
class Ev:
    """Shaped like the store's CallEvent record: kind as a plain string."""

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


def hangup(stage: str) -> Ev:
    return Ev("hangup", {"stage": stage})


@pytest.mark.parametrize(
    ("events", "outcome"),
    [
        ([], Outcome.ERROR),
        ([Ev(K.ANSWERED), hangup("greeting")], Outcome.ABANDONED_IN_GREETING),
        ([Ev(K.ANSWERED), hangup("menu")], Outcome.ABANDONED_IN_MENU),
        ([Ev(K.TRANSFER_STARTED), hangup("transfer")], Outcome.ABANDONED_IN_TRANSFER),
        ([Ev(K.TRANSFER_STARTED), Ev(K.TRANSFER_SUCCEEDED)], Outcome.RETURNED_TO_QUEUE),
        ([Ev(K.TRANSFER_FAILED), hangup("menu")], Outcome.TRANSFER_FAILED),
        ([Ev(K.TRANSFER_FAILED), Ev(K.MESSAGE_RECORDED)], Outcome.MESSAGE_LEFT),
        ([hangup("record_prompt")], Outcome.ABANDONED_IN_RECORDING),
        ([Ev(K.RECORDING_STARTED), hangup("recording")], Outcome.ABANDONED_IN_RECORDING),
        ([hangup("recording"), Ev(K.MESSAGE_RECORDED)], Outcome.MESSAGE_LEFT),
        ([Ev(K.MESSAGE_RECORDED), Ev(K.RECORDING_FAILED)], Outcome.ERROR),
        (
            [Ev(K.MESSAGE_RECORDED), Ev(K.MESSAGE_SAVED), hangup("message_readback")],
            Outcome.MESSAGE_LEFT,
        ),
        ([hangup("ticket_slot")], Outcome.ABANDONED_IN_TICKET),
        ([Ev(K.TICKET_CREATED), hangup("ticket_readback")], Outcome.TICKET_CREATED),
        ([Ev(K.TICKET_CREATED), Ev(K.CALLBACK_SCHEDULED)], Outcome.CALLBACK_SCHEDULED),
        ([Ev(K.RECORDING_FAILED), Ev(K.TICKET_CREATED)], Outcome.TICKET_CREATED),
        ([Ev(K.TICKET_FAILED), Ev(K.DISCONNECT, {"reason": "ticket_failed"})], Outcome.ERROR),
        ([Ev(K.DISCONNECT, {"reason": "no_input"})], Outcome.NO_INPUT),
        ([Ev(K.DISCONNECT, {"reason": "invalid_input"}), hangup("goodbye")], Outcome.NO_INPUT),
        ([Ev(K.ERROR), hangup("menu")], Outcome.ERROR),
        ([hangup("somewhere_new")], Outcome.ABANDONED_IN_MENU),
        ([hangup("goodbye")], Outcome.ERROR),
        ([hangup("menu"), hangup("recording")], Outcome.ABANDONED_IN_MENU),  # first one counts
    ],
)
def test_derive_outcome(events: list[Ev], outcome: Outcome) -> None:
    assert derive_outcome(events) is outcome


@pytest.mark.parametrize(
    ("outcome", "group"),
    [
        (Outcome.RETURNED_TO_QUEUE, OutcomeGroup.RETURNED),
        (Outcome.MESSAGE_LEFT, OutcomeGroup.DEFLECTED),
        (Outcome.TICKET_CREATED, OutcomeGroup.DEFLECTED),
        (Outcome.CALLBACK_SCHEDULED, OutcomeGroup.DEFLECTED),
        (Outcome.ABANDONED_IN_GREETING, OutcomeGroup.ABANDONED),
        (Outcome.ABANDONED_IN_MENU, OutcomeGroup.ABANDONED),
        (Outcome.ABANDONED_IN_TRANSFER, OutcomeGroup.ABANDONED),
        (Outcome.ABANDONED_IN_RECORDING, OutcomeGroup.ABANDONED),
        (Outcome.ABANDONED_IN_TICKET, OutcomeGroup.ABANDONED),
        (Outcome.NO_INPUT, OutcomeGroup.ABANDONED),
        (Outcome.TRANSFER_FAILED, OutcomeGroup.FAILED),
        (Outcome.ERROR, OutcomeGroup.FAILED),
    ],
)
def test_every_outcome_has_a_group(outcome: Outcome, group: OutcomeGroup) -> None:
    assert outcome.group is group


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_maps_to_an_abandon_or_none(stage: Stage) -> None:
    result = abandoned_in(stage)
    served = stage in (Stage.MESSAGE_SAVING, Stage.MESSAGE_READBACK, Stage.GOODBYE)
    assert (result is None) is served
    if stage.in_ticket:
        assert result is Outcome.ABANDONED_IN_TICKET
