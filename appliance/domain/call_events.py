"""The vocabulary of a call's history: where the caller is (Stage) and what happened (EventKind).

The menu records these; the store keeps them as plain strings; outcomes are derived from them.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    GREETING = "greeting"  # welcome, busy/closed notice, incident announcement
    MENU = "menu"
    TRANSFER = "transfer"
    RECORD_PROMPT = "record_prompt"
    RECORDING = "recording"
    MESSAGE_SAVING = "message_saving"
    MESSAGE_READBACK = "message_readback"
    TICKET_ID = "ticket_id"
    TICKET_TYPE = "ticket_type"
    TICKET_CONFIRM_NUMBER = "ticket_confirm_number"
    TICKET_ENTER_NUMBER = "ticket_enter_number"
    TICKET_SLOT = "ticket_slot"
    TICKET_CREATING = "ticket_creating"
    TICKET_READBACK = "ticket_readback"
    GOODBYE = "goodbye"

    @property
    def in_ticket(self) -> bool:
        return self.value.startswith("ticket_")


class EventKind(StrEnum):
    ANSWERED = "answered"
    DIGIT = "dtmf"
    NO_INPUT = "no_input"
    INVALID_DIGIT = "invalid_digit"
    OPTION_CHOSEN = "option_chosen"
    DEFAULT_ACTION = "default_action"
    TRANSFER_STARTED = "transfer_started"
    TRANSFER_SUCCEEDED = "transfer_succeeded"
    TRANSFER_FAILED = "transfer_failed"
    RECORDING_STARTED = "recording_started"
    MESSAGE_RECORDED = "message_recorded"
    MESSAGE_SAVED = "message_saved"
    RECORDING_FAILED = "recording_failed"
    ID_ENTERED = "id_entered"
    ID_REFUSED = "id_refused"
    REQUEST_TYPE_CHOSEN = "request_type_chosen"
    CALLBACK_NUMBER_CHOSEN = "callback_number_chosen"
    CALLBACK_NUMBER_REFUSED = "callback_number_refused"
    SLOT_CHOSEN = "slot_chosen"
    TICKET_REQUESTED = "ticket_requested"
    TICKET_CREATED = "ticket_created"
    CALLBACK_SCHEDULED = "callback_scheduled"
    TICKET_FAILED = "ticket_failed"
    TICKET_READ_BACK = "ticket_read_back"
    DISCONNECT = "disconnect"  # the appliance ends the call (detail: reason)
    HANGUP = "hangup"  # the caller hung up (detail: stage)
    ERROR = "error"
