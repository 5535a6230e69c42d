"""`desborde export-settings` / `import-settings`: the business settings (services with their
calendars and menus, retention, optionally integrations) and the uploaded prompts as one JSON
document, for version control and for moving them between appliances.

Integrations hold secrets (ODBC connection strings, SOAP passwords, webhook keys), so they are
exported only when asked for. Everything is validated before anything is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.domain.records import AuditEntry
from appliance.domain.service_profile import profile_from_dict
from appliance.errors import ApplianceError, ConfigError
from appliance.ops.retention import RETENTION_KEY, RetentionPolicy
from appliance.ports.store import Store
from appliance.services.business import SERVICES_KEY

log = logging.getLogger(__name__)

FORMAT = "desborde-settings"
VERSION = 1
INTEGRATIONS_KEY = "integrations"
BUSINESS_KEYS = (SERVICES_KEY, RETENTION_KEY)


def export_settings(store: Store, prompts_dir: Path, *, now: datetime,
                    integrations: bool = False) -> dict[str, Any]:
    keys = (*BUSINESS_KEYS, INTEGRATIONS_KEY) if integrations else BUSINESS_KEYS
    values = {}
    for key in keys:
        setting = store.get_setting(key)
        if setting is not None:
            values[key] = setting.value
    return {"format": FORMAT, "version": VERSION, "exported_at": now.isoformat(),
            "settings": values, "prompts": _read_prompts(prompts_dir)}


def _read_prompts(root: Path) -> dict[str, dict[str, str]]:
    if not root.is_dir():
        return {}
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        out[path.relative_to(root).as_posix()] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "data": base64.b64encode(data).decode("ascii")}
    return out


def dumps(document: Mapping[str, Any]) -> str:
    """Stable text (sorted keys, one key per line) so version control shows real diffs."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _validate(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Path, bytes]]:
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise ConfigError(f"not a {FORMAT} v{VERSION} document")
    settings = dict(document.get("settings") or {})
    unknown = set(settings) - {*BUSINESS_KEYS, INTEGRATIONS_KEY}
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}")
    if SERVICES_KEY in settings:
        try:
            names = [profile_from_dict(item).name for item in settings[SERVICES_KEY]]
        except (KeyError, TypeError, ValueError, ApplianceError) as exc:
            raise ConfigError(f"services are invalid: {exc}") from exc
        if not names or len(set(names)) != len(names):
            raise ConfigError("services must be a non-empty list with unique names")
    if RETENTION_KEY in settings:
        RetentionPolicy.from_dict(settings[RETENTION_KEY])
    return settings, _prompt_files(document.get("prompts") or {})


def _prompt_files(prompts: Mapping[str, Mapping[str, str]]) -> dict[Path, bytes]:
    files = {}
    for name, entry in prompts.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ConfigError(f"prompt path {name!r} leaves the prompts directory")
        data = base64.b64decode(entry["data"], validate=True)
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ConfigError(f"prompt {name} does not match its checksum")
        files[rel] = data
    return files


def import_settings(store: Store, prompts_dir: Path, document: Mapping[str, Any], *,
                    actor: str, now: datetime) -> list[str]:
    """Replace the listed settings and write the prompts; returns what was imported."""
    settings, prompts = _validate(document)
    done = []
    for key, value in settings.items():
        current = store.get_setting(key)
        store.put_setting(key, value, expected_version=current.version if current else 0, now=now)
        # Integrations carry secrets: the audit notes the import, not the values.
        shown = key != INTEGRATIONS_KEY
        store.append_audit(AuditEntry(
            at=now, actor=actor, action="settings.import", target=key,
            before=current.value if current and shown else None, after=value if shown else None))
        done.append(key)
    for rel, data in prompts.items():
        path = prompts_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        done.append(f"prompts/{rel.as_posix()}")
    log.info("settings imported by %s: %s", actor, ", ".join(done) or "nothing")
    return done
