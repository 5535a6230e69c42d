"""`SpoolMailer`: writes each email as an RFC 5322 file `<dir>/<timestamp>-<id>.eml`, atomically.

The demo's delivery when no SMTP relay is configured. The id comes from the Message-ID, so a resend
after a crash finds its earlier file and writes nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

from appliance.errors import PermanentDeliveryError, TransientDeliveryError


class SpoolMailer:
    def __init__(self, directory: Path) -> None:
        self._dir = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self.write, message)

    def write(self, message: EmailMessage) -> Path:
        """Write the message (or find the copy already written) and return its path."""
        key = spool_key(message)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            existing = sorted(self._dir.glob(f"*-{key}.eml"))
            if existing:
                return existing[0]
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = self._dir / f"{stamp}-{key}.eml"
            _write_atomically(path, message.as_bytes(policy=policy.SMTP))
        except OSError as exc:
            raise TransientDeliveryError(f"mail spool {self._dir}: {exc}") from exc
        return path


def spool_key(message: EmailMessage) -> str:
    message_id = message["Message-ID"]
    if not message_id:
        raise PermanentDeliveryError("message has no Message-ID: the spool cannot deduplicate it")
    return hashlib.sha256(str(message_id).encode()).hexdigest()[:16]


def _write_atomically(path: Path, data: bytes) -> None:
    # Readers only ever see whole files: write a hidden temp, fsync, rename, fsync the directory.
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
