"""Public holidays of a country (and subdivision) from the `holidays` package, for the calendar UI.

Names always come in an explicit language so the admin sees them in the UI's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays

from appliance.domain.hours import Holiday, Weekday
from appliance.errors import ConfigError


def import_holidays(
    country: str, years: Iterable[int], *, language: str, subdiv: str | None = None
) -> list[tuple[date, str]]:
    """(date, name) pairs sorted by date; ConfigError for an unknown country, region or language."""
    year_list = sorted(set(years))
    if not year_list:
        return []
    try:
        probe = holidays.country_holidays(country.upper(), subdiv=subdiv)
        chosen = _pick_language(probe.supported_languages, probe.default_language, language)
        found = holidays.country_holidays(
            country.upper(), subdiv=subdiv, years=year_list, language=chosen
        )
    except NotImplementedError as exc:  # what the package raises for unknown country/subdivision
        raise ConfigError(f"no holiday data: {exc}") from exc
    return sorted((day, str(name)) for day, name in found.items())


def _pick_language(supported: Iterable[str], default: str | None, wanted: str) -> str:
    """Exact match, else a regional variant ('en' -> 'en_US'); the package itself would silently
    fall back to another language, which the admin would not notice."""
    options = sorted(supported)
    if wanted in options:
        return wanted
    variants = [o for o in options if o.split("_")[0] == wanted.split("_")[0]]
    if default in variants:
        return default
    if variants:
        return variants[0]
    raise ConfigError(f"holiday names are not available in {wanted!r}; available: {options}")


def as_calendar_holidays(
    pairs: Iterable[tuple[date, str]], behaves_like: Weekday | None = Weekday.SUNDAY
) -> tuple[Holiday, ...]:
    """Domain holidays for the imported pairs, all following the same opening rule."""
    return tuple(Holiday(day, name, behaves_like) for day, name in pairs)
