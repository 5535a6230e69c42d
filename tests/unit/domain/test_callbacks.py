"""Callback rules as tables: slot capacity, outcome of an unanswered dial, what follows an attempt
(retry inside the callback window, close, escalate), AMD verdicts, the agent's display name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.domain.amd import Verdict
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.callbacks import (
    AttemptOutcome,
    CallbackPolicy,
    Decision,
    MachineAction,
    SlotPolicy,
    decide,
    display_name,
    next_dial_time,
    unanswered_outcome,
)
from appliance.domain.hours import TimeRange
from appliance.domain.retry import RetryPolicy

# Mon-Fri 09:00-18:00 UTC; callbacks stop 30 minutes before closing.
OPEN = (TimeRange.parse("09:00", "18:00"),)
OFFICE = BusinessCalendar("UTC", (OPEN,) * 5 + ((), ()), callback_cutoff_minutes=30)
MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(day: int, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return MON + timedelta(days=day, hours=hours, minutes=minutes)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (at(0, "10:00"), at(0, "10:00")),  # open: now
        (at(0, "08:00"), at(0, "09:00")),  # before opening: at opening
        (at(0, "17:29"), at(0, "17:29")),  # 31 min before closing: still allowed
        (at(0, "17:30"), at(1, "09:00")),  # inside the cut-off: next day's opening
        (at(0, "17:45"), at(1, "09:00")),
        (at(0, "19:00"), at(1, "09:00")),  # closed for the night
        (at(4, "17:40"), at(7, "09:00")),  # Friday's cut-off: Monday
        (at(5, "12:00"), at(7, "09:00")),  # Saturday: Monday
    ],
)
def test_next_dial_time_respects_hours_and_cutoff(instant: datetime, expected: datetime) -> None:
    assert next_dial_time(OFFICE, instant) == expected


def test_next_dial_time_is_none_when_the_service_never_opens() -> None:
    assert next_dial_time(BusinessCalendar("UTC"), MON) is None


POLICY = CallbackPolicy(retry=RetryPolicy(
    intervals=(timedelta(minutes=5), timedelta(minutes=20)), backoff_factor=1.0, max_attempts=3))


@pytest.mark.parametrize(
    ("outcome", "attempt", "now", "expected"),
    [
        (AttemptOutcome.CONNECTED, 1, at(0, "10:00"), Decision(close=True, reached=True)),
        (AttemptOutcome.MACHINE_MESSAGE, 3, at(0, "10:00"), Decision(close=True, reached=True)),
        (AttemptOutcome.BUSY, 1, at(0, "10:00"), Decision(False, retry_at=at(0, "10:05"))),
        (AttemptOutcome.NO_ANSWER, 2, at(0, "10:00"), Decision(False, retry_at=at(0, "10:20"))),
        (AttemptOutcome.MACHINE, 1, at(0, "10:00"), Decision(False, retry_at=at(0, "10:05"))),
        (AttemptOutcome.FAILED, 1, at(0, "10:00"), Decision(False, retry_at=at(0, "10:05"))),
        (AttemptOutcome.AGENT_UNAVAILABLE, 1, at(0, "10:00"),
         Decision(False, retry_at=at(0, "10:05"))),
        # a retry that would land in the cut-off moves to the next opening
        (AttemptOutcome.BUSY, 1, at(0, "17:26"), Decision(False, retry_at=at(1, "09:00"))),
        (AttemptOutcome.NOT_CONFIRMED, 2, at(4, "17:15"), Decision(False, retry_at=at(7, "09:00"))),
        # the last attempt: give up, not reached
        (AttemptOutcome.BUSY, 3, at(0, "10:00"), Decision(close=True)),
        (AttemptOutcome.HUNG_UP, 3, at(0, "10:00"), Decision(close=True)),
    ],
)
def test_what_follows_an_attempt(
    outcome: AttemptOutcome, attempt: int, now: datetime, expected: Decision
) -> None:
    assert decide(outcome, attempt, POLICY, OFFICE, now) == expected


@pytest.mark.parametrize(
    ("dial", "outcome"),
    [("busy", AttemptOutcome.BUSY), ("no_answer", AttemptOutcome.NO_ANSWER),
     ("unavailable", AttemptOutcome.UNAVAILABLE), ("rejected", AttemptOutcome.REJECTED),
     ("failed", AttemptOutcome.FAILED)],
)
def test_unanswered_dials(dial: str, outcome: AttemptOutcome) -> None:
    assert unanswered_outcome(dial) is outcome


def test_an_answered_dial_is_not_an_unanswered_outcome() -> None:
    with pytest.raises(ValueError, match="answered"):
        unanswered_outcome("answered")


@pytest.mark.parametrize(
    ("verdict", "notsure_is_human", "human"),
    [(None, True, True), (Verdict.HUMAN, False, True), (Verdict.MACHINE, True, False),
     (Verdict.NOTSURE, True, True), (Verdict.NOTSURE, False, False)],
)
def test_who_counts_as_a_person(verdict: Verdict | None, notsure_is_human: bool,
                                human: bool) -> None:
    assert CallbackPolicy(notsure_is_human=notsure_is_human).is_human(verdict) is human


@pytest.mark.parametrize(
    ("action", "outcome"),
    [(MachineAction.MESSAGE, AttemptOutcome.MACHINE_MESSAGE),
     (MachineAction.NOT_REACHED, AttemptOutcome.MACHINE)],
)
def test_machine_outcome_follows_the_policy(action: MachineAction, outcome: AttemptOutcome) -> None:
    assert CallbackPolicy(machine_action=action).machine_outcome() is outcome
    assert outcome.final is (action is MachineAction.MESSAGE)


@pytest.mark.parametrize(
    "changes",
    [{"max_outbound": 0}, {"ring_timeout_s": 0}, {"agent_ring_timeout_s": -1},
     {"confirm_digit": "12"}, {"confirm_digit": "x"}],
)
def test_policy_rejects_nonsense(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CallbackPolicy(**changes)  # type: ignore[arg-type]


SLOTS = [at(1, "09:00"), at(1, "09:30"), at(1, "10:00"), at(2, "09:00")]


@pytest.mark.parametrize(
    ("capacity", "bookings", "count", "offered"),
    [
        (0, [SLOTS[0]] * 50, 3, SLOTS[:3]),  # no limit
        (2, [], 3, SLOTS[:3]),
        (2, [SLOTS[0]], 3, SLOTS[:3]),  # one left in the first slot
        (2, [SLOTS[0], SLOTS[0]], 3, SLOTS[1:4]),  # first slot full: not offered
        (2, [SLOTS[0], at(1, "09:10")], 3, SLOTS[1:4]),  # a booking inside the interval counts
        (1, [SLOTS[0], SLOTS[1], SLOTS[2]], 3, SLOTS[3:]),
        (1, SLOTS, 3, []),  # all full: nothing to offer
        (2, [at(1, "08:59"), at(1, "09:30")], 2, SLOTS[:2]),  # outside the interval: not counted
    ],
)
def test_full_slots_are_not_offered(
    capacity: int, bookings: list[datetime], count: int, offered: list[datetime]
) -> None:
    policy = SlotPolicy(capacity=capacity, interval=timedelta(minutes=30))
    assert policy.offer(SLOTS, bookings, count) == tuple(offered)
    for slot in SLOTS:
        assert policy.has_room(slot, bookings) is (slot in offered or capacity == 0
                                                   or policy.booked(slot, bookings) < capacity)


def test_slot_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        SlotPolicy(capacity=-1)
    with pytest.raises(ValueError):
        SlotPolicy(interval=timedelta(0))


@pytest.mark.parametrize(
    ("ticket", "name", "shown"),
    [("12345678", "Ana Pérez", "CB 12345678 Ana Pérez"),
     ("12345678", 'x"y\\z', "CB 12345678 xyz"),  # no quote can break the SIP display name
     ("1", "", "CB 1"),
     ("1", "a" * 100, "CB 1 " + "a" * 55)],
)
def test_agent_display_name(ticket: str, name: str, shown: str) -> None:
    assert display_name(ticket, name) == shown
