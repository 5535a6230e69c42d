"""deploy/install.sh: a dry run prints every step and changes nothing; an install into a tree
(--root, with a pre-made venv) lays out user, venv, prompts, config, data dir and enabled unit;
a second run upgrades in place and keeps config and data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[3]
INSTALL = ROOT / "deploy" / "install.sh"
EXAMPLE = ROOT / "deploy" / "desborde.example.toml"
STEPS = [
    "==> Debian packages",
    "==> System user desborde",
    "==> Virtual environment",
    "==> Default prompts",
    "==> Configuration",
    "==> Data directory",
    "==> systemd unit",
    "==> Checking",
    "==> Done",
]


def _install(*args: str) -> subprocess.CompletedProcess[str]:
    require_tool("useradd")
    require_tool("systemctl")
    return subprocess.run(
        ["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=600
    )


def _fresh_tree(tree: Path) -> Path:
    """A root with the account files useradd --prefix edits, like a fresh Debian has."""
    etc = tree / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (etc / "group").write_text("root:x:0:\n", encoding="utf-8")
    for name in ("shadow", "gshadow"):
        (etc / name).write_text("", encoding="utf-8")
        (etc / name).chmod(0o640)
    return tree


def _premade_venv(tree: Path) -> Path:
    """The venv the installer finds. A .pth file lets it see the packages of the interpreter running
    the tests (a venv of its own under `make test`), so pip finds every dependency installed and
    the test measures the installer, not the package index."""
    venv = tree / "opt" / "desborde" / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    host = [p for p in sys.path if p.endswith("site-packages")]
    (site / "_test_host_packages.pth").write_text("\n".join(host) + "\n", encoding="utf-8")
    return venv


def _snapshot(tree: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(tree)): (p.stat().st_mode, p.stat().st_mtime) for p in tree.rglob("*")
    }


def _passwd_entry(tree: Path, user: str) -> list[str]:
    lines = (tree / "etc" / "passwd").read_text(encoding="utf-8").splitlines()
    found = [line.split(":") for line in lines if line.startswith(f"{user}:")]
    assert len(found) == 1, lines
    return found[0]


def test_dry_run_into_a_tree_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    tree = _fresh_tree(tmp_path / "root")
    before = _snapshot(tree)
    result = _install("--dry-run", "--root", str(tree))
    assert result.returncode == 0, result.stdout + result.stderr
    positions = [result.stdout.find(step) for step in STEPS]
    assert -1 not in positions, result.stdout
    assert positions == sorted(positions), "steps out of order"
    for command in (
        f"+ useradd --prefix {tree} --system",
        f"-m venv {tree}/opt/desborde/venv",
        "-m pip install --quiet --force-reinstall --no-deps",
        f"{EXAMPLE} {tree}/etc/desborde/desborde.toml",
        f"{tree}/var/lib/desborde",
        f"+ systemctl --root={tree} enable desborde.service",
        f"{tree}/opt/desborde/venv/bin/desborde check-config",
    ):
        assert command in result.stdout, command
    assert _snapshot(tree) == before


def test_dry_run_on_this_host_changes_nothing() -> None:
    watched = [Path(p) for p in ("/opt/desborde", "/etc/desborde", "/var/lib/desborde")]
    watched.append(Path("/etc/systemd/system/desborde.service"))
    before = [p.exists() for p in watched]
    result = _install("--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run: nothing will be changed" in result.stdout
    assert "+ systemctl enable desborde.service" in result.stdout
    assert [p.exists() for p in watched] == before


def test_unknown_argument_is_refused() -> None:
    result = _install("--frobnicate")
    assert result.returncode != 0
    assert "unknown argument --frobnicate" in result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    assert EXAMPLE.is_file(), "deploy/desborde.example.toml is missing"
    tree = _fresh_tree(tmp_path_factory.mktemp("install") / "root")
    _premade_venv(tree)
    result = _install("--root", str(tree))
    assert result.returncode == 0, result.stdout + result.stderr
    yield tree, result.stdout


def test_creates_the_system_user(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    _, _, uid, gid, _, home, shell = _passwd_entry(tree, "desborde")
    assert int(uid) < 1000, "not a system user"
    assert (home, shell) == ("/var/lib/desborde", "/usr/sbin/nologin")
    assert f"desborde:x:{gid}:" in (tree / "etc" / "group").read_text(encoding="utf-8")


def test_installs_the_project_into_the_venv(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    venv = tree / "opt" / "desborde" / "venv"
    assert os.access(venv / "bin" / "desborde", os.X_OK)
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import appliance; print(appliance.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        timeout=60,
    )
    assert located.stdout.startswith(str(venv)), located.stdout


def test_config_from_the_example_readable_by_the_service_only(installed: tuple[Path, str]) -> None:
    tree, stdout = installed
    gid = int(_passwd_entry(tree, "desborde")[3])
    config = tree / "etc" / "desborde" / "desborde.toml"
    assert config.read_bytes() == EXAMPLE.read_bytes()
    assert (config.stat().st_mode & 0o777, config.stat().st_uid, config.stat().st_gid) == (
        0o640,
        0,
        gid,
    )
    assert (config.parent.stat().st_mode & 0o777) == 0o750
    assert f"{config}: ok" in stdout, "check-config did not accept it"


def test_data_dir_owned_by_the_service_user(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    _, _, uid, gid, *_ = _passwd_entry(tree, "desborde")
    state = (tree / "var" / "lib" / "desborde").stat()
    assert (state.st_uid, state.st_gid, state.st_mode & 0o777) == (int(uid), int(gid), 0o750)


def test_unit_installed_and_enabled(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    unit = tree / "etc" / "systemd" / "system" / "desborde.service"
    assert unit.read_bytes() == (ROOT / "systemd" / "desborde.service").read_bytes()
    wants = unit.parent / "multi-user.target.wants" / "desborde.service"
    assert os.readlink(wants) == "/etc/systemd/system/desborde.service"


def test_prompts_installed(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    sounds = tree / "opt" / "desborde" / "sounds"
    for lang in ("es", "en"):
        shipped = sorted(p.name for p in (ROOT / "sounds" / lang).glob("*.wav"))
        assert sorted(p.name for p in (sounds / lang).glob("*.wav")) == shipped


def test_rerun_upgrades_in_place_and_keeps_config_and_data(installed: tuple[Path, str]) -> None:
    tree, _ = installed
    config = tree / "etc" / "desborde" / "desborde.toml"
    config.write_text(config.read_text(encoding="utf-8") + "# edited by the admin\n")
    recording = tree / "var" / "lib" / "desborde" / "recordings" / "msg.wav"
    recording.parent.mkdir()
    recording.write_bytes(b"RIFF")
    # An older install: a module of the project is missing from the venv.
    site = next((tree / "opt" / "desborde" / "venv" / "lib").glob("python3*/site-packages"))
    (site / "appliance" / "cli.py").unlink()

    result = _install("--root", str(tree))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "exists: upgrading in place" in result.stdout
    assert "exists: kept as it is" in result.stdout
    assert (site / "appliance" / "cli.py").is_file(), "the project was not reinstalled"
    assert config.read_text(encoding="utf-8").endswith("# edited by the admin\n")
    assert recording.read_bytes() == b"RIFF"
    _passwd_entry(tree, "desborde")  # still exactly one entry
