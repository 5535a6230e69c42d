"""What routes depend on: the web context built by the composition root, and the API token check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from appliance.ports.store import Store
from appliance.services.api_tokens import token_matches


@dataclass(frozen=True)
class WebContext:
    """Everything the web layer may use, handed over by appliance.bootstrap."""

    store: Store
    api_token: str
    node: str


def get_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


ContextDep = Annotated[WebContext, Depends(get_context)]


def get_store(context: ContextDep) -> Store:
    return context.store


StoreDep = Annotated[Store, Depends(get_store)]

_bearer = HTTPBearer(auto_error=False)


def require_api_token(
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    presented = credentials.credentials if credentials is not None else None
    if not token_matches(context.api_token, presented):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required (see <data_dir>/api-token)",
            headers={"WWW-Authenticate": "Bearer"},
        )


ApiAuth = Depends(require_api_token)
