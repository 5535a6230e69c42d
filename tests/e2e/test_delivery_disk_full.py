"""Disk full while recording: the recordings directory is a small tmpfs (mounted as root) that a
filler file fills after a first message. The next caller who leaves a message hears the apology
and is offered the ticket instead; the message already stored stays intact and its email out."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.delivery_support import api, leave_message, sipp_caller, wait_for, write_config
from tests.support.appliance_proc import running_appliance
from tests.support.rtp_pcap import caller_pcap
from tests.support.smtp import smtp_server
from tests.support.tools import require_tool


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run([require_tool("mount"), "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                    str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run([require_tool("umount"), "-l", str(path)], check=True)


def fill(directory: Path, leave: int) -> Path:
    """Write until the file system refuses, then free `leave` bytes: ENOSPC comes next."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 512)
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# 0: the recorder cannot even create its file; 12 KiB: the file and its sidecar are created and
# the first one-second flush (16 KB) fails, so the engine stops the recording with "error".
@pytest.mark.parametrize(("leave", "failure"), [(0, "cannot create recording"),
                                                (12 * 1024, "cannot write recording")],
                         ids=["at-start", "mid-recording"])
async def test_disk_full_apologises_offers_a_ticket_and_damages_nothing(
    tmp_path: Path, leave: int, failure: str
) -> None:
    recordings = tmp_path / "var" / "recordings"
    with small_tmpfs(recordings, "512k"), smtp_server() as smtp:
        with running_appliance(write_config(tmp_path, smtp.port)) as demo:
            await leave_message(demo, tmp_path / "first", "first")
            wait_for(lambda: smtp.sink.messages, what="the first message's email")
            [first] = api(demo, "messages")
            kept = Path(str(first["path"]))
            before = digest(kept)
            fill(recordings, leave)

            # 2 for a message, then 1 to take the callback the apology offers instead.
            pcap = caller_pcap(tmp_path / "second.pcap", 30.0, digits=[(1.0, "2"), (16.0, "1")])
            result = await sipp_caller(demo, tmp_path / "second", pcap, "second").run(120)
            assert result.returncode == 0, result.explain() + demo.log()[-4000:]
            wait_for(lambda: api(demo, "calls")[0]["ended_at"] is not None, what="call ended")
            second_call = api(demo, "calls")[0]
            messages, tickets = api(demo, "messages"), api(demo, "tickets")
            log = demo.log()
        assert digest(kept) == before  # the stored message is untouched
    assert [m["id"] for m in messages] == [first["id"]]
    assert second_call["outcome"] in ("callback_scheduled", "ticket_created"), log[-3000:]
    assert [t["call_id"] for t in tickets] == [second_call["id"]]
    assert failure in log and "No space left on device" in log
    assert len(smtp.sink.messages) == 1
