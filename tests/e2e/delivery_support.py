"""Shared by the delivery end-to-end tests: a config file whose [smtp] points at a test server,
SIPp callers that leave a message, and polling the appliance's JSON API."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.appliance_proc import DemoProcess, free_port
from tests.support.rtp_pcap import caller_pcap
from tests.support.sipp import ASSETS, Sipp, SippResult

SPEECH = ASSETS / "media" / "speech_8k.wav"


def write_config(tmp_path: Path, smtp_port: int, *, data_dir: Path | None = None) -> Path:
    """A config running on free ports, data under tmp_path/var, email through 127.0.0.1:smtp_port."""
    data = data_dir or tmp_path / "var"
    text = f"""
[node]
name = "e2e"
data_dir = "{data}"

[sip]
port = {free_port(socket.SOCK_DGRAM)}

[web]
port = {free_port()}

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "desborde@example.org"
timeout_seconds = 5
"""
    path = tmp_path / "desborde.toml"
    path.write_text(text, encoding="utf-8")
    return path


def message_pcap(path: Path, seconds: float = 20.0) -> Path:
    """2 during the greeting (barge-in), speech after the tone, # to end the message."""
    return caller_pcap(path, seconds, speech=[(9.0, SPEECH)], digits=[(1.0, "2"), (16.0, "#")])


def sipp_caller(demo: DemoProcess, work: Path, pcap: Path, name: str = "caller") -> Sipp:
    xml = (ASSETS / "e2e" / "uac_menu_hungup.xml").read_text().replace("@PCAP@", str(pcap))
    work.mkdir(parents=True, exist_ok=True)
    script = work / f"{name}.xml"
    script.write_text(xml)
    return Sipp(str(script), work / name, target=f"127.0.0.1:{demo.sip_port}", service="100")


async def leave_message(demo: DemoProcess, work: Path, name: str = "caller") -> SippResult:
    work.mkdir(parents=True, exist_ok=True)
    sipp = sipp_caller(demo, work, message_pcap(work / f"{name}.pcap"), name)
    result = await sipp.run(timeout=120)
    assert result.returncode == 0, result.explain() + demo.log()[-4000:]
    return result


def api(demo: DemoProcess, resource: str) -> list[dict[str, object]]:
    status, body = demo.get(f"/api/v1/{resource}", token=demo.api_token)
    assert status == 200, (status, body[:300])
    rows: list[dict[str, object]] = json.loads(body)
    return rows


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not met in {timeout} s: {what}")
