"""People who use the web UI: argon2 password hashes, the first admin, sign-in with throttling,
user changes, and the audit helper every change goes through (who, when, before/after).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from appliance.domain.records import AuditEntry, Role, User
from appliance.errors import ConfigError
from appliance.ports.store import Store

log = logging.getLogger(__name__)

FIRST_ADMIN = "admin"
INITIAL_PASSWORD_FILE = "initial-admin-password"  # noqa: S105 (a file name)
MIN_PASSWORD_LENGTH = 10
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")
_hasher = PasswordHasher()


class BadCredentials(ConfigError):
    """Unknown user, wrong password or disabled account: the same answer for all three."""

    error_id = "bad-credentials"


class LoginThrottled(ConfigError):
    """Too many wrong passwords for this account or address in the last minute."""

    error_id = "login-throttled"


class InvalidUserChange(ConfigError):
    error_id = "invalid-user-change"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def audit(
    store: Store, *, actor: str, action: str, target: str, now: datetime,
    before: Any = None, after: Any = None,
) -> None:
    """Record one change; every web UI write calls this after the change is stored."""
    store.append_audit(AuditEntry(at=now, actor=actor, action=action, target=target,
                                  before=before, after=after))
    log.info("audit %s %s %s", actor, action, target)


@dataclass
class LoginThrottle:
    """Sliding one-minute window of failures per key (username, and client address).

    In memory on purpose: a restart clears it, which an attacker cannot trigger remotely.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=1)
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, keys: list[str], now: datetime) -> bool:
        with self._lock:
            return any(len(self._recent(k, now)) >= self.max_failures for k in keys)

    def fail(self, keys: list[str], now: datetime) -> None:
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times


def authenticate(
    store: Store, throttle: LoginThrottle, username: str, password: str, *,
    client: str, now: datetime,
) -> User:
    """The signed-in user, or BadCredentials / LoginThrottled (checked before the password)."""
    keys = [f"user:{username.lower()}", f"addr:{client}"]
    if throttle.blocked(keys, now):
        log.warning("login throttled for %s from %s", username, client)
        raise LoginThrottled("too many failed sign-ins: wait a minute")
    user = store.get_user(username)
    if user is None or user.disabled or not verify_password(user.password_hash, password):
        throttle.fail(keys, now)
        log.info("failed sign-in for %s from %s", username, client)
        raise BadCredentials("wrong username or password")
    return user


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserChange(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def change_password(
    store: Store, username: str, current: str, new: str, *, now: datetime
) -> None:
    user = store.get_user(username)
    if user is None or not verify_password(user.password_hash, current):
        raise BadCredentials("the current password is wrong")
    check_new_password(new)
    if new == current:
        raise InvalidUserChange("the new password must differ from the current one")
    store.set_password_hash(username, hash_password(new), must_change=False)
    audit(store, actor=username, action="user.password", target=username, now=now)


def create_user(
    store: Store, *, actor: str, username: str, role: Role, password: str, now: datetime
) -> User:
    """A new account that must change its password at first sign-in."""
    name = username.strip().lower()
    if not name or len(name) > 64 or not set(name) <= _USERNAME_CHARS:
        raise InvalidUserChange("usernames use letters, digits and . _ - @ (at most 64)")
    if store.get_user(name) is not None:
        raise InvalidUserChange(f"the user {name} already exists")
    check_new_password(password)
    user = User(username=name, password_hash=hash_password(password), role=role,
                created_at=now, must_change_password=True)
    store.create_user(user)
    audit(store, actor=actor, action="user.create", target=name, now=now,
          after={"role": role.value})
    return user


def update_user(
    store: Store, *, actor: str, username: str, now: datetime,
    role: Role | None = None, disabled: bool | None = None,
) -> None:
    user = store.get_user(username)
    if user is None:
        raise InvalidUserChange(f"no user {username}")
    if username == actor and (disabled or (role is not None and role is not Role.ADMIN)):
        raise InvalidUserChange("you cannot disable yourself or drop your own admin role")
    store.update_user(username, role=role, disabled=disabled)
    after = store.get_user(username)
    audit(store, actor=actor, action="user.update", target=username, now=now,
          before=_user_view(user), after=_user_view(after) if after else None)


def _user_view(user: User) -> dict[str, Any]:
    return {"role": user.role.value, "disabled": user.disabled}


def ensure_first_admin(
    store: Store, data_dir: Path, *, now: datetime,
    announce: Callable[[str], None] | None = None,
) -> str | None:
    """With no users yet, create `admin` with a random password that must be changed.

    The password is written once to <data_dir>/initial-admin-password (mode 0600) and printed;
    returns it, or None when users already exist.
    """
    if store.list_users():
        return None
    password = secrets.token_urlsafe(12)
    store.create_user(User(username=FIRST_ADMIN, password_hash=hash_password(password),
                           role=Role.ADMIN, created_at=now, must_change_password=True))
    audit(store, actor="system", action="user.create", target=FIRST_ADMIN, now=now,
          after={"role": Role.ADMIN.value})
    _write_private(data_dir / INITIAL_PASSWORD_FILE, password + "\n")
    message = (f"web UI: user '{FIRST_ADMIN}', initial password {password} "
               f"(also in {data_dir / INITIAL_PASSWORD_FILE}); change it at first sign-in")
    (announce or _print_stderr)(message)
    return password


def _print_stderr(message: str) -> None:
    # Printed, not logged: the password must not land in journald's JSON log at INFO.
    print(message, file=sys.stderr, flush=True)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
