"""A tiny driver that feeds events to the pure menu and keeps every effect (test helper)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from appliance.domain.call_events import EventKind
from appliance.domain.hours import Mode
from appliance.domain.menu import initial_state, step
from appliance.domain.menu_model import (
    CallAnswered,
    Digit,
    Effect,
    Event,
    MenuPlan,
    MenuState,
    NoInputTimeout,
    Play,
    PromptFinished,
    RecordEvent,
)
from appliance.domain.outcomes import Outcome, derive_outcome

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
CALLER = "+56912345678"
T = TypeVar("T")


@dataclass
class Driver:
    plan: MenuPlan
    state: MenuState = field(default_factory=initial_state)
    effects: list[Effect] = field(default_factory=list)
    last: list[Effect] = field(default_factory=list)

    def send(self, event: Event) -> list[Effect]:
        self.state, self.last = step(self.state, event, self.plan)
        self.effects += self.last
        return self.last

    def answer(
        self, mode: Mode = Mode.BUSINESS, caller: str = CALLER, **kw: object
    ) -> list[Effect]:
        return self.send(CallAnswered(NOW, mode, caller, **kw))  # type: ignore[arg-type]

    def finish(self) -> list[Effect]:
        return self.send(PromptFinished(self.state.play_id))

    def timeout(self) -> list[Effect]:
        return self.send(NoInputTimeout(self.state.timer_id))

    def press(self, keys: str) -> list[Effect]:
        out: list[Effect] = []
        for key in keys:
            out += self.send(Digit(key))
        return out

    def played(self) -> tuple[str, ...]:
        """Prompts of the last Play among the last effects."""
        plays = [e for e in self.last if isinstance(e, Play)]
        assert plays, f"no Play in {self.last}"
        return plays[-1].prompts

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.effects if isinstance(e, RecordEvent)]

    def outcome(self) -> Outcome:
        return derive_outcome(e for e in self.effects if isinstance(e, RecordEvent))

    def of_type(self, kind: type[T]) -> list[T]:
        return [e for e in self.effects if isinstance(e, kind)]
