"""Rendering pages: one Jinja2 environment with the translator, the CSRF token, the signed-in
user and local-time formatting in every template's context.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from appliance.domain.records import User
from webui.i18n import translator
from webui.sessions import LANG_COOKIE

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
DEFAULT_ZONE = "America/Santiago"


def _when(value: datetime | None, zone: str = DEFAULT_ZONE) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


templates.env.filters["when"] = _when


def render(
    request: Request, name: str, *, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = request.cookies.get(LANG_COOKIE, "es")
    t = translator(lang)
    signer = request.app.state.web.signer
    nonce: str = request.state.csrf_nonce
    context.setdefault("zone", DEFAULT_ZONE)
    base = {"t": t, "lang": t.lang, "user": user, "csrf": signer.csrf_token(nonce),
            "path": request.url.path}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", user=None, status_code=status, message=message)
