"""Nearest-rank percentiles and summaries of the bench."""

from __future__ import annotations

import math

import pytest

from bench.stats import percentile, summarize


@pytest.mark.parametrize(("q", "expected"), [(0, 1), (50, 50), (95, 95), (99, 99), (100, 100)])
def test_percentile_of_1_to_100_is_the_rank(q: float, expected: float) -> None:
    assert percentile([float(v) for v in range(100, 0, -1)], q) == expected


def test_percentile_is_an_observed_value() -> None:
    assert percentile([10.0, 20.0], 50) == 10.0
    assert percentile([10.0, 20.0], 51) == 20.0


def test_summary_of_nothing_is_nan_with_zero_count() -> None:
    empty = summarize([])
    assert empty.n == 0 and math.isnan(empty.p95)


def test_summary() -> None:
    s = summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.n, s.mean, s.p50, s.max) == (4, 4.0, 2.0, 10.0)
