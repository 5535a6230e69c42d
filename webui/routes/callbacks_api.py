"""POST /api/v1/callbacks: a website or app asks for a callback with its API key
(`Authorization: Bearer <key>` or `X-Api-Key`); answers with the ticket number to show the customer.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from appliance.services.callback_requests import (
    CallbackRequest,
    CallbackRequests,
    NotAuthorised,
    RateLimited,
    RequestRefused,
)
from webui.deps import ContextDep

router = APIRouter(prefix="/api/v1", tags=["api"])


class CallbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=32)
    service: str = Field(default="default", min_length=1, max_length=64)
    request_type: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=32)
    slot: datetime | None = None


def _requests(request: Request, context: ContextDep) -> CallbackRequests:
    # One per app: the rate limiter's buckets must outlive a single request.
    service: CallbackRequests | None = getattr(request.app.state, "callback_requests", None)
    if service is None:
        service = CallbackRequests(context.store)
        request.app.state.callback_requests = service
    return service


def _presented(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


@router.post("/callbacks", status_code=status.HTTP_201_CREATED)
async def request_callback(
    body: CallbackBody,
    request: Request,
    context: ContextDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    service = _requests(request, context)
    wanted = CallbackRequest(number=body.number, service=body.service,
                             request_type=body.request_type, customer_id=body.customer_id,
                             slot=body.slot)
    try:
        key = await asyncio.to_thread(service.authenticate, _presented(authorization, x_api_key))
        accepted = await asyncio.to_thread(service.submit, key, wanted, context.clock())
    except NotAuthorised as exc:
        return JSONResponse({"error": "unauthorised", "detail": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    except RateLimited as exc:
        return JSONResponse({"error": "rate_limited", "detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))})
    except RequestRefused as exc:
        return JSONResponse({"error": exc.reason, "detail": exc.detail}, status_code=422)
    content = {"ticket": accepted.ticket, "callback_id": accepted.callback_id,
               "status": "merged" if accepted.merged else "scheduled",
               "due_at": accepted.due_at.isoformat()}
    return JSONResponse(content, status_code=200 if accepted.merged else 201)
