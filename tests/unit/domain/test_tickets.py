"""Ticket numbers with a Verhoeff check digit and the national-ID checks."""

from __future__ import annotations

import itertools

import pytest

from appliance.domain.tickets import (
    IdScheme,
    TicketNumber,
    is_ticket_number,
    national_id_valid,
    normalise_rut,
    rut_check_digit,
    spoken_digits,
    verhoeff_check_digit,
    verhoeff_valid,
)


@pytest.mark.parametrize(
    ("body", "check"),
    [("236", "3"), ("12345", "1"), ("142857", "0"), ("123456789012", "0")],
)
def test_verhoeff_known_values(body: str, check: str) -> None:
    assert verhoeff_check_digit(body) == check
    assert verhoeff_valid(body + check)


@pytest.mark.parametrize("bad", ["", "12a", "½", " 1"])
def test_verhoeff_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        verhoeff_check_digit(bad)
    assert not verhoeff_valid(bad + "0")


def _single_digit_errors(number: str) -> list[str]:
    return [
        number[:i] + d + number[i + 1 :]
        for i in range(len(number))
        for d in "0123456789"
        if d != number[i]
    ]


def _adjacent_transpositions(number: str) -> list[str]:
    swapped = (
        number[:i] + number[i + 1] + number[i] + number[i + 2 :] for i in range(len(number) - 1)
    )
    return [s for s in swapped if s != number]


@pytest.mark.parametrize("sequence", [1, 7, 42, 1000, 98765, 1234567])
def test_check_digit_catches_every_single_error_and_adjacent_swap(sequence: int) -> None:
    number = TicketNumber(sequence).digits
    assert verhoeff_valid(number)
    for wrong in itertools.chain(_single_digit_errors(number), _adjacent_transpositions(number)):
        assert not verhoeff_valid(wrong), wrong


@pytest.mark.parametrize(
    ("sequence", "digits"), [(1, "15"), (42, "420"), (236, "2363"), (12345, "123451")]
)
def test_ticket_number_round_trip(sequence: int, digits: str) -> None:
    ticket = TicketNumber(sequence)
    assert ticket.digits == digits == str(ticket)
    assert TicketNumber.parse(digits) == ticket
    assert TicketNumber.parse(" ".join(digits)) == ticket
    assert is_ticket_number(digits)


@pytest.mark.parametrize("text", ["", "1", "2364", "0236", "23x3", "420 9"])
def test_ticket_number_parse_refuses(text: str) -> None:
    assert not is_ticket_number(text)
    with pytest.raises(ValueError):
        TicketNumber.parse(text)


@pytest.mark.parametrize("sequence", [0, -5])
def test_ticket_sequence_must_be_positive(sequence: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        TicketNumber(sequence)


def test_spoken_digits_reads_one_by_one() -> None:
    assert spoken_digits("4 07") == ("digit_4", "digit_0", "digit_7")


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("12345678", "5"),
        ("11111111", "1"),
        ("10000013", "K"),
        ("76086428", "5"),
        ("6", "K"),
        ("10000004", "0"),
    ],
)
def test_rut_check_digit(body: str, check: str) -> None:
    assert rut_check_digit(body) == check


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.345.678-5", "12345678-5"),
        ("123456785", "12345678-5"),
        ("10000013k", "10000013-K"),
        ("10000013K", "10000013-K"),
        ("10000013*", "10000013-K"),
        ("12345678-4", None),
        ("02345678-5", None),
        ("5", None),
        ("", None),
        ("1234567890123-1", None),
        ("12a45678-5", None),
    ],
)
def test_normalise_rut(text: str, expected: str | None) -> None:
    assert normalise_rut(text) == expected


@pytest.mark.parametrize(
    ("scheme", "text", "ok"),
    [
        (IdScheme.CL_RUT, "123456785", True),
        (IdScheme.CL_RUT, "123456784", False),
        (IdScheme.NONE, "123456784", True),
        (IdScheme.NONE, "12*", False),
        (IdScheme.NONE, "", False),
    ],
)
def test_national_id_valid(scheme: IdScheme, text: str, ok: bool) -> None:
    assert national_id_valid(scheme, text) is ok


def test_national_id_length_limits() -> None:
    assert not national_id_valid(IdScheme.NONE, "123", min_len=4)
    assert not national_id_valid(IdScheme.NONE, "12345", max_len=4)
