"""Callback rules, pure: how one service's callbacks are dialled (CallbackPolicy), which slots
still have room (SlotPolicy), what an attempt's result means and what happens after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from appliance.domain.amd import AmdSettings, Verdict
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.retry import RetryPolicy

# next_dial_time gives up after this many closures in a row (a calendar with no usable opening).
_MAX_WINDOWS = 60


class Strategy(StrEnum):
    AGENT_FIRST = "agent_first"  # ring the hunt group, whisper, then dial the customer, bridge
    CUSTOMER_FIRST = "customer_first"  # dial the customer, greet, transfer to the hunt group


class MachineAction(StrEnum):
    MESSAGE = "message"  # leave a short message: the customer has been told, the callback ends
    NOT_REACHED = "not_reached"  # hang up and retry like busy / no answer


class AttemptOutcome(StrEnum):
    CONNECTED = "connected"  # a person was handed to an agent (bridged or transferred)
    MACHINE_MESSAGE = "machine_message"  # a message was left on an answering machine
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # rang until our ring timeout, then CANCEL
    UNAVAILABLE = "unavailable"  # 404/408/480/503...
    REJECTED = "rejected"  # another 3xx-6xx
    FAILED = "failed"  # no final answer, bad SDP, an error of ours
    MACHINE = "machine"  # AMD said machine and the policy does not leave messages
    NOT_CONFIRMED = "not_confirmed"  # no "press 1" from the customer in time
    HUNG_UP = "hung_up"  # the customer answered and hung up before reaching an agent
    AGENT_UNAVAILABLE = "agent_unavailable"  # the hunt group did not answer or took no transfer

    @property
    def final(self) -> bool:
        """The callback is over: nothing to retry."""
        return self in _FINAL


_FINAL = frozenset({AttemptOutcome.CONNECTED, AttemptOutcome.MACHINE_MESSAGE})

_DIAL_OUTCOMES = {
    "busy": AttemptOutcome.BUSY,
    "no_answer": AttemptOutcome.NO_ANSWER,
    "unavailable": AttemptOutcome.UNAVAILABLE,
    "rejected": AttemptOutcome.REJECTED,
    "failed": AttemptOutcome.FAILED,
}


def unanswered_outcome(dial_outcome: str) -> AttemptOutcome:
    """The attempt's outcome for a dial that was not answered (telephony DialOutcome)."""
    try:
        return _DIAL_OUTCOMES[dial_outcome]
    except KeyError:
        raise ValueError(f"not an unanswered dial outcome: {dial_outcome!r}") from None


@dataclass(frozen=True)
class CallbackPolicy:
    """How one service's callbacks are dialled; the service profile supplies strategy and target."""

    strategy: Strategy = Strategy.CUSTOMER_FIRST
    max_outbound: int = 2  # calls at once for this service (the node has its own total)
    ring_timeout_s: float = 30.0  # customer leg
    agent_ring_timeout_s: float = 30.0  # hunt group leg
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(
            intervals=(timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30)),
            max_attempts=3,
        )
    )
    amd: bool = True
    amd_settings: AmdSettings = field(default_factory=AmdSettings)
    notsure_is_human: bool = True  # app_amd's NOTSURE: most dialers let it through
    machine_action: MachineAction = MachineAction.NOT_REACHED
    machine_prompts: tuple[str, ...] = ("callback_greeting",)  # followed by the ticket digits
    greeting_prompts: tuple[str, ...] = ("callback_greeting",)
    confirm_digit: str | None = None  # e.g. "1": "press 1 to talk to an agent"
    confirm_timeout_s: float = 8.0
    whisper: bool = True
    whisper_prompt: str = "callback_agent_whisper"
    agent_notice_prompts: tuple[str, ...] = ("transfer_failed",)  # the customer was not reached
    transfer_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_outbound < 1:
            raise ValueError("max_outbound must be at least 1")
        if self.ring_timeout_s <= 0 or self.agent_ring_timeout_s <= 0:
            raise ValueError("ring timeouts must be positive")
        if self.confirm_digit is not None and (
            len(self.confirm_digit) != 1 or self.confirm_digit not in "0123456789*#"
        ):
            raise ValueError(f"confirm_digit must be one DTMF key, got {self.confirm_digit!r}")

    def is_human(self, verdict: Verdict | None) -> bool:
        """Whether an answered customer may be greeted and handed on (None: AMD off)."""
        if verdict is None or verdict is Verdict.HUMAN:
            return True
        return verdict is Verdict.NOTSURE and self.notsure_is_human

    def machine_outcome(self) -> AttemptOutcome:
        if self.machine_action is MachineAction.MESSAGE:
            return AttemptOutcome.MACHINE_MESSAGE
        return AttemptOutcome.MACHINE


