"""What routes depend on: the web context built by the composition root, the API token check,
the signed-in user and its role, the UI language, the clock and the CSRF check on form posts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from appliance.config import SmtpSettings
from appliance.domain.records import Role, User
from appliance.ports.delivery import Mailer
from appliance.ports.store import Store
from appliance.ports.telephony import EngineStatus
from appliance.services.admin import LoginThrottle
from appliance.services.api_tokens import token_matches
from appliance.services.business import ServiceCatalog, load_catalog
from webui.errors import BadForm, CsrfRejected, Forbidden, NotSignedIn, PasswordChangeRequired
from webui.i18n import DEFAULT_LANGUAGE, LANGUAGES
from webui.sessions import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE, Signer, password_fingerprint

_SOUNDS = Path(__file__).resolve().parent.parent / "sounds"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebContext:
    """Everything the web layer may use, handed over by appliance.bootstrap.

    Without `data_dir` the UI still serves, but sessions end at restart and no first admin is
    created; `recordings_dir` defaults to <data_dir>/recordings, prompts go to <data_dir>/prompts.
    """

    store: Store
    api_token: str
    node: str
    data_dir: Path | None = None
    recordings_dir: Path | None = None
    sounds_dir: Path = _SOUNDS
    secure_cookies: bool = False
    clock: Callable[[], datetime] = _utc_now
    mailer: Mailer | None = None  # what the integrations page's "send a test email" uses
    smtp: SmtpSettings | None = None  # the static [smtp] settings, shown read-only
    engine_status: Callable[[], EngineStatus] | None = None  # SIP trunk/registrations, dashboard

    @property
    def prompts_dir(self) -> Path | None:
        return None if self.data_dir is None else self.data_dir / "prompts"

    @property
    def recordings(self) -> Path | None:
        if self.recordings_dir is not None:
            return self.recordings_dir
        return None if self.data_dir is None else self.data_dir / "recordings"


@dataclass
class WebState:
    """What the app builds once at start from the context: the signer and the login throttle."""

    signer: Signer
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def get_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


ContextDep = Annotated[WebContext, Depends(get_context)]


def get_store(context: ContextDep) -> Store:
    return context.store


StoreDep = Annotated[Store, Depends(get_store)]


def get_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


StateDep = Annotated[WebState, Depends(get_state)]


def get_now(context: ContextDep) -> datetime:
    return context.clock()


NowDep = Annotated[datetime, Depends(get_now)]


def get_language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


LangDep = Annotated[str, Depends(get_language)]

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

# The pages a user who must change the password may still open.
_PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/lang")


def signed_in_user(request: Request, store: StoreDep, state: StateDep, now: NowDep) -> User:
    session = state.signer.load_session(request.cookies.get(SESSION_COOKIE), now)
    if session is None:
        raise NotSignedIn()
    user = store.get_user(session.username)
    if user is None or user.disabled or password_fingerprint(user.password_hash) != session.fingerprint:
        raise NotSignedIn()
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return user


UserDep = Annotated[User, Depends(signed_in_user)]


def _require(*roles: Role) -> Callable[[User], User]:
    def guard(user: UserDep) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    return guard


SupervisorDep = Annotated[User, Depends(_require(Role.ADMIN, Role.SUPERVISOR))]
AdminDep = Annotated[User, Depends(_require(Role.ADMIN))]


async def check_csrf(request: Request, state: StateDep) -> None:
    """Every state-changing request carries the form token matching the browser's CSRF cookie."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form()
    token = form.get("csrf")
    if not state.signer.csrf_ok(request.cookies.get(CSRF_COOKIE),
                                token if isinstance(token, str) else None):
        raise CsrfRejected()


CsrfCheck = Depends(check_csrf)


def get_catalog(store: StoreDep) -> ServiceCatalog:
    return load_catalog(store)


CatalogDep = Annotated[ServiceCatalog, Depends(get_catalog)]


def display_zone(catalog: ServiceCatalog) -> str:
    """Times show on the default service's wall clock (the office's zone)."""
    profile = catalog.profiles.get("default") or next(iter(catalog.profiles.values()))
    return profile.calendar.timezone


# A settings version the page echoes back; bounded so a forged one cannot overflow the store.
MAX_VERSION = 2**31 - 1
VersionForm = Annotated[int, Form(ge=0, le=MAX_VERSION)]


def form_version(fields: Mapping[str, str]) -> int:
    """The `version` field of a form read by hand (pages that post many dynamic fields)."""
    try:
        value = int(fields.get("version", "0").strip() or 0)
    except ValueError:
        raise BadForm() from None
    if not 0 <= value <= MAX_VERSION:
        raise BadForm()
    return value
