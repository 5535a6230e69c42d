"""deploy/desborde.example.toml documents every key the config accepts, in its section."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from appliance.config import Settings, SipAccount

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "desborde.example.toml"


def _sections(text: str) -> dict[str, str]:
    """Section name -> its lines; commented-out headers ("# [[sip.accounts]]") count too."""
    sections: dict[str, str] = {"": ""}
    current = ""
    for line in text.splitlines():
        header = re.match(r"^#?\s*\[\[?([a-z_.]+)\]\]?\s*$", line.strip())
        if header:
            current = header.group(1)
            sections.setdefault(current, "")
        else:
            sections[current] += line + "\n"
    return sections


def _keys(model: type[BaseModel], prefix: str) -> list[tuple[str, str]]:
    found = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += _keys(kind, f"{prefix}.{name}".strip("."))
        else:
            found.append((prefix, name))
    return found


def test_every_key_is_documented() -> None:
    sections = _sections(EXAMPLE.read_text(encoding="utf-8"))
    keys = _keys(Settings, "") + _keys(SipAccount, "sip.accounts")
    missing = [
        f"[{section}] {name}"
        for section, name in keys
        if name != "accounts"
        and not re.search(rf"^#?\s*{name}\s*=", sections.get(section, ""), re.MULTILINE)
        and not (name.endswith("_file") or name == "password")
    ]
    assert not missing, f"undocumented keys: {missing}"
