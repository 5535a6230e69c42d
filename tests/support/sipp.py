"""Running SIPp scenarios from tests/assets/sipp against a peer on 127.0.0.1, on free ports,
without a terminal, with its exit code and trace files collected. Async, so the appliance's
engine keeps running on the test's event loop while SIPp plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.tools import require_tool

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "sipp"


def free_udp_port(pair: bool = False) -> int:
    """A UDP port nobody holds right now (and, with `pair`, its +2 neighbour too, for RTP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not pair:
            return port
        if port % 2 == 0 and port < 65000 and _udp_free(port + 2):
            return port
    raise RuntimeError("no free UDP port pair found")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class SippResult:
    returncode: int
    stdout: str
    errors: str
    log: str
    messages: str

    def traced(self, direction: str = "received") -> list[str]:
        """The SIP messages SIPp traced as sent or received, in order."""
        chunks = re.split(r"\n-{20,}[^\n]*\n", "\n" + self.messages.replace("\r", ""))
        out: list[str] = []
        for chunk in chunks:
            head, _, body = chunk.partition("\n")
            if head.startswith(f"UDP message {direction}"):
                out.append(body.lstrip("\n"))
        return out

    def explain(self) -> str:
        return (f"sipp exit {self.returncode}\n--- errors\n{self.errors[-3000:]}\n--- log\n"
                f"{self.log[-2000:]}\n--- messages\n{self.messages[-6000:]}\n"
                f"--- stdout\n{self.stdout[-1500:]}")


@dataclass
class Sipp:
    """One SIPp process. `target` None makes it a server (a callback target listening)."""

    scenario: str
    workdir: Path
    target: str | None = None
    service: str = "100"
    calls: int = 1
    keys: dict[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=free_udp_port)
    media_port: int = field(default_factory=lambda: free_udp_port(pair=True))
    _proc: asyncio.subprocess.Process | None = None

    def argv(self) -> list[str]:
        name = self.scenario.removesuffix(".xml")
        w = self.workdir
        args = [
            require_tool("sipp"), "-sf", str(ASSETS / f"{self.scenario}"),
            "-i", "127.0.0.1", "-p", str(self.port),
            "-mi", "127.0.0.1", "-mp", str(self.media_port),
            "-m", str(self.calls), "-nostdin", "-timeout", "90s",
            "-trace_err", "-error_file", str(w / f"{name}.err"),
            "-trace_logs", "-log_file", str(w / f"{name}.log"),
            "-trace_msg", "-message_file", str(w / f"{name}.msg"),
        ]
        for key, value in self.keys.items():
            args += ["-key", key, value]
        args += list(self.extra)
        if self.target is not None:
            args += ["-s", self.service, self.target]
        return args

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv(), cwd=ASSETS, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )

    async def wait(self, timeout: float = 60.0) -> SippResult:
        assert self._proc is not None, "start() first"
        try:
            out, _ = await asyncio.wait_for(self._proc.communicate(), timeout)
        except TimeoutError:
            self._proc.kill()
            out, _ = await self._proc.communicate()
        name = self.scenario.removesuffix(".xml")
        return SippResult(
            returncode=self._proc.returncode if self._proc.returncode is not None else -1,
            stdout=out.decode(errors="replace"),
            errors=_read(self.workdir / f"{name}.err"),
            log=_read(self.workdir / f"{name}.log"),
            messages=_read(self.workdir / f"{name}.msg"),
        )

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            with contextlib.suppress(Exception):
                await self._proc.wait()

    async def run(self, timeout: float = 60.0) -> SippResult:
        await self.start()
        return await self.wait(timeout)


def _read(path: Path) -> str:
    # SIPp names trace files itself when given a directory; accept both spellings
    if path.exists():
        return path.read_text(errors="replace")
    matches = sorted(path.parent.glob(f"{path.stem}*"))
    return "\n".join(p.read_text(errors="replace") for p in matches if p.is_file())
