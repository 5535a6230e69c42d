"""Ticket numbers (store sequence + Verhoeff check digit) and national-ID checks for the menu.

Numbers are digit strings so the menu can read them back digit by digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Verhoeff tables: dihedral group D5 multiplication, position permutation, inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 8, 7, 6, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _require_digits(digits: str) -> None:
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"expected a non-empty string of digits, got {digits!r}")


def _verhoeff_checksum(digits: str) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to `digits`."""
    _require_digits(digits)
    # Compute as if a 0 check digit were already appended, then invert.
    return str(_INV[_verhoeff_checksum(digits + "0")])


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the Verhoeff check digit of the rest."""
    if len(digits) < 2 or not (digits.isascii() and digits.isdigit()):
        return False
    return _verhoeff_checksum(digits) == 0


@dataclass(frozen=True)
class TicketNumber:
    """A ticket number: the store-allocated sequence followed by its check digit."""

    sequence: int

    def __post_init__(self) -> None:
        if self.sequence < 1:
            raise ValueError(f"ticket sequence must be positive, got {self.sequence}")

    @property
    def digits(self) -> str:
        body = str(self.sequence)
        return body + verhoeff_check_digit(body)

    def __str__(self) -> str:
        return self.digits

    @classmethod
    def parse(cls, text: str) -> TicketNumber:
        """Parse a typed or spoken-back number; spaces and dashes are ignored."""
        digits = text.replace(" ", "").replace("-", "")
        if not verhoeff_valid(digits) or digits[0] == "0":
            raise ValueError(f"not a valid ticket number: {text!r}")
        return cls(int(digits[:-1]))


def is_ticket_number(text: str) -> bool:
    """True when `text` parses as a ticket number."""
    try:
        TicketNumber.parse(text)
    except ValueError:
        return False
    return True


def spoken_digits(digits: str) -> tuple[str, ...]:
    """Prompt names reading `digits` one by one (digit_0..digit_9); other characters are skipped."""
    return tuple(f"digit_{ch}" for ch in digits if ch.isascii() and ch.isdigit())


class IdScheme(StrEnum):
    """How the menu's optional ID step validates what the caller typed."""

    NONE = "none"  # digits only, length checked by the plan
    CL_RUT = "cl_rut"  # Chilean RUT/RUN, modulo 11 with K


def rut_check_digit(body: str) -> str:
    """The Chilean RUT check digit ('0'-'9' or 'K') of the numeric body."""
    _require_digits(body)
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(body)))
    rest = 11 - total % 11
    return {11: "0", 10: "K"}.get(rest, str(rest))


def normalise_rut(text: str, *, k_key: str = "*") -> str | None:
    """Return 'BODY-D' for a valid RUT, else None.

    Accepts '12.345.678-5', '123456785', a 'k'/'K' check digit, or `k_key` standing for K
    (a phone keypad has no K).
    """
    cleaned = text.replace(".", "").replace("-", "").replace(" ", "").upper()
    if k_key and cleaned.endswith(k_key):
        cleaned = cleaned[: -len(k_key)] + "K"
    if len(cleaned) < 2:
        return None
    body, check = cleaned[:-1], cleaned[-1]
    if not (body.isascii() and body.isdigit()) or body[0] == "0" or len(body) > 9:
        return None
    return f"{body}-{check}" if rut_check_digit(body) == check else None


def national_id_valid(scheme: IdScheme, text: str, *, min_len: int = 1, max_len: int = 20) -> bool:
    """Validate an ID typed on the keypad under `scheme`."""
    if scheme is IdScheme.CL_RUT:
        return normalise_rut(text) is not None
    return text.isascii() and text.isdigit() and min_len <= len(text) <= max_len
