"""Readiness: each provider's verdict, one status naming what failed; /readyz and /metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from appliance.domain.records import JobStatus, OutboxStats
from appliance.errors import StoreError
from appliance.ports.telephony import EngineStatus
from appliance.services import metrics, status
from webui.routes import ops

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _ok(name: str) -> status.Provider:
    async def check() -> status.CheckResult:
        return status.CheckResult(name, True, "fine")
    return check


async def test_register_mode_needs_one_registered_account() -> None:
    states = {"sip:a@pbx": "failed", "sip:b@pbx": "registered"}
    check = status.sip_check(lambda: EngineStatus("register", states))
    assert (await check()).ok
    states["sip:b@pbx"] = "expired"
    result = await check()
    assert not result.ok and "sip:b@pbx=expired" in result.detail


async def test_trunk_mode_asks_the_options_probe() -> None:
    answers = [True, False]

    async def probe() -> bool:
        return answers.pop(0)

    check = status.sip_check(lambda: EngineStatus("trunk"), probe)
    assert (await check()).ok
    assert not (await check()).ok


async def test_store_check_reports_the_store_error() -> None:
    def broken() -> None:
        raise StoreError("store unavailable: connection refused")

    result = await status.store_check(broken)()
    assert (result.name, result.ok) == ("store", False) and "refused" in result.detail
    assert (await status.store_check(lambda: None)()).ok


async def test_disk_check_compares_free_space_with_the_minimum(tmp_path: Path) -> None:
    assert (await status.disk_check(tmp_path, 0)()).ok
    assert not (await status.disk_check(tmp_path, 10**12)()).ok


async def test_worker_check_fails_for_a_silent_worker() -> None:
    metrics.WORKER_LOOP.clear()
    assert not (await status.worker_check(60)()).ok  # none started
    metrics.worker_alive("node-a", now=1000.0)
    metrics.worker_alive("node-b", now=1050.0)
    result = await status.worker_check(60, wall_clock=lambda: 1070.0)()
    assert not result.ok and "node-a" in result.detail and "node-b" not in result.detail
    assert (await status.worker_check(60, wall_clock=lambda: 1055.0)()).ok
    metrics.WORKER_LOOP.clear()


async def test_outbox_check_fails_on_depth_or_age() -> None:
    stats = OutboxStats({JobStatus.PENDING: 3}, T0 - timedelta(minutes=20))
    now = lambda: T0  # noqa: E731
    assert not (await status.outbox_check(lambda: stats, now, max_depth=10, max_age_s=600)()).ok
    assert (await status.outbox_check(lambda: stats, now, max_depth=10, max_age_s=3600)()).ok
    assert not (await status.outbox_check(lambda: stats, now, max_depth=2, max_age_s=3600)()).ok


async def test_a_raising_or_hanging_provider_is_a_failed_check() -> None:
    async def boom() -> status.CheckResult:
        raise RuntimeError("bug")

    async def hang() -> status.CheckResult:
        await asyncio.sleep(10)
        raise AssertionError

    service = status.StatusService([_ok("a"), boom, hang], timeout_s=0.2)
    readiness = await service.readiness()
    body = readiness.to_json()
    assert not readiness.ready
    assert body["failed"] == ["boom", "hang"]
    assert body["checks"]["a"] == {"ok": True, "detail": "fine"}
    assert "RuntimeError: bug" in body["checks"]["boom"]["detail"]


def _client(service: status.StatusService | None) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(ops.router)
    if service is not None:
        app.state.ops_status = service
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops")


async def test_readyz_is_200_when_all_pass_and_503_naming_the_failure() -> None:
    async with _client(status.StatusService([_ok("store"), _ok("sip")])) as client:
        response = await client.get("/readyz")
        assert response.status_code == 200 and response.json()["status"] == "ready"

    async def disk() -> status.CheckResult:
        return status.CheckResult("disk", False, "5 MB free")

    async with _client(status.StatusService([_ok("store"), disk])) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["disk"]
    assert response.json()["checks"]["disk"]["detail"] == "5 MB free"


async def test_readyz_without_a_status_service_is_not_ready() -> None:
    async with _client(None) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["status"]


async def test_metrics_refreshes_engine_and_outbox_gauges() -> None:
    service = status.StatusService(
        [], engine_status=lambda: EngineStatus("register", {"sip:x@pbx": "registered"}, 3, 50),
        outbox_stats=lambda: OutboxStats({JobStatus.PENDING: 4, JobStatus.RUNNING: 1},
                                         T0 - timedelta(seconds=90)),
        now=lambda: T0)
    async with _client(service) as client:
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "desborde_active_channels 3.0" in lines
    assert 'desborde_sip_registration{aor="sip:x@pbx",state="registered"} 1.0' in lines
    assert "desborde_outbox_depth 5.0" in lines
    assert "desborde_outbox_oldest_due_age_seconds 90.0" in lines
    assert 'desborde_outbox_jobs{status="pending"} 4.0' in lines
