"""What a page route raises instead of answering, and how the app turns it into a response."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

Handler = Callable[[Request, Exception], Response]


class WebError(Exception):
    """A refusal the browser sees as a page (or a redirect)."""


class NotSignedIn(WebError):
    pass


class PasswordChangeRequired(WebError):
    pass


class Forbidden(WebError):
    pass


class CsrfRejected(WebError):
    pass


class NotFound(WebError):
    pass


class BadForm(WebError):
    """A form field no page of ours would send (a tampered or truncated post)."""


def _login_redirect(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _password_redirect(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/account/password", status_code=303)


def _refusal(status: int, message: str) -> Handler:
    def handler(request: Request, _exc: Exception) -> Response:
        from webui.rendering import render_error  # rendering imports deps, which imports us

        return render_error(request, status, message)

    return handler


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotSignedIn, _login_redirect)
    app.add_exception_handler(PasswordChangeRequired, _password_redirect)
    app.add_exception_handler(Forbidden, _refusal(403, "You may not open this page."))
    app.add_exception_handler(CsrfRejected, _refusal(
        403, "The form expired or came from another site: reload the page and try again."))
    app.add_exception_handler(NotFound, _refusal(404, "Not found."))
    app.add_exception_handler(BadForm, _refusal(
        400, "The form is incomplete: reload the page and try again."))
