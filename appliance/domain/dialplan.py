"""Callback numbers: normalisation to E.164 and the toll-fraud guard, plus masking for logs.

Prefix lists are written the way admins know them: national significant digits, no trunk prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

_SEPARATORS = str.maketrans("", "", " -.()/")
# E.164 caps a full number (country code included) at 15 digits.
_E164_MAX = 15
_E164_MIN = 7


class Refusal(StrEnum):
    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INTERNATIONAL = "international"
    PREMIUM = "premium"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True)
class DialResult:
    """A checked number: `e164` ('+56912345678') when accepted, else `reason` and `detail`."""

    e164: str | None
    reason: Refusal | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.e164 is not None


@dataclass(frozen=True)
class DialPlan:
    """Which numbers the appliance may call back, for one country."""

    country_code: str = "56"
    trunk_prefix: str = ""  # '0' in Spain-before-1998 style plans, the UK, Germany...
    international_prefix: str = "00"
    min_length: int = 8  # national significant number
    max_length: int = 9
    allowed_prefixes: tuple[str, ...] = ()  # empty: every national number
    premium_prefixes: tuple[str, ...] = ()
    allow_international: bool = False
    allowed_countries: tuple[str, ...] = ()  # country codes; empty: all, once international is on
    allow_premium: bool = False

    def __post_init__(self) -> None:
        if not self.country_code.isdigit() or not 1 <= len(self.country_code) <= 3:
            raise ValueError(f"country_code must be 1-3 digits, got {self.country_code!r}")
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("need 1 <= min_length <= max_length")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DialPlan:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown dial plan keys: {sorted(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kwargs)  # type: ignore[arg-type]

    def check(self, raw: str) -> DialResult:
        """Normalise `raw` (caller ID or typed digits) and apply the plan."""
        text = raw.strip().translate(_SEPARATORS)
        if not text:
            return DialResult(None, Refusal.EMPTY, "no number")
        plus = text.startswith("+")
        digits = text[1:] if plus else text
        if not (digits.isascii() and digits.isdigit()):
            return DialResult(None, Refusal.NOT_DIGITS, f"not a phone number: {mask(raw)}")
        full = self._to_full(digits, plus)
        if full.startswith(self.country_code):
            return self._check_national(full[len(self.country_code) :])
        return self._check_international(full)

    def _to_full(self, digits: str, plus: bool) -> str:
        """Digits with country code, no '+'."""
        if plus:
            return digits
        if self.international_prefix and digits.startswith(self.international_prefix):
            return digits[len(self.international_prefix) :]
        if self.trunk_prefix and digits.startswith(self.trunk_prefix):
            return self.country_code + digits[len(self.trunk_prefix) :]
        # PBXs often present '56912345678' without '+': only read it so when too long to be national.
        cc = self.country_code
        if len(digits) > self.max_length and digits.startswith(cc):
            return digits
        return cc + digits

    def _check_national(self, national: str) -> DialResult:
        if len(national) < self.min_length:
            return DialResult(
                None, Refusal.TOO_SHORT, f"{len(national)} digits, need {self.min_length}"
            )
        if len(national) > self.max_length:
            return DialResult(
                None, Refusal.TOO_LONG, f"{len(national)} digits, max {self.max_length}"
            )
        premium = next((p for p in self.premium_prefixes if national.startswith(p)), None)
        if premium is not None and not self.allow_premium:
            return DialResult(None, Refusal.PREMIUM, f"premium prefix {premium}")
        if self.allowed_prefixes and not national.startswith(self.allowed_prefixes):
            return DialResult(None, Refusal.NOT_ALLOWED, "prefix not in the allowed list")
        return DialResult(f"+{self.country_code}{national}")

    def _check_international(self, full: str) -> DialResult:
        if not self.allow_international:
            return DialResult(None, Refusal.INTERNATIONAL, "international numbers are not allowed")
        if self.allowed_countries and not full.startswith(self.allowed_countries):
            return DialResult(None, Refusal.INTERNATIONAL, "country not in the allowed list")
        if len(full) < _E164_MIN:
            return DialResult(None, Refusal.TOO_SHORT, f"{len(full)} digits")
        if len(full) > _E164_MAX:
            return DialResult(None, Refusal.TOO_LONG, f"{len(full)} digits, E.164 max {_E164_MAX}")
        return DialResult(f"+{full}")

    def national_digits(self, e164: str) -> str:
        """How a caller knows the number: national form with trunk prefix, else E.164 digits."""
        digits = e164.lstrip("+")
        if digits.startswith(self.country_code):
            return self.trunk_prefix + digits[len(self.country_code) :]
        return self.international_prefix + digits


def mask(number: str) -> str:
    """Hide the middle of a number for logs: '+56912345678' -> '+56*******78'."""
    keep_head = 3 if len(number) > 7 else 0
    keep_tail = 2 if len(number) > 4 else 1 if number else 0
    hidden = len(number) - keep_head - keep_tail
    return number[:keep_head] + "*" * hidden + number[len(number) - keep_tail :]
