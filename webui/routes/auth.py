"""Signing in and out, changing one's own password, and choosing the UI language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appliance.services.admin import (
    BadCredentials,
    InvalidUserChange,
    LoginThrottled,
    authenticate,
    change_password,
)
from webui.deps import ContextDep, CsrfCheck, NowDep, StateDep, StoreDep, UserDep
from webui.i18n import LANGUAGES
from webui.rendering import render
from webui.sessions import (
    LANG_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Session,
    password_fingerprint,
)

router = APIRouter(tags=["auth"], dependencies=[CsrfCheck])

FormStr = Annotated[str, Form()]


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would make the login page a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", user=None, next=safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request, store: StoreDep, state: StateDep, context: ContextDep, now: NowDep,
    username: FormStr, password: FormStr, next: Annotated[str, Form()] = "/",
) -> Response:
    client = request.client.host if request.client else "unknown"
    try:
        user = authenticate(store, state.throttle, username.strip().lower(), password,
                            client=client, now=now)
    except LoginThrottled:
        return render(request, "login.html", user=None, status_code=429, next=safe_next(next),
                      error="Too many failed sign-ins: wait a minute and try again.")
    except BadCredentials:
        return render(request, "login.html", user=None, status_code=401, next=safe_next(next),
                      error="Wrong username or password.")
    session = Session(user.username, now + SESSION_LIFETIME, password_fingerprint(user.password_hash))
    target = "/account/password" if user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, state.signer.dump_session(session), context.secure_cookies)
    return response


def set_session_cookie(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=int(SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="lax", secure=secure)


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "password.html", user=user)


@router.post("/account/password", response_model=None)
def password_change(
    request: Request, user: UserDep, store: StoreDep, state: StateDep, context: ContextDep,
    now: NowDep, current: FormStr, new: FormStr, repeat: FormStr,
) -> Response:
    try:
        if new != repeat:
            raise InvalidUserChange("the two new passwords differ")
        change_password(store, user.username, current, new, now=now)
    except (BadCredentials, InvalidUserChange) as exc:
        return render(request, "password.html", user=user, status_code=400, error=str(exc))
    changed = store.get_user(user.username)
    assert changed is not None
    session = Session(user.username, now + SESSION_LIFETIME,
                      password_fingerprint(changed.password_hash))
    response = RedirectResponse("/?changed=1", status_code=303)
    set_session_cookie(response, state.signer.dump_session(session), context.secure_cookies)
    return response


@router.post("/lang")
def choose_language(
    lang: FormStr, next: Annotated[str, Form()] = "/"
) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
