"""Keeping data: recordings and transcripts are removed after N days, per service (the message rows
stay as metadata). The policy is a business setting in the store ("retention"); a daily task applies
it on every node (harmless when two nodes race: both blank the same rows, unlinking is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.domain.records import AuditEntry
from appliance.errors import ApplianceError, ConfigError
from appliance.ports.clock import Clock
from appliance.ports.store import Store
from appliance.services import metrics

log = logging.getLogger(__name__)

RETENTION_KEY = "retention"
_BATCH = 500


@dataclass(frozen=True)
class Keep:
    """Days to keep each kind of data; None keeps it forever (or, in a service, inherits)."""

    recordings_days: int | None = None
    transcripts_days: int | None = None

    def over(self, base: Keep) -> Keep:
        return Keep(_first(self.recordings_days, base.recordings_days),
                    _first(self.transcripts_days, base.transcripts_days))


def _first(value: int | None, fallback: int | None) -> int | None:
    return fallback if value is None else value


@dataclass(frozen=True)
class RetentionPolicy:
    default: Keep = Keep()
    services: Mapping[str, Keep] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"default": _keep_dict(self.default),
                "services": {name: _keep_dict(k) for name, k in sorted(self.services.items())}}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> RetentionPolicy:
        try:
            services = {str(n): _keep(v) for n, v in dict(value.get("services", {})).items()}
            return cls(_keep(value.get("default", {})), services)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"retention policy is invalid: {exc}") from exc


def _keep_dict(keep: Keep) -> dict[str, int | None]:
    return {"recordings_days": keep.recordings_days, "transcripts_days": keep.transcripts_days}


def _keep(value: Mapping[str, Any]) -> Keep:
    days = {k: value.get(k) for k in ("recordings_days", "transcripts_days")}
    for name, n in days.items():
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"{name} must be a whole number of days >= 1 (or null), got {n!r}")
    unknown = set(value) - set(days)
    if unknown:
        raise ValueError(f"unknown retention keys {sorted(unknown)}")
    return Keep(days["recordings_days"], days["transcripts_days"])


def load_policy(store: Store) -> tuple[RetentionPolicy, int]:
    """The stored policy and its version (0 and keep-forever when none is stored)."""
    setting = store.get_setting(RETENTION_KEY)
    if setting is None:
        return RetentionPolicy(), 0
    return RetentionPolicy.from_dict(setting.value), setting.version


def save_policy(store: Store, policy: RetentionPolicy, *, expected_version: int, actor: str,
                now: datetime) -> int:
    before, _ = load_policy(store)
    setting = store.put_setting(RETENTION_KEY, policy.to_dict(), expected_version=expected_version,
                                now=now)
    store.append_audit(AuditEntry(at=now, actor=actor, action="retention.save",
                                  target=RETENTION_KEY, before=before.to_dict(),
                                  after=policy.to_dict()))
    return setting.version


@dataclass
class PurgeReport:
    recordings: int = 0
    transcripts: int = 0
    files_deleted: int = 0


def apply_retention(store: Store, policy: RetentionPolicy, now: datetime,
                    recordings_dir: Path) -> PurgeReport:
    """Blank what is past its time in the store, then delete those recordings' files. Blocking."""
    report = PurgeReport()
    for name, keep in policy.services.items():
        _purge(store, keep.over(policy.default), now, recordings_dir, report, service=name)
    _purge(store, policy.default, now, recordings_dir, report, exclude=tuple(policy.services))
    if report.recordings or report.transcripts:
        log.info("retention: %d recordings (%d files) and %d transcripts removed",
                 report.recordings, report.files_deleted, report.transcripts)
    return report


def _purge(store: Store, keep: Keep, now: datetime, recordings_dir: Path, report: PurgeReport,
           *, service: str | None = None, exclude: tuple[str, ...] = ()) -> None:
    if keep.recordings_days is not None:
        before = now - timedelta(days=keep.recordings_days)
        while batch := store.purge_message_media(before=before, service=service, exclude=exclude,
                                                 recordings=True, transcripts=False, limit=_BATCH):
            report.recordings += len(batch)
            report.files_deleted += sum(_unlink(Path(m.path), recordings_dir) for m in batch)
            metrics.RETENTION_PURGED.inc(len(batch), what="recording")
    if keep.transcripts_days is not None:
        before = now - timedelta(days=keep.transcripts_days)
        while batch := store.purge_message_media(before=before, service=service, exclude=exclude,
                                                 recordings=False, transcripts=True, limit=_BATCH):
            report.transcripts += len(batch)
            metrics.RETENTION_PURGED.inc(len(batch), what="transcript")


def _unlink(path: Path, recordings_dir: Path) -> bool:
    # Only ever delete inside the recordings directory, whatever a row says.
    if not path.name or not path.resolve().is_relative_to(recordings_dir.resolve()):
        log.warning("retention: %s is outside %s, not deleted", path, recordings_dir)
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


async def retention_loop(store: Store, recordings_dir: Path, clock: Clock, *,
                         every: timedelta = timedelta(days=1), first_after_s: float = 60.0) -> None:
    """Apply the stored policy once a day (first a minute after start), until cancelled."""
    await asyncio.sleep(first_after_s)
    while True:
        try:
            policy, _ = await asyncio.to_thread(load_policy, store)
            await asyncio.to_thread(apply_retention, store, policy, clock.now(), recordings_dir)
        except ApplianceError as exc:
            log.error("retention run failed: %s", exc)
        await asyncio.sleep(every.total_seconds())
