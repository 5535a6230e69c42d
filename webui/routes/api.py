"""The JSON API for internal systems: messages, tickets and calls, newest first, behind the bearer token."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from webui.deps import ApiAuth, StoreDep

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[ApiAuth])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10**9)]  # within SQL integer range


@router.get("/messages")
def list_messages(store: StoreDep, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    return [asdict(m) for m in store.list_messages(limit=limit, offset=offset)]


@router.get("/tickets")
def list_tickets(store: StoreDep, since: datetime | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    return [asdict(t) for t in store.list_tickets(since=since, limit=limit)]


@router.get("/calls")
def list_calls(store: StoreDep, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    return [asdict(c) for c in store.list_calls(limit=limit, offset=offset)]
