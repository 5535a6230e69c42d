"""Importing public holidays from the `holidays` package (real data, no network)."""

from __future__ import annotations

from datetime import date

import pytest

from appliance.adapters.holidays_import import as_calendar_holidays, import_holidays
from appliance.domain.hours import Holiday, Weekday
from appliance.errors import ConfigError


@pytest.mark.parametrize(
    ("country", "subdiv", "language", "day", "name"),
    [
        ("CL", None, "es", date(2026, 9, 18), "Día de la Independencia"),
        ("CL", None, "en_US", date(2026, 9, 18), "Independence Day"),
        ("CL", None, "en", date(2026, 9, 18), "Independence Day"),
        ("CL", None, "es_CL", date(2026, 9, 18), "Día de la Independencia"),
        ("ES", "MD", "es", date(2026, 5, 2), "Fiesta de la Comunidad de Madrid"),
        ("ES", "MD", "en_US", date(2026, 5, 2), "Madrid Day"),
        ("es", "CT", "es", date(2026, 9, 11), "Fiesta Nacional de Cataluña"),
    ],
)
def test_named_in_the_requested_language(
    country: str, subdiv: str | None, language: str, day: date, name: str
) -> None:
    found = dict(import_holidays(country, [2026], language=language, subdiv=subdiv))
    assert found[day] == name


def test_sorted_and_limited_to_the_years() -> None:
    pairs = import_holidays("CL", [2027, 2026, 2026], language="es")
    days = [d for d, _ in pairs]
    assert days == sorted(days)
    assert {d.year for d in days} == {2026, 2027}
    assert (date(2026, 1, 1), "Año Nuevo") in pairs


def test_subdivision_adds_regional_days() -> None:
    national = dict(import_holidays("ES", [2026], language="es"))
    madrid = dict(import_holidays("ES", [2026], language="es", subdiv="MD"))
    assert date(2026, 5, 2) in madrid
    assert date(2026, 5, 2) not in national


def test_no_years_no_holidays() -> None:
    assert import_holidays("CL", [], language="es") == []


@pytest.mark.parametrize(
    ("country", "subdiv", "language", "message"),
    [
        ("XX", None, "es", "no holiday data"),
        ("ES", "ZZ", "es", "no holiday data"),
        ("CL", None, "ko", "not available in 'ko'"),
    ],
)
def test_errors_are_config_errors(
    country: str, subdiv: str | None, language: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        import_holidays(country, [2026], language=language, subdiv=subdiv)


def test_as_calendar_holidays() -> None:
    pairs = [(date(2026, 1, 1), "Año Nuevo")]
    assert as_calendar_holidays(pairs) == (Holiday(date(2026, 1, 1), "Año Nuevo", Weekday.SUNDAY),)
    assert as_calendar_holidays(pairs, None)[0].behaves_like is None
