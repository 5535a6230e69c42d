"""E.164 normalisation, the toll-fraud guard and masking."""

from __future__ import annotations

import pytest

from appliance.domain.dialplan import DialPlan, Refusal, mask

CHILE = DialPlan(country_code="56", min_length=9, max_length=9, premium_prefixes=("600", "609"))
SPAIN = DialPlan(
    country_code="34",
    min_length=9,
    max_length=9,
    allowed_prefixes=("6", "7", "8", "9"),
    premium_prefixes=("803", "806", "807", "905"),
)
UK = DialPlan(country_code="44", trunk_prefix="0", min_length=9, max_length=10)
OPEN = DialPlan(
    country_code="56",
    min_length=9,
    max_length=9,
    allow_international=True,
    allow_premium=True,
    premium_prefixes=("600",),
)
EU_ONLY = DialPlan(
    country_code="34",
    min_length=9,
    max_length=9,
    allow_international=True,
    allowed_countries=("33", "351"),
)


@pytest.mark.parametrize(
    ("plan", "raw", "e164"),
    [
        (CHILE, "912345678", "+56912345678"),
        (CHILE, "+56 9 1234 5678", "+56912345678"),
        (CHILE, "0056912345678", "+56912345678"),
        (CHILE, "56912345678", "+56912345678"),
        (CHILE, "(2) 2345-6789", "+56223456789"),
        (SPAIN, "612 34 56 78", "+34612345678"),
        (SPAIN, "+34912345678", "+34912345678"),
        (UK, "07700 900123", "+447700900123"),
        (UK, "+44 20 7946 0018", "+442079460018"),
        (OPEN, "+14155550123", "+14155550123"),
        (OPEN, "00442079460018", "+442079460018"),
        (OPEN, "600 123 456", "+56600123456"),
        (EU_ONLY, "0033123456789", "+33123456789"),
    ],
)
def test_accepted(plan: DialPlan, raw: str, e164: str) -> None:
    result = plan.check(raw)
    assert result.ok, result
    assert result.e164 == e164
    assert result.reason is None


@pytest.mark.parametrize(
    ("plan", "raw", "reason"),
    [
        (CHILE, "", Refusal.EMPTY),
        (CHILE, "   ", Refusal.EMPTY),
        (CHILE, "anonymous", Refusal.NOT_DIGITS),
        (CHILE, "91234*678", Refusal.NOT_DIGITS),
        (CHILE, "12345", Refusal.TOO_SHORT),
        (CHILE, "+5691234567890", Refusal.TOO_LONG),
        (CHILE, "+14155550123", Refusal.INTERNATIONAL),
        (CHILE, "0014155550123", Refusal.INTERNATIONAL),
        (CHILE, "600123456", Refusal.PREMIUM),
        (CHILE, "609123456", Refusal.PREMIUM),
        (SPAIN, "806123456", Refusal.PREMIUM),
        (SPAIN, "512345678", Refusal.NOT_ALLOWED),
        (SPAIN, "0034905123456", Refusal.PREMIUM),
        (UK, "0123", Refusal.TOO_SHORT),
        (OPEN, "+1415", Refusal.TOO_SHORT),
        (OPEN, "+1415555012345678", Refusal.TOO_LONG),
        (EU_ONLY, "+14155550123", Refusal.INTERNATIONAL),
    ],
)
def test_refused_with_reason(plan: DialPlan, raw: str, reason: Refusal) -> None:
    result = plan.check(raw)
    assert not result.ok
    assert result.e164 is None
    assert result.reason is reason
    assert result.detail


def test_refusal_detail_never_shows_the_full_number() -> None:
    result = CHILE.check("9123456789abc")
    assert "9123456789" not in result.detail


@pytest.mark.parametrize(
    ("plan", "e164", "national"),
    [
        (CHILE, "+56912345678", "912345678"),
        (UK, "+447700900123", "07700900123"),
        (CHILE, "+14155550123", "0014155550123"),
    ],
)
def test_national_digits(plan: DialPlan, e164: str, national: str) -> None:
    assert plan.national_digits(e164) == national


@pytest.mark.parametrize("plan", [CHILE, SPAIN, UK, OPEN, EU_ONLY])
def test_dict_round_trip(plan: DialPlan) -> None:
    assert DialPlan.from_dict(plan.to_dict()) == plan


@pytest.mark.parametrize(
    "data",
    [
        {"country_code": "5x"},
        {"country_code": "1234"},
        {"min_length": 10, "max_length": 9},
        {"min_length": 0},
        {"colour": "red"},
    ],
)
def test_invalid_plans(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DialPlan.from_dict(data)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+56912345678", "+56*******78"),
        ("912345678", "912****78"),
        ("12345", "***45"),
        ("1234", "***4"),
        ("7", "7"),
        ("", ""),
    ],
)
def test_mask(number: str, masked: str) -> None:
    assert mask(number) == masked
    assert len(mask(number)) == len(number)
