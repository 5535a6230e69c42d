"""The FastAPI application factory: routes are mounted here; the context comes from the composition root."""

from __future__ import annotations

from fastapi import FastAPI

from appliance import __version__
from webui.deps import WebContext
from webui.routes import api, health


def create_app(context: WebContext) -> FastAPI:
    app = FastAPI(title="Desborde", version=__version__)
    app.state.context = context
    app.include_router(health.router)
    app.include_router(api.router)
    return app