@dataclass(frozen=True)
class Decision:
    """After an attempt: close the callback (`done` / not reached) or dial again at `retry_at`."""

    close: bool
    reached: bool = False
    retry_at: datetime | None = None


def decide(
    outcome: AttemptOutcome,
    attempt: int,
    policy: CallbackPolicy,
    calendar: BusinessCalendar,
    now: datetime,
) -> Decision:
    """What follows the `attempt`-th attempt (1-based) that ended with `outcome` at `now`."""
    if outcome.final:
        return Decision(close=True, reached=True)
    delay = policy.retry.delay_for(attempt)
    if delay is None:
        return Decision(close=True)
    retry_at = next_dial_time(calendar, now + delay)
    if retry_at is None:
        return Decision(close=True)
    return Decision(close=False, retry_at=retry_at)


def next_dial_time(calendar: BusinessCalendar, instant: datetime) -> datetime | None:
    """`instant` if callbacks may be dialled then, else the next instant they may (None: never)."""
    candidate: datetime | None = instant
    for _ in range(_MAX_WINDOWS):
        if candidate is None:
            return None
        if calendar.callbacks_allowed(candidate):
            return candidate
        opening = calendar.next_opening(candidate)
        if opening is None:
            return None
        if opening > candidate:
            candidate = opening
            continue
        # Open but inside the cut-off before closing: look past this closing.
        closing = calendar.closing_after(candidate)
        candidate = None if closing is None else calendar.next_opening(closing)
    return None


@dataclass(frozen=True)
class SlotPolicy:
    """How many callbacks one offered slot holds: `capacity` per `interval` from its start."""

    capacity: int = 0  # 0: no limit
    interval: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise ValueError("capacity must not be negative")
        if self.interval <= timedelta(0):
            raise ValueError("interval must be positive")

    def booked(self, slot: datetime, bookings: Iterable[datetime]) -> int:
        end = slot + self.interval
        return sum(1 for b in bookings if slot <= b < end)

    def offer(
        self, candidates: Sequence[datetime], bookings: Iterable[datetime], count: int
    ) -> tuple[datetime, ...]:
        """The first `count` candidate slots that are not full, in the candidates' order."""
        if self.capacity == 0:
            return tuple(candidates[:count])
        taken = Counter(bookings)
        free = [c for c in candidates if self.booked(c, taken.elements()) < self.capacity]
        return tuple(free[:count])

    def has_room(self, slot: datetime, bookings: Iterable[datetime]) -> bool:
        return self.capacity == 0 or self.booked(slot, bookings) < self.capacity


def display_name(ticket: str, name: str) -> str:
    """What the agent's phone shows for a callback: `CB <ticket> <name>`, SIP-quotable."""
    clean = "".join(ch for ch in name if ch.isprintable() and ch not in '"\\').strip()
    return f"CB {ticket} {clean}".strip()[:60]


# The admin-editable part of a policy, as stored in a service profile (plain JSON values).
_POLICY_SCALARS = ("max_outbound", "ring_timeout_s", "agent_ring_timeout_s", "amd",
                   "notsure_is_human", "confirm_digit", "confirm_timeout_s", "whisper",
                   "transfer_timeout_s")


def policy_to_dict(policy: CallbackPolicy) -> dict[str, object]:
    out: dict[str, object] = {name: getattr(policy, name) for name in _POLICY_SCALARS}
    out["machine_action"] = policy.machine_action.value
    out["retry"] = policy.retry.to_dict()
    return out


def policy_from_dict(data: Mapping[str, object]) -> CallbackPolicy:
    """A policy from stored JSON; unknown keys are refused (a typo must not pass silently)."""
    unknown = set(data) - {*_POLICY_SCALARS, "machine_action", "retry"}
    if unknown:
        raise ValueError(f"unknown callback policy keys: {sorted(unknown)}")
    values: dict[str, Any] = {k: v for k, v in data.items() if k in _POLICY_SCALARS}
    if "machine_action" in data:
        values["machine_action"] = MachineAction(str(data["machine_action"]))
    retry = data.get("retry")
    if isinstance(retry, Mapping):
        values["retry"] = RetryPolicy.from_dict(retry)
    return CallbackPolicy(**values)
