"""Prompts per service: an admin's uploads (<data_dir>/prompts/<service>/<lang>/) before the
shipped set (sounds/<lang>/); one cached PromptLibrary per service."""

from __future__ import annotations

from pathlib import Path

from appliance.adapters.media.prompts import PromptLibrary


class PromptCatalog:
    def __init__(self, uploads_dir: Path, shipped_dir: Path, *, fallback_language: str = "es") -> None:
        self._uploads, self._shipped, self._fallback = uploads_dir, shipped_dir, fallback_language
        self._libraries: dict[str, PromptLibrary] = {}

    def library(self, service: str) -> PromptLibrary:
        library = self._libraries.get(service)
        if library is None:
            library = PromptLibrary([self._uploads / service, self._shipped],
                                    fallback_language=self._fallback)
            self._libraries[service] = library
        return library

    def frames(self, service: str, language: str, names: tuple[str, ...]) -> list[bytes]:
        return self.library(service).frames(list(names), language)


def shipped_sounds_dir() -> Path:
    """sounds/ beside the source tree (a checkout or an editable install), else the installed copy."""
    beside_source = Path(__file__).resolve().parents[2] / "sounds"
    return beside_source if beside_source.is_dir() else Path("/opt/desborde/sounds")
