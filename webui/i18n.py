"""The UI's two languages: English text is the key, Spanish (the default) comes from this table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webui.i18n_es import SPANISH

DEFAULT_LANGUAGE = "es"
LANGUAGES = ("es", "en")


class Translator:
    def __init__(self, lang: str, table: Mapping[str, str]) -> None:
        self.lang = lang
        self._table = table

    def __call__(self, text: str, **values: Any) -> str:
        out = self._table.get(text, text)
        return out.format(**values) if values else out


def translator(lang: str) -> Translator:
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return Translator(lang, SPANISH if lang == "es" else {})

