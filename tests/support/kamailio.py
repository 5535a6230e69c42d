"""A real Kamailio registrar/proxy for tests: the config from tests/assets/kamailio rendered onto
a free port and a private run directory, run in the foreground, stopped by its pid."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tests.support.sipp import free_udp_port
from tests.support.tools import require_tool

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "kamailio"


@dataclass
class Kamailio:
    rundir: Path
    config: str = "registrar.cfg"
    algorithm: str = "MD5"
    port: int = field(default_factory=free_udp_port)
    target_port: int = 9  # where 9xxx INVITEs go after the 407 (a SIPp callee)
    _proc: asyncio.subprocess.Process | None = None
    _log: BinaryIO | None = None

    def render(self) -> Path:
        self.rundir.mkdir(parents=True, exist_ok=True)
        text = (ASSETS / self.config).read_text()
        text = (text.replace("@PORT@", str(self.port)).replace("@RUNDIR@", str(self.rundir))
                .replace("@ALGORITHM@", self.algorithm)
                .replace("@TARGET_PORT@", str(self.target_port)))
        path = self.rundir / self.config
        path.write_text(text)
        return path

    async def start(self) -> None:
        cfg = self.render()
        self._log = open(self.rundir / "kamailio.log", "ab")  # noqa: SIM115 - closed in stop()
        self._proc = await asyncio.create_subprocess_exec(
            require_tool("kamailio"), "-f", str(cfg), "-DD", "-E", "-m", "64", "-M", "8",
            "-Y", str(self.rundir), stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log, stderr=self._log,
        )
        await self._wait_ready()

    async def _wait_ready(self, timeout: float = 10.0) -> None:
        probe = (f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKprobe;rport\r\n"
                 "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n"
                 "Call-ID: probe@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
                 "Content-Length: 0\r\n\r\n").encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            while loop.time() < deadline:
                assert self._proc is not None
                if self._proc.returncode is not None:
                    await self.stop()
                    raise RuntimeError(f"kamailio exited: {self.log()[-2000:]}")
                s.sendto(probe, ("127.0.0.1", self.port))
                await asyncio.sleep(0.2)
                with contextlib.suppress(BlockingIOError):
                    if s.recv(4096).startswith(b"SIP/2.0 200"):
                        return
        raise RuntimeError(f"kamailio not ready on {self.port}: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.rundir / "kamailio.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
