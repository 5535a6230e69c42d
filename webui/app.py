"""The FastAPI application factory: routes are mounted here; the context comes from the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from appliance import __version__
from webui.deps import WebContext, WebState
from webui.errors import install_handlers
from webui.routes import (
    api,
    api_keys,
    audio_api,
    audit,
    auth,
    calendar,
    callbacks,
    callbacks_api,
    calls,
    dashboard,
    health,
    integration_settings,
    integrations,
    messages,
    ops,
    outbox_api,
    prompts,
    retention,
    services,
    tickets,
    users,
)
from webui.sessions import CSRF_COOKIE, Signer, load_or_create_secret, new_nonce

_STATIC = Path(__file__).resolve().parent / "static"
# No inline scripts or styles anywhere: the policy can stay strict.
_CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'")


def create_app(context: WebContext) -> FastAPI:
    app = FastAPI(title="Desborde", version=__version__, docs_url=None, redoc_url=None)
    app.state.context = context
    app.state.web = WebState(signer=Signer(load_or_create_secret(context.data_dir)))
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(callbacks_api.router)
    app.include_router(ops.router)
    app.include_router(outbox_api.router)
    app.include_router(audio_api.router)
    for module in (auth, dashboard, services, prompts, calendar, messages, tickets, callbacks,
                   calls, integrations, integration_settings, api_keys, retention, users, audit):
        app.include_router(module.router)
    app.middleware("http")(_browser_guard(context.secure_cookies))
    return app


Next = Callable[[Request], Awaitable[Response]]


def _browser_guard(secure: bool) -> Callable[[Request, Next], Awaitable[Response]]:
    """Give every browser a CSRF nonce cookie and every response the security headers."""

    async def guard(request: Request, call_next: Next) -> Response:
        nonce = request.cookies.get(CSRF_COOKIE)
        request.state.csrf_nonce = nonce or new_nonce()
        response = await call_next(request)
        if not nonce:
            response.set_cookie(CSRF_COOKIE, request.state.csrf_nonce, httponly=True,
                                samesite="lax", secure=secure)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return guard
