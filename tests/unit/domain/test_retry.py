"""RetryPolicy: explicit intervals, back-off, cap and attempt limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.domain.retry import RetryPolicy

M = timedelta(minutes=1)

POLICY = RetryPolicy(intervals=(M, 5 * M), backoff_factor=2.0, cap=30 * M, max_attempts=7)


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [(1, M), (2, 5 * M), (3, 10 * M), (4, 20 * M), (5, 30 * M), (6, 30 * M), (7, None), (8, None)],
)
def test_delay_table(attempt: int, delay: timedelta | None) -> None:
    assert POLICY.delay_for(attempt) == delay


def test_schedule_lists_every_delay() -> None:
    assert POLICY.schedule() == (M, 5 * M, 10 * M, 20 * M, 30 * M, 30 * M)


def test_single_attempt_never_retries() -> None:
    assert RetryPolicy(max_attempts=1).delay_for(1) is None


def test_huge_attempt_numbers_stay_capped() -> None:
    policy = RetryPolicy(intervals=(M,), backoff_factor=10.0, cap=2 * M, max_attempts=10_000)
    assert policy.delay_for(9_999) == 2 * M


def test_no_backoff_repeats_last_interval() -> None:
    policy = RetryPolicy(intervals=(M, 3 * M), backoff_factor=1.0, cap=60 * M, max_attempts=5)
    assert policy.schedule() == (M, 3 * M, 3 * M, 3 * M)


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_numbers_start_at_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="start at 1"):
        POLICY.delay_for(attempt)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"intervals": ()},
        {"intervals": (-M,)},
        {"cap": -M},
        {"backoff_factor": 0.5},
        {"max_attempts": 0},
    ],
)
def test_invalid_policies(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_dict_round_trip() -> None:
    assert RetryPolicy.from_dict(POLICY.to_dict()) == POLICY


@pytest.mark.parametrize(
    "data", [{}, {"intervals_s": 5}, {"intervals_s": [1], "max_attempts": None}]
)
def test_from_dict_refuses(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy.from_dict(data)
