"""The delivery table's verdict: every caller's message measured, p95 from hangup under 2 s."""

from __future__ import annotations

from bench.delivery import DeliveryResult
from bench.report import delivery_table
from bench.sipp_load import SippCounts
from bench.stats import summarize


def _result(from_hangup: list[float], emails: int, partial: int = 0) -> DeliveryResult:
    return DeliveryResult(calls=3, sipp=SippCounts(3, 3, 0, 3), emails=emails,
                          unmatched_emails=0, partial_emails=partial,
                          from_hash_ms=summarize([x + 300 for x in from_hangup]),
                          from_hangup_ms=summarize(from_hangup))


def test_met_when_every_message_is_measured_and_fast() -> None:
    text = delivery_table(_result([-50.0, 100.0, 250.0], emails=5, partial=2))
    assert "| 3 | 3 | caller's hangup (BYE) | 100 | 250 | 250 | met |" in text
    assert "5 emails accepted, 2 of them for partial messages" in text


def test_missed_when_slow_or_a_message_never_arrived() -> None:
    assert "MISSED" in delivery_table(_result([100.0, 200.0, 2500.0], emails=3))
    assert "MISSED" in delivery_table(_result([100.0, 200.0], emails=2))
