"""Users and roles (admins only): create, change role, disable or enable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.domain.records import Role
from appliance.services.admin import InvalidUserChange, create_user, update_user
from webui.deps import AdminDep, CsrfCheck, NowDep, StoreDep
from webui.rendering import render

router = APIRouter(tags=["users"], dependencies=[CsrfCheck])
FormStr = Annotated[str, Form()]


def _page(request: Request, user: AdminDep, store: StoreDep, status: int = 200,
          **extra: object) -> HTMLResponse:
    return render(request, "users.html", user=user, status_code=status, users=store.list_users(),
                  roles=[r.value for r in Role], **extra)


@router.get("/users", response_class=HTMLResponse)
def list_users(request: Request, user: AdminDep, store: StoreDep) -> HTMLResponse:
    return _page(request, user, store)


@router.post("/users", response_model=None)
def add_user(
    request: Request, user: AdminDep, store: StoreDep, now: NowDep,
    username: FormStr, role: FormStr, password: FormStr,
) -> Response:
    try:
        created = create_user(store, actor=user.username, username=username,
                              role=_role(role), password=password, now=now)
    except InvalidUserChange as exc:
        return _page(request, user, store, status=400, error=str(exc))
    return _page(request, user, store, notice="User created.", created=created.username)


@router.post("/users/{username}", response_model=None)
def change_user(
    request: Request, username: str, user: AdminDep, store: StoreDep, now: NowDep,
    role: Annotated[str, Form()] = "", disabled: Annotated[str, Form()] = "",
) -> Response:
    try:
        update_user(store, actor=user.username, username=username, now=now,
                    role=_role(role) if role else None,
                    disabled={"1": True, "0": False}.get(disabled))
    except InvalidUserChange as exc:
        return _page(request, user, store, status=400, error=str(exc))
    return RedirectResponse("/users", status_code=303)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidUserChange(f"unknown role {value!r}") from None
