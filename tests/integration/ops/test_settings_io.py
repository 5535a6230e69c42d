"""Settings move between appliances: exported from one store (services, retention, prompts),
imported into another through the CLI; a damaged or invalid document changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.service_profile import demo_profile, profile_to_dict
from appliance.errors import ConfigError
from appliance.ops.retention import Keep, RetentionPolicy, load_policy, save_policy
from appliance.ops.settings_io import export_settings, import_settings
from appliance.services.business import load_catalog, save_profile
from tests.integration.ops.data import T0


def _config(path: Path, url: str, data_dir: Path) -> Path:
    path.write_text(f'[node]\ndata_dir = "{data_dir}"\n\n[store]\nurl = "{url}"\n')
    return path


def test_export_then_import_into_another_appliance(new_url: Callable[[], str],
                                                   tmp_path: Path) -> None:
    source_url, target_url = new_url(), new_url()
    source = SqlStore.open(source_url)
    save_profile(source, demo_profile(), expected_version=0, actor="admin", now=T0)
    save_policy(source, RetentionPolicy(Keep(90, 30), {"default": Keep(7)}),
                expected_version=0, actor="admin", now=T0)
    source.close()
    prompt = tmp_path / "a" / "prompts" / "default" / "es" / "welcome.wav"
    prompt.parent.mkdir(parents=True)
    prompt.write_bytes(b"RIFF\x00\x01prompt-bytes")
    cfg_a = _config(tmp_path / "a.toml", source_url, tmp_path / "a")
    cfg_b = _config(tmp_path / "b.toml", target_url, tmp_path / "b")
    exported = tmp_path / "settings.json"

    run = [sys.executable, "-m", "appliance"]
    done = subprocess.run([*run, "export-settings", str(exported), "--config", str(cfg_a)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    document = json.loads(exported.read_text())
    assert set(document["settings"]) == {"services", "retention"}
    done = subprocess.run([*run, "import-settings", str(exported), "--config", str(cfg_b),
                           "--actor", "ops"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

    target = SqlStore.open(target_url)
    try:
        catalog = load_catalog(target)
        assert [profile_to_dict(p) for p in catalog.profiles.values()] \
            == [profile_to_dict(demo_profile())]
        assert load_policy(target)[0] == RetentionPolicy(Keep(90, 30), {"default": Keep(7)})
        assert {e.actor for e in target.list_audit()} == {"ops"}
    finally:
        target.close()
    copied = tmp_path / "b" / "prompts" / "default" / "es" / "welcome.wav"
    assert copied.read_bytes() == prompt.read_bytes()


def test_an_invalid_document_changes_nothing(new_url: Callable[[], str], tmp_path: Path) -> None:
    store = SqlStore.open(new_url())
    try:
        document = export_settings(store, tmp_path / "none", now=T0)
        document["settings"] = {"services": [{"name": "x", "plans": "not a mapping"}],
                                "retention": {"default": {"recordings_days": 7}}}
        with pytest.raises(ConfigError):
            import_settings(store, tmp_path / "p", document, actor="ops", now=T0)
        document["settings"] = {"retention": {}}
        document["prompts"] = {"../evil.wav": {"sha256": "0", "data": ""}}
        with pytest.raises(ConfigError, match="leaves"):
            import_settings(store, tmp_path / "p", document, actor="ops", now=T0)
        assert store.list_settings() == [] and not (tmp_path / "p").exists()
    finally:
        store.close()
