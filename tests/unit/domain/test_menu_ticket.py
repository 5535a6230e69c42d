"""The ticket sub-flow: ID, request type, callback number, slot, creation and read-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.domain.call_events import EventKind, Stage
from appliance.domain.dialplan import DialPlan
from appliance.domain.hours import Mode
from appliance.domain.menu_model import (
    CallerHungUp,
    CreateTicket,
    EndCall,
    MenuPlan,
    TicketCreated,
    TicketFailed,
    TicketOptions,
)
from appliance.domain.outcomes import Outcome
from appliance.domain.tickets import IdScheme
from tests.unit.domain.menu_driver import CALLER, NOW, Driver

SCL = ZoneInfo("America/Santiago")
SLOTS = (datetime(2026, 6, 16, 9, 0, tzinfo=SCL), datetime(2026, 6, 16, 14, 30, tzinfo=SCL))
CHILE = DialPlan(country_code="56", min_length=9, max_length=9, premium_prefixes=("600",))
BASIC = MenuPlan(return_target="sip:q", dial_plan=CHILE, max_invalid=1, max_repeats=1)
FULL = replace(
    BASIC,
    ticket=TicketOptions(
        ask_id=True,
        id_scheme=IdScheme.CL_RUT,
        id_max_length=10,
        request_types=("billing", "outage"),
        offer_slots=True,
    ),
)
CONFIRM = (
    "press_1_to_be_called_at",
    *(f"digit_{c}" for c in "912345678"),
    "press_2_for_another_number",
)


def ticket(plan: MenuPlan, caller: str = CALLER, mode: Mode = Mode.BUSINESS) -> Driver:
    d = Driver(plan)
    d.answer(mode, caller, slots=SLOTS)
    d.finish()
    d.finish()
    d.press("3")
    return d


def asked(d: Driver) -> tuple[str, ...]:
    prompts = d.played()
    d.finish()
    return prompts


def test_full_ticket_with_callback_slot_and_readbacks() -> None:
    d = ticket(FULL)
    assert asked(d) == ("enter_id",)
    d.press("10000013*#")  # RUT 10.000.013-K, K typed as *
    assert asked(d) == ("request_type_menu",)
    d.press("2")
    assert asked(d) == CONFIRM
    d.press("1")
    assert asked(d) == (
        "choose_slot",
        *("digit_2", "for", "day_tuesday", "digit_0", "digit_9", "digit_0", "digit_0"),
        *("digit_3", "for", "day_tuesday", "digit_1", "digit_4", "digit_3", "digit_0"),
    )
    effects = d.press("3")
    assert effects[-1] == CreateTicket(
        caller=CALLER,
        mode=Mode.BUSINESS,
        language="es",
        answered_at=NOW,
        customer_id="10000013-K",
        request_type="outage",
        callback_number=CALLER,
        callback=True,
        slot=SLOTS[1],
    )
    assert d.state.stage is Stage.TICKET_CREATING
    d.send(TicketCreated("1234", callback_scheduled=True))
    readback = (
        "your_reference_is",
        "digit_1",
        "digit_2",
        "digit_3",
        "digit_4",
        "callback_scheduled",
    )
    assert asked(d) == (*readback, "repeat_ticket")
    d.press("1")  # the second reading is the last: then goodbye
    assert asked(d) == (*readback, "goodbye")
    assert d.last == [EndCall()]
    assert d.outcome() is Outcome.CALLBACK_SCHEDULED
    assert d.kinds().count(EventKind.TICKET_READ_BACK) == 2


def test_readback_then_goodbye_on_silence_or_other_digit() -> None:
    for finish in ("timeout", "9"):
        d = ticket(BASIC)
        d.finish()
        d.press("1")
        d.send(TicketCreated("55", callback_scheduled=False))
        assert "callback_scheduled" not in d.played()
        d.finish()
        d.timeout() if finish == "timeout" else d.press(finish)
        assert d.played() == ("goodbye",)
        d.finish()
        assert d.state.ended


def test_asap_slot_and_default_options() -> None:
    d = ticket(replace(BASIC, ticket=TicketOptions(offer_slots=True)))
    d.finish()
    d.press("1")  # call me at my number
    d.finish()
    d.press("1")  # as soon as possible
    request = d.of_type(CreateTicket)[0]
    assert request.slot is None and request.callback and request.customer_id is None


def test_withheld_caller_id_goes_straight_to_number_entry() -> None:
    d = ticket(BASIC, caller="anonymous")
    assert asked(d) == ("enter_number_then_hash",)
    d.press("600123456#")  # premium: refused
    assert asked(d) == ("invalid_number", "enter_number_then_hash")
    assert EventKind.CALLBACK_NUMBER_REFUSED in d.kinds()
    d.press("22345678")
    d.press("9")  # nine digits, ended by the inter-digit timeout
    d.timeout()
    assert d.of_type(CreateTicket)[0].callback_number == "+56223456789"


def test_caller_chooses_another_number() -> None:
    d = ticket(BASIC)
    d.finish()
    d.press("2")
    assert asked(d) == ("enter_number_then_hash",)
    d.press("0056987654321#")
    assert d.of_type(CreateTicket)[0].callback_number == "+56987654321"


def test_number_entry_gives_up_without_a_callback() -> None:
    d = ticket(BASIC, caller="")
    d.finish()
    d.press("123#")
    d.finish()
    d.press("+")  # not a DTMF key: ignored
    d.press("1#")
    request = d.of_type(CreateTicket)[0]
    assert request.callback_number is None and not request.callback


@pytest.mark.parametrize(
    ("keys", "customer_id", "refusals"),
    [
        ("123456785#", "12345678-5", 0),
        ("123456784#123456785#", "12345678-5", 1),
        ("1#2#", None, 2),  # two wrong IDs: carry on without one
        ("#", None, 0),  # skipped on purpose
    ],
)
def test_id_step(keys: str, customer_id: str | None, refusals: int) -> None:
    plan = replace(BASIC, ticket=TicketOptions(ask_id=True, id_scheme=IdScheme.CL_RUT))
    d = ticket(plan)
    for key in keys:
        d.press(key)
        if key == "#" and d.state.playing:
            d.finish()
    d.press("1")  # confirm the caller ID
    assert d.of_type(CreateTicket)[0].customer_id == customer_id
    assert d.kinds().count(EventKind.ID_REFUSED) == refusals


def test_star_is_invalid_outside_rut_entry() -> None:
    plan = replace(BASIC, ticket=TicketOptions(ask_id=True, id_max_length=4))
    d = ticket(plan)
    d.finish()
    d.press("*")
    assert d.played() == ("invalid_option", "enter_id")
    d.finish()
    d.press("1234")  # reaching the maximum length ends the entry
    assert d.state.stage is Stage.TICKET_CONFIRM_NUMBER
    assert d.state.draft.customer_id == "1234"


@pytest.mark.parametrize(
    ("answers", "silent_stage", "expect"),
    [
        ("", Stage.TICKET_TYPE, {"request_type": None}),
        ("1", Stage.TICKET_CONFIRM_NUMBER, {"request_type": "a", "callback_number": CALLER}),
        ("11", Stage.TICKET_SLOT, {"slot": None}),
    ],
)
def test_silence_falls_back_per_step(
    answers: str, silent_stage: Stage, expect: dict[str, object]
) -> None:
    plan = replace(BASIC, ticket=TicketOptions(request_types=("a",), offer_slots=True))
    d = ticket(plan)
    d.finish()
    for key in answers:
        d.press(key)
        d.finish()
    assert d.state.stage is silent_stage
    d.timeout()  # first silence: asked again
    assert d.played()[0] == "no_input"
    assert d.state.stage is silent_stage
    d.finish()
    d.timeout()  # second silence: past max_repeats, the step's default
    assert d.state.stage is not silent_stage
    while not d.of_type(CreateTicket):  # stay silent through the remaining steps
        d.finish() if d.state.playing else d.timeout()
    request = d.of_type(CreateTicket)[0]
    for name, value in expect.items():
        assert getattr(request, name) == value


def test_invalid_choices_repeat_the_question() -> None:
    plan = replace(BASIC, ticket=TicketOptions(request_types=("a", "b"), offer_slots=True))
    d = ticket(plan)
    d.finish()
    d.press("7")
    assert d.played() == ("invalid_option", "request_type_menu")
    d.finish()
    d.press("1")
    d.finish()
    d.press("5")
    assert d.played() == ("invalid_option", *CONFIRM)
    d.finish()
    d.press("1")
    d.finish()
    d.press("4")  # only 2 slots offered: 1, 2, 3
    assert d.played()[:2] == ("invalid_option", "choose_slot")


def test_ticket_without_callbacks() -> None:
    d = ticket(replace(BASIC, ticket=TicketOptions(callbacks=False)))
    request = d.of_type(CreateTicket)[0]
    assert request.callback_number is None and not request.callback
    d.send(TicketCreated("990"))
    d.finish()
    d.send(CallerHungUp())
    assert d.outcome() is Outcome.TICKET_CREATED


def test_after_hours_ticket_schedules_for_next_opening() -> None:
    d = ticket(BASIC, mode=Mode.AFTER_HOURS)
    d.finish()
    d.press("1")
    request = d.of_type(CreateTicket)[0]
    assert request.mode is Mode.AFTER_HOURS and request.callback and request.slot is None


def test_existing_ticket_is_read_back() -> None:
    d = ticket(BASIC)
    d.finish()
    d.press("1")
    d.send(TicketCreated("77", callback_scheduled=True, existing=True))
    assert d.played()[:3] == ("your_reference_is", "digit_7", "digit_7")


def test_hangup_while_creating_still_counts_the_ticket() -> None:
    d = ticket(BASIC)
    d.finish()
    d.press("1")
    d.send(CallerHungUp())
    effects = d.send(TicketCreated("88", callback_scheduled=True))
    assert [e.kind for e in effects] == [EventKind.TICKET_CREATED, EventKind.CALLBACK_SCHEDULED]  # type: ignore[union-attr]
    assert d.outcome() is Outcome.CALLBACK_SCHEDULED


def test_ticket_failure_apologises() -> None:
    d = ticket(BASIC)
    d.finish()
    d.press("1")
    d.send(TicketFailed("store down"))
    assert d.played() == ("technical_problem", "goodbye")
    d.finish()
    assert d.outcome() is Outcome.ERROR


def test_ticket_results_outside_creation_are_ignored() -> None:
    d = ticket(BASIC)
    assert d.send(TicketCreated("1")) == []
    assert d.send(TicketFailed("x")) == []


def test_ticket_failure_after_hangup_only_records() -> None:
    d = ticket(BASIC)
    d.finish()
    d.press("1")
    d.send(CallerHungUp())
    effects = d.send(TicketFailed("store down"))
    assert [e.kind for e in effects] == [EventKind.TICKET_FAILED]  # type: ignore[union-attr]
    assert d.outcome() is Outcome.ERROR
