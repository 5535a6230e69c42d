"""The appliance under test as a real process (`python -m appliance run --config FILE`) on free
ports, with a config written for the benchmark: channel limit above the load, own RTP range."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.tools import need


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port(pair: bool = False) -> int:
    """A free UDP port; with `pair`, an even one whose +2 is free too (SIPp binds both)."""
    for _ in range(100):
        port = free_port(socket.SOCK_DGRAM)
        if not pair:
            return port
        if port % 2 == 0 and _udp_free(port + 2):
            return port
    raise RuntimeError("no free UDP port pair")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class BenchConfig:
    data_dir: Path
    sip_port: int
    web_port: int
    rtp_low: int = 21000
    rtp_high: int = 22999
    max_channels: int = 600
    smtp_port: int | None = None  # None: emails go to the .eml spool under data_dir/mail
    log_level: str = "INFO"
    nice: int = 0  # scheduling priority of the appliance process (negative: ahead of the load)


def config_toml(cfg: BenchConfig) -> str:
    smtp = (f'[smtp]\nhost = "127.0.0.1"\nport = {cfg.smtp_port}\nsecurity = "none"\n'
            'from_address = "bench@localhost"\n') if cfg.smtp_port else ""
    return (
        f'[node]\nname = "bench"\ndata_dir = "{cfg.data_dir}"\n\n'
        f'[sip]\nbind = "127.0.0.1"\nport = {cfg.sip_port}\n'
        f"rtp_port_min = {cfg.rtp_low}\nrtp_port_max = {cfg.rtp_high}\n"
        # the load comes from one source address: the per-source guard must not shape it
        f"max_channels = {cfg.max_channels}\ninvites_per_second_per_source = 500.0\n\n"
        f'[web]\nbind = "127.0.0.1"\nport = {cfg.web_port}\n\n{smtp}\n'
        f'[log]\nlevel = "{cfg.log_level}"\nformat = "text"\n'
    )


@dataclass
class ApplianceProcess:
    process: subprocess.Popen[bytes]
    config: BenchConfig
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.config.web_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status) == 200
        except OSError:
            return False

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]


def _wait_healthy(app: ApplianceProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"appliance exited {app.process.returncode}:\n{app.log_tail()}")
        if app.healthy():
            return
        time.sleep(0.1)
    raise RuntimeError(f"appliance not healthy after {timeout} s:\n{app.log_tail()}")


REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_appliance(cfg: BenchConfig, workdir: Path,
                      source: Path = REPO) -> Iterator[ApplianceProcess]:
    """Start the appliance on `cfg` from `source` (a checkout; default this one), wait for
    /healthz, stop it with SIGTERM afterwards."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "desborde.toml"
    config_path.write_text(config_toml(cfg), encoding="utf-8")
    log_path = workdir / "appliance.log"
    argv = [sys.executable, "-m", "appliance", "run", "--config", str(config_path)]
    if cfg.nice:
        argv = [need("nice"), "-n", str(cfg.nice), *argv]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=source,
                                   env={**os.environ, "PYTHONPATH": str(source)})
    app = ApplianceProcess(process, cfg, log_path)
    try:
        _wait_healthy(app, timeout=30)
        yield app
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
