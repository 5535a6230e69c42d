"""`desborde check-config`: a good file passes, each bad file names the exact problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desborde.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(REPO / "deploy" / "desborde.example.toml")]) == 0
    assert "ok" in capsys.readouterr().out


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert main(["check-config", str(_write(tmp_path, ""))]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sip]\nport = 70000\n", "sip.port: Input should be less than or equal to 65535"),
        ("[sip]\nprot = 5060\n", "sip.prot: Extra inputs are not permitted"),
        ("[sip]\nallowed_peers = ['10.0.0.300/8']\n", "'10.0.0.300/8' is not an IP address or CIDR"),
        ("[sip]\nmode = 'register'\n", "needs at least one [[sip.accounts]]"),
        ("[sip]\nmode = 'peer'\n", "sip.mode: Input should be 'trunk' or 'register'"),
        ("[sip]\nrtp_port_min = 30000\nrtp_port_max = 20000\n", "rtp_port_min must be below"),
        ("[store]\nurl = 'mysql://x'\n", "store url must start with sqlite:/// or postgresql"),
        ("[smtp]\nsecurity = 'ssl'\n", "smtp.security: Input should be 'starttls', 'tls' or 'none'"),
        ("[sip\nport = 1\n", "not valid TOML"),
        (
            "[[sip.accounts]]\nregistrar = 'sip:pbx'\nusername = 'u'\n",
            "a SIP account needs password or password_file",
        ),
    ],
)
def test_bad_files_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    assert main(["check-config", str(_write(tmp_path, text))]) == 2
    assert expected in capsys.readouterr().err


def test_a_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_secrets_are_read_from_files_and_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "smtp.secret"
    secret.write_text("hunter2\n", encoding="utf-8")
    good = _write(tmp_path, f"[smtp]\nhost = 'mx'\npassword_file = '{secret}'\n")
    assert main(["check-config", str(good)]) == 0
    bad = _write(tmp_path, f"[smtp]\npassword = 'hunter2'\npassword_file = '{secret}'\n")
    assert main(["check-config", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "hunter2" not in captured.out + captured.err
    assert "set either password or password_file" in captured.err
