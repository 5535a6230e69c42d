"""The .eml spool: one RFC 5322 file per message, written atomically, never twice."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from appliance.adapters.mail.spool import SpoolMailer
from appliance.errors import PermanentDeliveryError, TransientDeliveryError


def message(message_id: str | None = "<desborde.1@x>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "vm@example.test"
    msg["To"] = "help@example.test"
    msg["Subject"] = "Buzón de voz ñ"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content("hola\n")
    return msg


async def test_writes_one_parseable_eml(tmp_path: Path) -> None:
    spool = SpoolMailer(tmp_path / "mail")
    await spool.send(message())
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Buzón de voz ñ" and parsed["Message-ID"] == "<desborde.1@x>"
    assert b"\r\n" in files[0].read_bytes()  # RFC 5322 line endings


async def test_resend_of_same_message_id_is_not_duplicated(tmp_path: Path) -> None:
    spool = SpoolMailer(tmp_path)
    first = spool.write(message())
    second = spool.write(message())
    spool.write(message("<desborde.2@x>"))
    assert first == second
    assert len(list(tmp_path.glob("*.eml"))) == 2
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_message_without_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentDeliveryError):
        SpoolMailer(tmp_path).write(message(None))


def test_unwritable_spool_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TransientDeliveryError):
        SpoolMailer(blocker / "mail").write(message())
