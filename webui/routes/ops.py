"""Supervision endpoints: /readyz (503 with the failed checks named) and Prometheus /metrics.

Both are unauthenticated on purpose, like /healthz: load balancers and Prometheus scrape them.
They reveal counts and check names, never callers or message contents.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from appliance.services import metrics
from appliance.services import status as ops_status

router = APIRouter(tags=["ops"])

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def _service(request: Request) -> ops_status.StatusService | None:
    wired: ops_status.StatusService | None = getattr(request.app.state, "ops_status", None)
    return wired or ops_status.CURRENT.get()


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    service = _service(request)
    if service is None:
        body = {"status": "not_ready", "failed": ["status"],
                "checks": {"status": {"ok": False, "detail": "status service not wired"}}}
        return JSONResponse(body, status_code=503)
    readiness = await service.readiness()
    return JSONResponse(readiness.to_json(), status_code=200 if readiness.ready else 503)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> PlainTextResponse:
    service = _service(request)
    text = await service.metrics_text() if service else metrics.REGISTRY.render()
    return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)
