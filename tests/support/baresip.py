"""baresip (Debian baresip-core 1.0.0) as a real softphone for tests: its own config directory
from tests/assets/baresip with free ports, a WAV as its microphone, and an async client for its
ctrl_tcp module (netstring-framed JSON commands in, command responses and call events out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.appliance_proc import free_port
from tests.support.sipp import free_udp_port
from tests.support.tools import require_tool

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "baresip"


def padded_wav(out: Path, speech: Path, *, lead_s: float, total_s: float) -> Path:
    """The caller's microphone: silence, the speech at `lead_s`, silence up to `total_s`.
    baresip ends the call when its aufile runs out, so the file must outlast the call."""
    raw = out.with_suffix(".lead.wav")
    sox = require_tool("sox")
    subprocess.run([sox, str(speech), "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(raw), "pad", str(lead_s)], check=True)
    subprocess.run([sox, str(raw), str(out), "pad", "0", str(total_s), "trim", "0",
                    str(total_s)], check=True)
    return out


def netstring(data: bytes) -> bytes:
    return str(len(data)).encode() + b":" + data + b","


def split_netstrings(buf: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """Complete netstrings decoded from the front of `buf`, and the incomplete rest."""
    out: list[dict[str, Any]] = []
    while True:
        colon = buf.find(b":")
        if colon < 0 or not buf[:colon].isdigit():
            return out, buf
        size = int(buf[:colon])
        if len(buf) < colon + size + 2:
            return out, buf
        out.append(json.loads(buf[colon + 1 : colon + 1 + size]))
        buf = buf[colon + size + 2 :]


@dataclass
class Baresip:
    """One baresip process and a ctrl_tcp connection to it."""

    workdir: Path
    source_wav: Path
    sip_port: int = field(default_factory=free_udp_port)
    ctrl_port: int = field(default_factory=free_port)
    events: list[dict[str, Any]] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _pump: asyncio.Task[None] | None = None
    _responses: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _token: int = 0

    @property
    def config_dir(self) -> Path:
        return self.workdir / "conf"

    @property
    def rec_dir(self) -> Path:
        return self.workdir / "rec"

    @property
    def log_path(self) -> Path:
        return self.workdir / "baresip.log"

    def write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.rec_dir.mkdir(parents=True, exist_ok=True)
        rtp_low = random.randrange(40000, 60000, 200)  # SIPp and the engine use other ranges
        values = {"SIP_PORT": self.sip_port, "CTRL_PORT": self.ctrl_port,
                  "SOURCE_WAV": self.source_wav, "REC_DIR": self.rec_dir,
                  "RTP_LOW": rtp_low, "RTP_HIGH": rtp_low + 99}
        for name in ("config", "accounts", "contacts"):
            text = (ASSETS / name).read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace(f"@{key}@", str(value))
            (self.config_dir / name).write_text(text, encoding="utf-8")

    async def start(self) -> None:
        self.write_config()
        with self.log_path.open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                require_tool("baresip"), "-f", str(self.config_dir),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        await self._connect(timeout=10.0)
        self._pump = asyncio.get_running_loop().create_task(self._read_loop())

    async def _connect(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                self._reader, self._writer = await asyncio.open_connection(
                    "127.0.0.1", self.ctrl_port)
                return
            except OSError:
                if asyncio.get_running_loop().time() > deadline or self._exited():
                    raise RuntimeError(f"baresip ctrl_tcp not reachable:\n{self.log()}") from None
                await asyncio.sleep(0.1)

    def _exited(self) -> bool:
        return self._proc is not None and self._proc.returncode is not None

    async def _read_loop(self) -> None:
        assert self._reader is not None
        buf = b""
        while chunk := await self._reader.read(65536):
            messages, buf = split_netstrings(buf + chunk)
            for message in messages:
                if message.get("event"):
                    self.events.append(message)
                    self._changed.set()
                else:
                    self._responses.put_nowait(message)

    async def command(self, command: str, params: str = "") -> dict[str, Any]:
        """Send one ctrl_tcp command and return its response."""
        assert self._writer is not None, "start() first"
        self._token += 1
        body = {"command": command, "params": params, "token": str(self._token)}
        self._writer.write(netstring(json.dumps(body).encode()))
        await self._writer.drain()
        response = await asyncio.wait_for(self._responses.get(), 5.0)
        if not response.get("ok", False):
            raise RuntimeError(f"baresip {command} {params!r} failed: {response}")
        return response

    async def wait_event(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        """The first event of type `kind` (e.g. CALL_ESTABLISHED, CALL_CLOSED) seen so far."""
        async def seen() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if event.get("type") == kind:
                        return event
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(seen(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {kind} from baresip in {timeout} s: {self.events}\n"
                                 f"{self.log()}") from None

    def recordings(self, kind: str) -> list[Path]:
        """sndfile's dumps: kind 'enc' is what the caller sent, 'dec' what it heard."""
        return sorted(self.rec_dir.glob(f"*-{kind}.wav"))

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    async def stop(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.command("quit"), 2.0)
            self._writer.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 5.0)
            if self._proc.returncode is None:
                self._proc.kill()
                await self._proc.wait()


@asynccontextmanager
async def running_baresip(workdir: Path, source_wav: Path) -> AsyncIterator[Baresip]:
    phone = Baresip(workdir, source_wav)
    await phone.start()
    try:
        yield phone
    finally:
        await phone.stop()
