"""INVITE -> 200 latency from tshark SIP field rows."""

from __future__ import annotations

import pytest

from bench.siplat import SipRow, invite_times, parse_fields


def test_parse_fields_pads_missing_columns() -> None:
    rows = parse_fields("10.5\tabc@h\tINVITE\n10.6\tabc@h\t\t200\tINVITE\n\t\t\n")
    assert rows == [SipRow(10.5, "abc@h", "INVITE", "", ""),
                    SipRow(10.6, "abc@h", "", "200", "INVITE")]


def test_latency_runs_from_the_first_invite_to_the_first_200() -> None:
    rows = [
        SipRow(1.000, "a", "INVITE", "", ""),
        SipRow(1.001, "a", "", "100", "INVITE"),
        SipRow(1.500, "a", "INVITE", "", ""),  # retransmission
        SipRow(1.600, "a", "", "200", "INVITE"),
        SipRow(1.700, "a", "", "200", "INVITE"),  # 200 retransmitted
        SipRow(30.0, "a", "", "200", "BYE"),
        SipRow(2.0, "b", "INVITE", "", ""),
        SipRow(2.01, "b", "", "486", "INVITE"),
    ]
    times = invite_times(rows)
    assert times.to_200_ms == {"a": pytest.approx(600.0)}
    assert times.answered_other == {"b": "486"}
    assert times.retransmitted == 1


def test_rows_are_ordered_by_time_first() -> None:
    rows = [SipRow(2.0, "a", "", "200", "INVITE"), SipRow(1.9, "a", "INVITE", "", "")]
    assert invite_times(rows).to_200_ms == {"a": pytest.approx(100.0)}
