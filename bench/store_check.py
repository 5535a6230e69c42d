"""Did every call's digits reach the appliance? Read each call and its events from the store
after the run and compare the keys pressed and the outcome with what the caller sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import Call, CallEvent


@dataclass(frozen=True)
class DtmfCheck:
    calls: int  # calls the store knows
    expected_outcome: int  # calls that ended with the expected outcome
    digits_ok: int  # calls whose dtmf events spell exactly the expected keys
    unfinished: int  # calls without ended_at (still open when the appliance stopped)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (call id, keys, outcome)


def keys_pressed(events: Sequence[CallEvent]) -> str:
    """Menu digits from the dtmf events; a recording ended by its stop digit counts as "#"."""
    keys = []
    for event in events:
        if event.kind == "dtmf":
            keys.append(str(event.detail.get("key", "?")))
        elif event.kind == "message_recorded" and event.detail.get("reason") == "hash":
            keys.append("#")
    return "".join(keys)


def check_calls(
    calls: Sequence[tuple[Call, Sequence[CallEvent]]], *, keys: str, outcome: str
) -> DtmfCheck:
    wrong = []
    good_outcome = good_keys = unfinished = 0
    for call, events in calls:
        pressed = keys_pressed(events)
        good_outcome += call.outcome == outcome
        good_keys += pressed == keys
        unfinished += call.ended_at is None
        if call.outcome != outcome or pressed != keys:
            wrong.append((call.id, pressed, str(call.outcome)))
    return DtmfCheck(len(calls), good_outcome, good_keys, unfinished, wrong)


def load_calls(store_url: str) -> list[tuple[Call, list[CallEvent]]]:
    """Every call with its events, oldest first (the appliance must be stopped or idle)."""
    store = SqlStore.open(store_url, migrate=False)
    try:
        found: list[Call] = []
        while page := store.list_calls(limit=1000, offset=len(found)):
            found.extend(page)
        out = []
        for call in reversed(found):
            got = store.get_call(call.id)
            out.append((call, got[1] if got else []))
        return out
    finally:
        store.close()
