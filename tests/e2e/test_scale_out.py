"""Scale-out end to end: two appliances (`desborde run`) share one PostgreSQL store and a recordings
and mail directory, behind Kamailio's dispatcher running deploy/kamailio/dispatcher.cfg. SIPp
places 40 calls that leave messages; one node is SIGKILLed halfway, while the mail spool is
down so both nodes hold undelivered jobs. Shown: calls after the kill go to the survivor, the
killed node's jobs are delivered by the survivor, its half-recorded messages are filed when it
comes back, and every recording ends as one message delivered as exactly one email.
"""

from __future__ import annotations

import asyncio
import email
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.policy import default
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import JobStatus
from tests.support.appliance_proc import free_port
from tests.support.kamailio import Kamailio
from tests.support.postgres import PostgresCluster
from tests.support.postgres import pg_cluster as pg_cluster
from tests.support.rtp_pcap import caller_pcap
from tests.support.sipp import ASSETS, Sipp, SippResult, free_udp_port

SPEECH = ASSETS / "media" / "speech_8k.wav"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kamailio"
CALLS_PER_PHASE = 20


@dataclass
class Node:
    name: str
    config: Path
    data_dir: Path
    sip_port: int
    web_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "appliance", "run", "--config", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            if self.get("/healthz")[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy:\n{self.log()[-3000:]}")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}",
                                        timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _node(root: Path, shared: Path, name: str, store_url: str, rtp: int) -> Node:
    data = root / name
    data.mkdir(parents=True)
    # The shared directories an NFS mount would provide, linked where each node keeps them.
    (data / "recordings").symlink_to(shared / "recordings")
    (data / "mail").symlink_to(shared / "mail")
    node = Node(name, root / f"{name}.toml", data, free_udp_port(), free_port())
    node.config.write_text(f"""
[node]
name = "{name}"
data_dir = "{data}"

[sip]
bind = "127.0.0.1"
port = {node.sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp + 999}

[web]
port = {node.web_port}

[store]
url = "{store_url}"

[log]
format = "json"
""")
    return node


class Dispatcher(Kamailio):
    """Kamailio running the shipped deploy/kamailio/dispatcher.cfg, on loopback ports."""

    backends: tuple[int, ...] = ()

    def render(self) -> Path:
        self.rundir.mkdir(parents=True, exist_ok=True)
        listing = self.rundir / "dispatcher.list"
        listing.write_text("".join(f"1 sip:127.0.0.1:{p} 0 0 duid=node{i}\n"
                                   for i, p in enumerate(self.backends)))
        text = (DEPLOY / "dispatcher.cfg").read_text()
        text = re.sub(r'#!define DS_LIST_FILE ".*"', f'#!define DS_LIST_FILE "{listing}"', text)
        text = re.sub(r'#!define DS_PING_FROM ".*"',
                      f'#!define DS_PING_FROM "sip:dispatcher@127.0.0.1:{self.port}"', text)
        text = re.sub(r'#!define CTL_SOCKET ".*"',
                      f'#!define CTL_SOCKET "unix:{self.rundir}/kamailio_ctl"', text)
        text = re.sub(r"(?m)^listen=.*$", f"listen=udp:127.0.0.1:{self.port}", text)
        text = text.replace("log_stderror=no", "log_stderror=yes")
        path = self.rundir / "dispatcher.cfg"
        path.write_text(text)
        return path


def _sipp(work: Path, pcap: Path, kamailio: Kamailio) -> Sipp:
    """SIPp placing the demo test's menu caller, 2 calls a second; it waits 45 s (not 90) for
    the BYE a dead node never sends. The script sits in `work`, where SIPp writes its traces."""
    work.mkdir(parents=True)
    xml = (ASSETS / "e2e" / "uac_menu_hungup.xml").read_text()
    script = work / "caller.xml"
    script.write_text(xml.replace("@PCAP@", str(pcap)).replace('timeout="90000"', 'timeout="45000"'))
    return Sipp(str(script), work, target=f"127.0.0.1:{kamailio.port}", service="100",
                calls=CALLS_PER_PHASE, extra=("-r", "2", "-rp", "1000", "-l", "40"))


def _call_ids(result: SippResult, direction: str, method: str) -> set[str]:
    ids = set()
    for message in result.traced(direction):
        if message.startswith(method + " "):
            found = re.search(r"(?mi)^Call-ID:\s*(\S+)", message)
            if found:
                ids.add(found.group(1))
    return ids


def _emails(mail_dir: Path) -> list[tuple[str, set[str]]]:
    """(Message-ID, message ids linked in the body) for every spooled email."""
    out = []
    for path in sorted(mail_dir.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default)
        text = "".join(str(part.get_content()) for part in parsed.walk()
                       if part.get_content_type() == "text/plain")
        out.append((str(parsed["Message-ID"]), set(re.findall(r"/messages/([0-9a-f]{32})", text))))
    return out


def _wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(pg_cluster: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Node, Node, str]]:
    url = pg_cluster.create_database()
    shared = tmp_path / "shared"
    for sub in ("recordings", "mail"):
        (shared / sub).mkdir(parents=True)
    a = _node(tmp_path, shared, "node-a", url, 21000)
    b = _node(tmp_path, shared, "node-b", url, 23000)
    try:
        a.start()
        b.start()
        yield a, b, url
    finally:
        a.stop()
        b.stop()


