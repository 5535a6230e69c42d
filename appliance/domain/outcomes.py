"""Call outcomes: deflected calls (message, ticket, callback) kept apart from abandoned ones.

`derive_outcome` reads a call's recorded events; it is what the reports and the dashboard count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from appliance.domain.call_events import EventKind, Stage


class OutcomeGroup(StrEnum):
    RETURNED = "returned"  # back to the queue: the queue's own KPIs count it
    DEFLECTED = "deflected"  # served without an agent now: message, ticket, callback
    ABANDONED = "abandoned"  # the caller left without a result
    FAILED = "failed"  # we could not serve the caller


class Outcome(StrEnum):
    RETURNED_TO_QUEUE = "returned_to_queue"
    CALLBACK_SCHEDULED = "callback_scheduled"
    TICKET_CREATED = "ticket_created"
    MESSAGE_LEFT = "message_left"
    ABANDONED_IN_GREETING = "abandoned_in_greeting"
    ABANDONED_IN_MENU = "abandoned_in_menu"
    ABANDONED_IN_TRANSFER = "abandoned_in_transfer"
    ABANDONED_IN_RECORDING = "abandoned_in_recording"
    ABANDONED_IN_TICKET = "abandoned_in_ticket"
    NO_INPUT = "no_input"  # the appliance hung up after repeated silence or wrong digits
    TRANSFER_FAILED = "transfer_failed"
    ERROR = "error"

    @property
    def group(self) -> OutcomeGroup:
        return _GROUPS[self]


_GROUPS = {
    Outcome.RETURNED_TO_QUEUE: OutcomeGroup.RETURNED,
    Outcome.CALLBACK_SCHEDULED: OutcomeGroup.DEFLECTED,
    Outcome.TICKET_CREATED: OutcomeGroup.DEFLECTED,
    Outcome.MESSAGE_LEFT: OutcomeGroup.DEFLECTED,
    Outcome.ABANDONED_IN_GREETING: OutcomeGroup.ABANDONED,
    Outcome.ABANDONED_IN_MENU: OutcomeGroup.ABANDONED,
    Outcome.ABANDONED_IN_TRANSFER: OutcomeGroup.ABANDONED,
    Outcome.ABANDONED_IN_RECORDING: OutcomeGroup.ABANDONED,
    Outcome.ABANDONED_IN_TICKET: OutcomeGroup.ABANDONED,
    Outcome.NO_INPUT: OutcomeGroup.ABANDONED,
    Outcome.TRANSFER_FAILED: OutcomeGroup.FAILED,
    Outcome.ERROR: OutcomeGroup.FAILED,
}


class EventLike(Protocol):
    """Anything with a kind and a detail mapping: the menu's CallEvent or the store's record."""

    @property
    def kind(self) -> str: ...

    @property
    def detail(self) -> Mapping[str, Any]: ...


def abandoned_in(stage: str) -> Outcome | None:
    """The abandon outcome for a caller hang-up at `stage`; None after the call was served."""
    try:
        where = Stage(stage)
    except ValueError:
        return Outcome.ABANDONED_IN_MENU
    if where in (Stage.RECORD_PROMPT, Stage.RECORDING):
        return Outcome.ABANDONED_IN_RECORDING
    if where.in_ticket:
        return Outcome.ABANDONED_IN_TICKET
    return {
        Stage.GREETING: Outcome.ABANDONED_IN_GREETING,
        Stage.MENU: Outcome.ABANDONED_IN_MENU,
        Stage.TRANSFER: Outcome.ABANDONED_IN_TRANSFER,
    }.get(where)


# What is kept wins over how the call ended: a ticket counts even if the caller hung up
# during the read-back; a failure explains a later hang-up better than "abandoned".
_PRIORITY = (
    Outcome.RETURNED_TO_QUEUE,
    Outcome.CALLBACK_SCHEDULED,
    Outcome.TICKET_CREATED,
    Outcome.MESSAGE_LEFT,
    Outcome.ERROR,
    Outcome.TRANSFER_FAILED,
    Outcome.NO_INPUT,
)

_NO_USABLE_INPUT = ("no_input", "invalid_input")

_DIRECT = {
    EventKind.TRANSFER_SUCCEEDED: Outcome.RETURNED_TO_QUEUE,
    EventKind.CALLBACK_SCHEDULED: Outcome.CALLBACK_SCHEDULED,
    EventKind.TICKET_CREATED: Outcome.TICKET_CREATED,
    EventKind.TRANSFER_FAILED: Outcome.TRANSFER_FAILED,
    EventKind.ERROR: Outcome.ERROR,
    EventKind.TICKET_FAILED: Outcome.ERROR,
}


def derive_outcome(events: Iterable[EventLike]) -> Outcome:
    """The outcome of a finished call from its events, in the order they happened."""
    seen: set[Outcome] = set()
    abandoned: Outcome | None = None
    message = False
    for event in events:
        kind = event.kind
        if kind in _DIRECT:
            seen.add(_DIRECT[EventKind(kind)])
        elif kind == EventKind.MESSAGE_RECORDED:
            message = True
        elif kind == EventKind.RECORDING_FAILED:
            message = False  # the recording we thought we had was not stored
        elif kind == EventKind.DISCONNECT and event.detail.get("reason") in _NO_USABLE_INPUT:
            seen.add(Outcome.NO_INPUT)
        elif kind == EventKind.HANGUP and abandoned is None:
            abandoned = abandoned_in(str(event.detail.get("stage", "")))
    if message:
        seen.add(Outcome.MESSAGE_LEFT)
    best = next((o for o in _PRIORITY if o in seen), None)
    return best or abandoned or Outcome.ERROR
