"""The caller's menu as data: the configured plan, the state, the events fed in, the effects out.

The service performs every effect and feeds results back as events; play_id and timer_id let it
(and the machine) drop events that belong to a prompt or timer already superseded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.dialplan import DialPlan
from appliance.domain.hours import Mode
from appliance.domain.tickets import IdScheme


class Action(StrEnum):
    KEEP_WAITING = "keep_waiting"
    LEAVE_MESSAGE = "leave_message"
    TICKET = "ticket"
    REPEAT = "repeat"
    HANGUP = "hangup"


class StopReason(StrEnum):
    HASH = "hash"
    SILENCE = "silence"
    MAX_LENGTH = "max_length"
    HANGUP = "hangup"


def _business_actions() -> dict[str, Action]:
    return {"1": Action.KEEP_WAITING, "2": Action.LEAVE_MESSAGE, "3": Action.TICKET}


def _closed_actions() -> dict[str, Action]:
    return {"2": Action.LEAVE_MESSAGE, "3": Action.TICKET}


@dataclass(frozen=True)
class TicketOptions:
    ask_id: bool = False
    id_scheme: IdScheme = IdScheme.NONE
    id_min_length: int = 1
    id_max_length: int = 12
    request_types: tuple[str, ...] = ()  # digit n chooses request_types[n - 1]
    callbacks: bool = True  # collect a callback number and ask the store to schedule a call
    offer_slots: bool = False  # 1 = as soon as possible, 2.. = the offered openings
    max_readbacks: int = 2


@dataclass(frozen=True)
class MenuPlan:
    """One service's menu in one language; KEEP_WAITING is dropped outside business mode."""

    language: str = "es"
    business: Mapping[str, Action] = field(default_factory=_business_actions)
    after_hours: Mapping[str, Action] = field(default_factory=_closed_actions)
    holiday: Mapping[str, Action] | None = None  # None: as after_hours
    menu_prompt_business: str = "menu_business"
    menu_prompt_after_hours: str = "menu_after_hours"
    menu_prompt_holiday: str = "menu_after_hours"
    menu_prompt_no_waiting: str = "menu_after_hours"  # business menu once a transfer failed
    return_target: str = ""  # hunt group / queue URI; empty disables keep waiting
    no_input_timeout_s: float = 6.0
    digit_timeout_s: float = 4.0
    max_repeats: int = 2  # prompts repeated on silence before the default action
    max_invalid: int = 3
    default_action: Action = Action.HANGUP
    barge_in: bool = True
    record_max_s: int = 120
    record_silence_s: int = 5
    record_min_s: float = 3.0
    ticket: TicketOptions = field(default_factory=TicketOptions)
    dial_plan: DialPlan = field(default_factory=DialPlan)
    slot_count: int = 3


@dataclass(frozen=True)
class TicketDraft:
    customer_id: str | None = None
    request_type: str | None = None
    callback_number: str | None = None  # E.164
    slot: datetime | None = None  # None: as soon as possible


@dataclass(frozen=True)
class MenuState:
    stage: Stage = Stage.GREETING
    mode: Mode = Mode.BUSINESS
    language: str = "es"
    caller: str = ""
    answered_at: datetime | None = None
    slots: tuple[datetime, ...] = ()
    ended: bool = False  # hung up by either side: only results still arrive
    playing: bool = False
    barge_in: bool = False
    play_id: int = 0
    waiting: bool = False  # a no-input / inter-digit timer runs
    timer_id: int = 0
    no_inputs: int = 0
    invalids: int = 0
    buffer: str = ""
    keep_waiting_allowed: bool = True
    draft: TicketDraft = field(default_factory=TicketDraft)
    reference: str = ""  # ticket number or message reference, as digits
    callback_scheduled: bool = False
    readbacks: int = 0


# Events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallAnswered:
    """`slots`: openings to offer, on the service's wall clock (BusinessCalendar.local)."""

    now: datetime
    mode: Mode
    caller: str
    incident: str | None = None  # prompt name of an active incident announcement
    slots: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Digit:
    key: str


@dataclass(frozen=True)
class PromptFinished:
    play_id: int


@dataclass(frozen=True)
class NoInputTimeout:
    timer_id: int


@dataclass(frozen=True)
class RecordingStopped:
    reason: StopReason
    seconds: float
    silent: bool = False


@dataclass(frozen=True)
class RecordingFailed:
    reason: str  # disk full, write error...


@dataclass(frozen=True)
class MessageSaved:
    reference: str


@dataclass(frozen=True)
class TransferSucceeded:
    pass


@dataclass(frozen=True)
class TransferFailed:
    status: int | None = None  # SIP status from the NOTIFY sipfrag / REFER answer; None: timeout


@dataclass(frozen=True)
class TicketCreated:
    number: str  # digits with the check digit
    callback_scheduled: bool = False
    existing: bool = False  # merged into the caller's open ticket


@dataclass(frozen=True)
class TicketFailed:
    reason: str


@dataclass(frozen=True)
class CallerHungUp:
    pass


Event = (
    CallAnswered
    | Digit
    | PromptFinished
    | NoInputTimeout
    | RecordingStopped
    | RecordingFailed
    | MessageSaved
    | TransferSucceeded
    | TransferFailed
    | TicketCreated
    | TicketFailed
    | CallerHungUp
)

# Effects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play prompt names (sounds/<language>/<name>) in order, replacing anything playing.

    Report PromptFinished(play_id) only when the whole sequence played to its end.
    """

    prompts: tuple[str, ...]
    barge_in: bool
    play_id: int
    language: str


@dataclass(frozen=True)
class StopPlayback:
    pass


@dataclass(frozen=True)
class StartTimer:
    """Replaces any running timer; fire NoInputTimeout(timer_id) after `seconds`."""

    timer_id: int
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class StartRecording:
    max_s: int
    silence_s: int
    stop_keys: str = "#"


@dataclass(frozen=True)
class Transfer:
    target: str


@dataclass(frozen=True)
class SaveMessage:
    caller: str
    mode: Mode
    language: str
    answered_at: datetime | None
    seconds: float
    stop_reason: StopReason
    too_short: bool
    silent: bool
    partial: bool  # the caller hung up while recording


@dataclass(frozen=True)
class CreateTicket:
    caller: str
    mode: Mode
    language: str
    answered_at: datetime | None
    customer_id: str | None
    request_type: str | None
    callback_number: str | None  # E.164; None: no callback possible
    callback: bool  # schedule a callback (merging with an open one for the same number)
    slot: datetime | None  # None: as soon as possible (the next opening when closed)


@dataclass(frozen=True)
class EndCall:
    pass


@dataclass(frozen=True)
class RecordEvent:
    kind: EventKind
    detail: Mapping[str, Any] = field(default_factory=dict)


Effect = (
    Play
    | StopPlayback
    | StartTimer
    | CancelTimer
    | StartRecording
    | Transfer
    | SaveMessage
    | CreateTicket
    | EndCall
    | RecordEvent
)
