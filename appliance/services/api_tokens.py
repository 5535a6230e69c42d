"""The JSON API's bearer token: kept in <data_dir>/api-token, created once, compared in constant time."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path


def ensure_api_token(data_dir: Path) -> str:
    """Return the token in data_dir/api-token, creating it (mode 0600) on first start."""
    path = data_dir / "api-token"
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return token


def token_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(expected.encode(), presented.encode())
