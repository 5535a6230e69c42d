"""API keys for the callbacks API (admins): create (the key is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import User
from appliance.ports.store import Store
from appliance.services.admin import audit
from appliance.services.callback_requests import issue_api_key
from webui.deps import AdminDep, CsrfCheck, NowDep, StoreDep
from webui.errors import NotFound
from webui.rendering import render

router = APIRouter(tags=["api-keys"], dependencies=[CsrfCheck])
MAX_NAME = 64


def _page(request: Request, user: User, store: Store, status: int = 200,
          **extra: object) -> HTMLResponse:
    keys = sorted(store.list_api_keys(), key=lambda k: (k.revoked, k.created_at))
    return render(request, "api_keys.html", user=user, status_code=status, keys=keys, **extra)


@router.get("/api-keys", response_class=HTMLResponse)
def list_keys(request: Request, user: AdminDep, store: StoreDep, revoked: int = 0) -> HTMLResponse:
    return _page(request, user, store, notice="Key revoked." if revoked else None)


@router.post("/api-keys", response_model=None)
def create_key(request: Request, user: AdminDep, store: StoreDep, now: NowDep,
               name: Annotated[str, Form(max_length=MAX_NAME)] = "") -> Response:
    label = " ".join(name.split())
    if not label:
        return _page(request, user, store, status=400,
                     error="Name the website or app that will use the key.")
    key, plain = issue_api_key(store, label, now)
    audit(store, actor=user.username, action="api_key.create", target=key.id, now=now,
          after={"name": key.name})
    # Shown on this answer only: the store keeps a digest, so the key cannot be shown again.
    return _page(request, user, store, notice="Key created: copy it now, it is not shown again.",
                 new_key=plain, new_key_name=key.name)


@router.post("/api-keys/{key_id}/revoke", response_model=None)
def revoke_key(key_id: str, user: AdminDep, store: StoreDep, now: NowDep) -> Response:
    key = next((k for k in store.list_api_keys() if k.id == key_id), None)
    if key is None:
        raise NotFound()
    if not key.revoked:
        store.revoke_api_key(key_id)
        audit(store, actor=user.username, action="api_key.revoke", target=key_id, now=now,
              before={"name": key.name, "revoked": False}, after={"revoked": True})
    return RedirectResponse("/api-keys?revoked=1", status_code=303)