def _break_spool(mail: Path) -> None:
    # A regular file where the spool directory was: every send fails as a transient error.
    mail.rename(mail.with_name("mail.held"))
    mail.write_bytes(b"")


def _mend_spool(mail: Path) -> None:
    mail.unlink()
    mail.with_name("mail.held").rename(mail)


async def test_two_nodes_behind_kamailio_survive_a_sigkill(
    cluster: tuple[Node, Node, str], tmp_path: Path
) -> None:
    a, b, url = cluster
    shared = tmp_path / "shared"
    store = SqlStore.open(url)
    kamailio = Dispatcher(tmp_path / "kamailio")
    kamailio.backends = (a.sip_port, b.sip_port)
    await kamailio.start()
    pcap = caller_pcap(tmp_path / "caller.pcap", 20.0, speech=[(9.0, SPEECH)],
                       digits=[(1.0, "2"), (16.0, "#")])
    try:
        # Phase 1: the mail spool is down, so every message waits in the outbox.
        _break_spool(shared / "mail")
        first = _sipp(tmp_path / "sipp1", pcap, kamailio)
        await first.start()

        def a_has_messages() -> bool:
            nodes = {m.call_id: store.get_call(m.call_id or "") for m in store.list_messages()}
            return sum(1 for c in nodes.values() if c and c[0].node == "node-a") >= 2

        await asyncio.to_thread(_wait_until, a_has_messages, 60, "node-a to save messages")
        a.kill()
        _mend_spool(shared / "mail")

        # Phase 2: every call placed after the kill is answered by node-b.
        second = _sipp(tmp_path / "sipp2", pcap, kamailio)
        second_result = await second.run(timeout=180)
        first_result = await first.wait(timeout=120)
        assert second_result.returncode == 0, second_result.explain() + b.log()[-3000:]
        placed_after = _call_ids(second_result, "sent", "INVITE")
        assert len(placed_after) == CALLS_PER_PHASE
        for call_id in placed_after:
            found = store.get_call(call_id)
            assert found is not None and found[0].node == "node-b", call_id

        # node-a comes back: the recordings its death interrupted are filed as messages.
        a.start()
        _wait_until(lambda: not list((shared / "recordings").rglob("*.pending.json")), 30,
                    "interrupted recordings to be filed")

        def all_delivered() -> bool:
            jobs = store.list_jobs(kind="voicemail", limit=1000)
            return bool(jobs) and all(j.status is JobStatus.DONE for j in jobs)

        # Normally seconds; up to the 5 min lease if node-a died holding a claim.
        await asyncio.to_thread(_wait_until, all_delivered, 420, "every voicemail delivered")
    finally:
        await kamailio.stop()

    messages = store.list_messages(limit=1000)
    jobs = store.list_jobs(kind="voicemail", limit=1000)
    emails = _emails(shared / "mail")
    # Every recording on the shared disk is exactly one message...
    wavs = sorted(str(p) for p in (shared / "recordings").rglob("*.wav"))
    assert sorted(str(Path(m.path).resolve()) for m in messages) == [str(Path(w).resolve())
                                                                      for w in wavs]
    # ...and every message is exactly one email (one per Message-ID, none twice).
    linked = [mid for _, ids in emails for mid in ids]
    assert sorted(linked) == sorted(m.id for m in messages)
    assert len({message_id for message_id, _ in emails}) == len(emails) == len(messages)
    # Every call a caller completed (the appliance hung up after "message saved") left one.
    completed = (_call_ids(first_result, "received", "BYE")
                 | _call_ids(second_result, "received", "BYE"))
    by_call = {m.call_id for m in messages}
    assert completed <= by_call
    assert len(completed) >= CALLS_PER_PHASE + 5  # phase 2, and phase 1's calls on node-b
    # node-a's undelivered jobs were finished by node-b.
    node_of = {m.id: (store.get_call(m.call_id or "") or (None, []))[0] for m in messages}
    from_a_done_by_b = [j for j in jobs if j.claimed_by == "node-b"
                        and getattr(node_of.get(str(j.payload["message_id"])), "node", "") == "node-a"]
    assert from_a_done_by_b, "node-b delivered none of node-a's messages"

    # Supervision on the live nodes.
    for node in (a, b):
        status, body = node.get("/readyz")
        assert status == 200, body
        status, body = node.get("/metrics")
        assert status == 200 and b"desborde_outbox_depth 0.0" in body
    assert b'desborde_calls_total{outcome="message_left"}' in b.get("/metrics")[1]
    store.close()
    assert os.path.isdir(shared / "mail")
