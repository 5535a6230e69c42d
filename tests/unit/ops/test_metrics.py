"""The metrics registry renders the Prometheus text format, and the call/delivery hooks count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.domain.records import CallEvent
from appliance.services import metrics

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_counter_with_labels_renders_help_type_and_escaped_values() -> None:
    registry = metrics.Registry()
    calls = registry.add(metrics.Counter("x_calls_total", "Calls.", ["outcome"]))
    calls.inc(outcome="message_left")
    calls.inc(2, outcome='we"ird\n')
    assert registry.render().splitlines() == [
        "# HELP x_calls_total Calls.",
        "# TYPE x_calls_total counter",
        'x_calls_total{outcome="message_left"} 1.0',
        'x_calls_total{outcome="we\\"ird\\n"} 2.0',
    ]


def test_counter_refuses_wrong_labels_and_going_down() -> None:
    counter = metrics.Counter("c", "c", ["a"])
    with pytest.raises(ValueError):
        counter.inc(b="1")
    with pytest.raises(ValueError):
        counter.inc(-1, a="1")


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    registry = metrics.Registry()
    hist = registry.add(metrics.Histogram("h_seconds", "H.", [0.5, 1.0]))
    for value in (0.2, 0.7, 3.0):
        hist.observe(value)
    lines = registry.render().splitlines()
    assert 'h_seconds_bucket{le="0.5"} 1' in lines
    assert 'h_seconds_bucket{le="1.0"} 2' in lines
    assert 'h_seconds_bucket{le="+Inf"} 3' in lines
    assert "h_seconds_sum 3.9" in lines and "h_seconds_count 3" in lines


def test_a_name_registers_once() -> None:
    registry = metrics.Registry()
    registry.add(metrics.Gauge("g", "g"))
    with pytest.raises(ValueError):
        registry.add(metrics.Gauge("g", "g"))


def _event(kind: str, seconds: float) -> CallEvent:
    return CallEvent(call_id="c1", at=T0 + timedelta(seconds=seconds), kind=kind, detail={})


def test_record_call_counts_outcome_and_menu_latencies() -> None:
    before = metrics.CALLS.value(outcome="test_outcome")
    answers, digits = metrics.ANSWER_SECONDS.count(), metrics.FIRST_DIGIT_SECONDS.count()
    events = [_event("answered", 0.3), _event("dtmf", 1.8), _event("dtmf", 4.0)]
    metrics.record_call("test_outcome", T0, events)
    assert metrics.CALLS.value(outcome="test_outcome") == before + 1
    assert metrics.ANSWER_SECONDS.count() == answers + 1
    assert metrics.FIRST_DIGIT_SECONDS.count() == digits + 1
    rendered = metrics.REGISTRY.render()
    assert 'desborde_calls_total{outcome="test_outcome"}' in rendered


def test_a_call_never_answered_adds_no_latency() -> None:
    answers = metrics.ANSWER_SECONDS.count()
    metrics.record_call("abandoned_test", T0, [_event("hangup", 1.0)])
    assert metrics.ANSWER_SECONDS.count() == answers


def test_record_delivery_counts_failures_apart() -> None:
    metrics.record_delivery("kind_t", "complete")
    metrics.record_delivery("kind_t", "retry")
    assert metrics.DELIVERIES.value(kind="kind_t", result="complete") == 1
    assert metrics.DELIVERY_FAILURES.value(kind="kind_t", result="retry") == 1
    assert metrics.DELIVERY_FAILURES.value(kind="kind_t", result="complete") == 0
