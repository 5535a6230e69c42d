"""The demo contract: health, the API token file, 401 without the token, 200 with it, clean stop."""

from __future__ import annotations

import json
import signal
import stat
from pathlib import Path

from tests.support.appliance_proc import running_demo


def test_demo_serves_health_and_the_token_protected_api(tmp_path: Path) -> None:
    with running_demo(tmp_path / "var") as demo:
        assert demo.get("/healthz") == (200, b'{"status":"ok"}')
        token_file = demo.data_dir / "api-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        for resource in ("messages", "tickets", "calls"):
            status, _ = demo.get(f"/api/v1/{resource}")
            assert status == 401, resource
            status, _ = demo.get(f"/api/v1/{resource}", token="not-the-token")
            assert status == 401, resource
            status, body = demo.get(f"/api/v1/{resource}", token=demo.api_token)
            assert status == 200, resource
            assert json.loads(body) == []
        assert (demo.data_dir / "desborde.sqlite3").exists()
        demo.process.send_signal(signal.SIGTERM)
        assert demo.process.wait(timeout=15) == 0


def test_the_token_survives_a_restart(tmp_path: Path) -> None:
    with running_demo(tmp_path / "var") as first:
        token = first.api_token
    with running_demo(tmp_path / "var") as second:
        assert second.api_token == token
        assert second.get("/api/v1/calls", token=token)[0] == 200
