"""Every prompt name the menu can ask to play: the default set each language must ship."""

from __future__ import annotations

from appliance.domain.hours import Weekday

DIGITS = tuple(f"digit_{n}" for n in range(10))
WEEKDAYS = tuple(f"day_{d.key}" for d in Weekday)

# From the product spec's default set.
CORE = (
    "welcome",
    "agents_busy",
    "office_closed",
    "holiday",
    "menu_business",
    "menu_after_hours",
    "invalid_option",
    "no_input",
    "transferring",
    "transfer_failed",
    "record_after_tone",
    "beep",
    "message_saved",
    "your_reference_is",
    *DIGITS,
    "for",
    "press_1_to_be_called_at",
    "enter_number_then_hash",
    "callback_scheduled",
    "callback_greeting",
    "goodbye",
    "technical_problem",
)

# Added by the ticket sub-flow.
TICKET = (
    "enter_id",
    "invalid_id",
    "request_type_menu",
    "press_2_for_another_number",
    "invalid_number",
    "choose_slot",
    *WEEKDAYS,
    "repeat_ticket",
)

DEFAULT_PROMPTS = CORE + TICKET
