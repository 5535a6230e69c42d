"""Business settings (versioned JSON), users, the audit log and API keys."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import api_keys, audit_log, settings, users
from appliance.domain.records import ApiKey, AuditEntry, Role, Setting, User
from appliance.ports.store import SettingVersionConflict


class SettingsMixin(SqlBase):
    def get_setting(self, key: str) -> Setting | None:
        with self._read() as conn:
            row = conn.execute(select(settings).where(settings.c.key == key)).first()
        return None if row is None else Setting(**row._asdict())

    def put_setting(self, key: str, value: Any, *, expected_version: int, now: datetime) -> Setting:
        """Save a setting read at `expected_version` (0: it must not exist yet).

        Raises SettingVersionConflict when someone saved it in between.
        """
        saved = Setting(key=key, value=value, updated_at=now, version=expected_version + 1)
        with self._tx() as conn:
            if expected_version == 0:
                if conn.execute(select(settings.c.key).where(settings.c.key == key)).first():
                    raise SettingVersionConflict(f"setting {key!r} already exists")
                conn.execute(insert(settings).values(**asdict(saved)))
                return saved
            stmt = (
                update(settings)
                .where(settings.c.key == key, settings.c.version == expected_version)
                .values(value=value, updated_at=now, version=saved.version)
            )
            if conn.execute(stmt).rowcount != 1:
                raise SettingVersionConflict(
                    f"setting {key!r} is no longer at version {expected_version}"
                )
        return saved

    def list_settings(self) -> list[Setting]:
        with self._read() as conn:
            rows = conn.execute(select(settings).order_by(settings.c.key))
            return [Setting(**r._asdict()) for r in rows]


class UsersMixin(SqlBase):
    def create_user(self, user: User) -> None:
        """Raises StoreConflict when the username is taken."""
        values = asdict(user)
        values["role"] = user.role.value
        with self._tx() as conn:
            conn.execute(insert(users).values(**values))

    def get_user(self, username: str) -> User | None:
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return None if row is None else _user(row)

    def set_password_hash(
        self, username: str, password_hash: str, *, must_change: bool = False
    ) -> bool:
        stmt = (
            update(users)
            .where(users.c.username == username)
            .values(password_hash=password_hash, must_change_password=must_change)
        )
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def update_user(
        self, username: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> bool:
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = role.value
        if disabled is not None:
            changes["disabled"] = disabled
        if not changes:
            return self.get_user(username) is not None
        stmt = update(users).where(users.c.username == username).values(**changes)
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def list_users(self) -> list[User]:
        with self._read() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


class AuditMixin(SqlBase):
    def append_audit(self, entry: AuditEntry) -> None:
        with self._tx() as conn:
            conn.execute(insert(audit_log).values(**asdict(entry)))

    def list_audit(
        self, *, actor: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """Newest first."""
        stmt = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if actor is not None:
            stmt = stmt.where(audit_log.c.actor == actor)
        with self._read() as conn:
            rows = conn.execute(stmt.limit(limit).offset(offset))
            return [_audit(r) for r in rows]


class ApiKeysMixin(SqlBase):
    def create_api_key(self, key: ApiKey) -> None:
        with self._tx() as conn:
            conn.execute(insert(api_keys).values(**asdict(key)))

    def verify_api_key(self, key_hash: str) -> ApiKey | None:
        """The live key with this hash, or None (unknown or revoked)."""
        stmt = select(api_keys).where(api_keys.c.hash == key_hash, api_keys.c.revoked.is_(False))
        with self._read() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else ApiKey(**row._asdict())

    def revoke_api_key(self, key_id: str) -> bool:
        stmt = update(api_keys).where(api_keys.c.id == key_id).values(revoked=True)
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def list_api_keys(self) -> list[ApiKey]:
        with self._read() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at))
            return [ApiKey(**r._asdict()) for r in rows]


def _user(row: Row[Any]) -> User:
    values = row._asdict()
    values["role"] = Role(values["role"])
    return User(**values)


def _audit(row: Row[Any]) -> AuditEntry:
    values = row._asdict()
    del values["id"]
    return AuditEntry(**values)
