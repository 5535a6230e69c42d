"""The menu only asks for prompts of the default set (plus a configured incident prompt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from appliance.domain.hours import Mode
from appliance.domain.menu_model import (
    MenuPlan,
    MessageSaved,
    Play,
    RecordingStopped,
    StopReason,
    TicketCreated,
    TicketOptions,
    TransferFailed,
)
from appliance.domain.prompts import DEFAULT_PROMPTS
from appliance.domain.tickets import IdScheme
from tests.unit.domain.menu_driver import Driver

SLOTS = tuple(datetime(2026, 6, d, 9, tzinfo=UTC) for d in range(15, 22))
PLAN = MenuPlan(
    return_target="sip:q",
    slot_count=8,
    ticket=TicketOptions(
        ask_id=True, id_scheme=IdScheme.CL_RUT, request_types=("a", "b"), offer_slots=True
    ),
)


def test_no_duplicates() -> None:
    assert len(set(DEFAULT_PROMPTS)) == len(DEFAULT_PROMPTS)


@pytest.mark.parametrize("mode", list(Mode))
def test_every_played_prompt_is_in_the_default_set(mode: Mode) -> None:
    d = Driver(PLAN)
    d.answer(mode, slots=SLOTS, incident="incident_outage")
    d.finish()
    d.finish()
    for key in "9" if mode is not Mode.BUSINESS else "1":
        d.press(key)
        d.finish()
    d.send(TransferFailed(486))
    d.timeout()
    d.finish()
    d.press("2")
    d.finish()
    d.send(RecordingStopped(StopReason.HASH, 5.0))
    d.send(MessageSaved("12"))
    ticket = Driver(replace(PLAN, max_invalid=1))
    ticket.answer(mode, caller="anonymous", slots=SLOTS)
    ticket.press("3")
    for keys in ("1#", "1#", "9", "1", "12#", "912345678#", "9", "2"):
        ticket.finish()
        ticket.press(keys)
    ticket.send(TicketCreated("15", callback_scheduled=True))
    played = {p for drv in (d, ticket) for e in drv.of_type(Play) for p in e.prompts}
    assert played - set(DEFAULT_PROMPTS) <= {"incident_outage"}
    assert "choose_slot" in played and "repeat_ticket" in played
