"""Running `desborde demo` as a real process for end-to-end tests, on free ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DemoProcess:
    process: subprocess.Popen[bytes]
    sip_port: int
    web_port: int
    data_dir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def api_token(self) -> str:
        return (self.data_dir / "api-token").read_text(encoding="utf-8").strip()

    def get(self, path: str, *, token: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base_url + path)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, *, token: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base_url + path, data=b"", method="POST")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def api(self, resource: str) -> list[dict[str, object]]:
        """GET /api/v1/<resource> with the token; the rows, newest first."""
        status, body = self.get(f"/api/v1/{resource}", token=self.api_token)
        assert status == 200, body
        rows: list[dict[str, object]] = json.loads(body)
        return rows

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll until `predicate()` is truthy, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


def _wait_healthy(demo: DemoProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            raise RuntimeError(f"demo exited with {demo.process.returncode}:\n{demo.log()}")
        try:
            if demo.get("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"demo not healthy after {timeout} s:\n{demo.log()}")


@contextmanager
def running_demo(data_dir: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[DemoProcess]:
    """Start `python -m appliance demo` on free ports; stop it with SIGTERM afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sip_port, web_port = free_port(socket.SOCK_DGRAM), free_port()
    argv = ["demo", "--sip-port", str(sip_port), "--web-port", str(web_port),
            "--data-dir", str(data_dir)]
    log_path = data_dir.parent / f"{data_dir.name}-demo.log"
    with _running(argv, sip_port, web_port, data_dir, log_path, extra_env) as demo:
        yield demo


@contextmanager
def running_appliance(
    config_path: Path, *, extra_env: dict[str, str] | None = None
) -> Iterator[DemoProcess]:
    """Start `python -m appliance run --config FILE` (ports and data dir come from the file)."""
    from appliance.config import load_settings

    settings = load_settings(config_path)
    data_dir = settings.node.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    runs = len(list(data_dir.parent.glob(f"{data_dir.name}-run*.log")))
    log_path = data_dir.parent / f"{data_dir.name}-run{runs + 1}.log"  # one log per start
    argv = ["run", "--config", str(config_path)]
    with _running(argv, settings.sip.port, settings.web.port, data_dir, log_path,
                  extra_env) as process:
        yield process


@contextmanager
def _running(argv: list[str], sip_port: int, web_port: int, data_dir: Path, log_path: Path,
             extra_env: dict[str, str] | None) -> Iterator[DemoProcess]:
    env = {**os.environ, **(extra_env or {})}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "appliance", *argv], stdout=log_file,
                                   stderr=subprocess.STDOUT, env=env)
    demo = DemoProcess(process, sip_port, web_port, data_dir, log_path)
    try:
        _wait_healthy(demo, timeout=30)
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
