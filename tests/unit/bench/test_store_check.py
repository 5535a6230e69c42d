"""Judging each call's digits and outcome from the store's records."""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.domain.records import Call, CallEvent
from bench.store_check import check_calls, keys_pressed

T0 = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)


def _call(call_id: str, outcome: str | None, ended: bool = True) -> Call:
    return Call(id=call_id, service="default", caller="+56912345678", dialled="100",
                mode="business", language="es", started_at=T0, node="bench",
                ended_at=T0 if ended else None, outcome=outcome)


def _event(call_id: str, kind: str, **detail: object) -> CallEvent:
    return CallEvent(call_id=call_id, at=T0, kind=kind, detail=dict(detail))


def test_hash_ending_the_recording_counts_as_the_key() -> None:
    events = [_event("a", "dtmf", key="2", stage="menu"), _event("a", "recording_started"),
              _event("a", "message_recorded", seconds=8.0, reason="hash")]
    assert keys_pressed(events) == "2#"


def test_recording_ended_by_silence_lacks_the_hash() -> None:
    events = [_event("a", "dtmf", key="2"), _event("a", "message_recorded", reason="silence")]
    assert keys_pressed(events) == "2"


def test_check_counts_good_calls_and_lists_the_wrong_ones() -> None:
    good = [_event("a", "dtmf", key="2"), _event("a", "message_recorded", reason="hash")]
    calls = [
        (_call("a", "message_left"), good),
        (_call("b", "message_left"), [_event("b", "dtmf", key="2")]),
        (_call("c", "abandoned", ended=False), []),
    ]
    check = check_calls(calls, keys="2#", outcome="message_left")
    assert (check.calls, check.expected_outcome, check.digits_ok, check.unfinished) == (3, 2, 1, 1)
    assert check.wrong == [("b", "2", "message_left"), ("c", "", "abandoned")]
