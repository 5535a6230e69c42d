"""Signed session cookies and CSRF tokens, keyed by a secret kept in <data_dir>/session-secret.

A session names the user, its expiry and a fingerprint of the password hash, so a password
change or reset ends every other session without server-side state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

SESSION_COOKIE = "desborde_session"
CSRF_COOKIE = "desborde_csrf"
LANG_COOKIE = "desborde_lang"
SESSION_LIFETIME = timedelta(hours=12)


def load_or_create_secret(data_dir: Path | None) -> bytes:
    """The signing key: persisted so sessions survive a restart, random in memory without a dir."""
    if data_dir is None:
        return secrets.token_bytes(32)
    path = data_dir / "session-secret"
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if len(text) >= 32:
            return text.encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.replace(tmp, path)
    return value.encode()


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    username: str
    expires: datetime
    fingerprint: str


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, data: bytes) -> str:
        digest = hmac.new(self._secret, purpose.encode() + b"\0" + data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dump_session(self, session: Session) -> str:
        body = json.dumps({"u": session.username, "e": int(session.expires.timestamp()),
                           "f": session.fingerprint}, separators=(",", ":")).encode()
        encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{encoded}.{self._mac('session', encoded.encode())}"

    def load_session(self, value: str | None, now: datetime) -> Session | None:
        if not value or "." not in value:
            return None
        encoded, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac("session", encoded.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            session = Session(str(data["u"]), datetime.fromtimestamp(int(data["e"]), now.tzinfo),
                              str(data["f"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > now else None

    def csrf_token(self, nonce: str) -> str:
        """The form token for a browser's CSRF cookie nonce (signed double submit)."""
        return self._mac("csrf", nonce.encode())

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(nonce))


def new_nonce() -> str:
    return secrets.token_urlsafe(24)
