"""The bench's config file, tshark's closing counts, the email's message id and the targets."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from appliance.config import parse_settings
from bench.appliance_proc import BenchConfig, config_toml
from bench.capture import parse_counts
from bench.delivery import message_id_in


def test_bench_config_is_a_valid_appliance_config(tmp_path: Path) -> None:
    cfg = BenchConfig(data_dir=tmp_path / "var", sip_port=5099, web_port=8099, smtp_port=2525)
    settings = parse_settings(config_toml(cfg))
    assert settings.sip.port == 5099 and settings.sip.max_channels == 600
    assert (settings.sip.rtp_port_min, settings.sip.rtp_port_max) == (21000, 22999)
    assert settings.smtp.host == "127.0.0.1" and settings.smtp.port == 2525
    assert settings.smtp.security == "none"
    assert settings.node.data_dir == tmp_path / "var"


def test_without_smtp_port_mail_goes_to_the_spool(tmp_path: Path) -> None:
    settings = parse_settings(config_toml(BenchConfig(tmp_path, 5099, 8099)))
    assert settings.smtp.host is None


def test_tshark_counts() -> None:
    assert parse_counts("Capturing on 'Loopback: lo'\n123456 packets captured\n") == (123456, 0)
    assert parse_counts("Capturing on 'lo'\n10 packets captured\n3 packets dropped from lo\n") \
        == (10, 3)
    assert parse_counts("tshark: permission denied\n") == (None, None)


def test_message_id_from_the_link_in_the_email() -> None:
    msg = EmailMessage()
    msg["Subject"] = "Mensaje de +56912345678"
    msg.set_content("Escuchar: http://127.0.0.1:8080/messages/" + "ab" * 16 + "\n")
    msg.add_alternative("<a href='/messages/" + "ab" * 16 + "'>x</a>", subtype="html")
    msg.add_attachment(b"RIFF", maintype="audio", subtype="wav", filename="m.wav")
    assert message_id_in(msg.as_bytes()) == "ab" * 16
    plain = EmailMessage()
    plain.set_content("no link")
    assert message_id_in(plain.as_bytes()) is None
