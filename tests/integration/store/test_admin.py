"""Business settings with optimistic versions, users, the audit log, API keys and ping()."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import ApiKey, AuditEntry, Role, User, new_id
from appliance.errors import StoreError
from appliance.ports.store import SettingVersionConflict, Store, StoreConflict
from tests.integration.store.conftest import T0
from tests.support.postgres import PostgresCluster

CALENDAR = {"tz": "America/Santiago", "weekly": {"mon": [["09:00", "18:00"]]}, "holidays": []}


def test_settings_versions_and_conflicts(store: Store) -> None:
    created = store.put_setting("calendar.support", CALENDAR, expected_version=0, now=T0)
    assert created.version == 1
    assert store.get_setting("calendar.support") == created
    with pytest.raises(SettingVersionConflict):
        store.put_setting("calendar.support", {}, expected_version=0, now=T0)

    later = T0 + timedelta(minutes=1)
    edited = {**CALENDAR, "holidays": ["2026-09-18"]}
    saved = store.put_setting("calendar.support", edited, expected_version=1, now=later)
    assert (saved.version, saved.updated_at) == (2, later)
    # A second editor who read version 1 loses, and the first edit survives.
    with pytest.raises(SettingVersionConflict):
        store.put_setting("calendar.support", CALENDAR, expected_version=1, now=later)
    assert store.get_setting("calendar.support") == saved
    store.put_setting("a.first", [1, "x", None], expected_version=0, now=T0)
    assert [s.key for s in store.list_settings()] == ["a.first", "calendar.support"]
    assert store.get_setting("missing") is None


def test_users(store: Store) -> None:
    ana = User("ana", "$argon2id$v=19$x", Role.ADMIN, T0, must_change_password=True)
    store.create_user(ana)
    store.create_user(User("bob", "h", Role.STAFF, T0))
    with pytest.raises(StoreConflict):
        store.create_user(replace(ana, role=Role.STAFF))
    assert store.get_user("ana") == ana
    assert store.set_password_hash("ana", "new-hash")
    assert store.update_user("bob", role=Role.SUPERVISOR, disabled=True)
    assert not store.set_password_hash("nobody", "x")
    assert not store.update_user("nobody", disabled=True)
    assert store.list_users() == [
        replace(ana, password_hash="new-hash", must_change_password=False),
        User("bob", "h", Role.SUPERVISOR, T0, disabled=True),
    ]


def test_audit_log_newest_first(store: Store) -> None:
    first = AuditEntry(T0, "ana", "setting.put", "calendar.support", None, CALENDAR)
    second = AuditEntry(
        T0 + timedelta(seconds=1),
        "bob",
        "user.disable",
        "carl",
        {"disabled": False},
        {"disabled": True},
    )
    store.append_audit(first)
    store.append_audit(second)
    assert store.list_audit() == [second, first]
    assert store.list_audit(actor="ana") == [first]
    assert store.list_audit(limit=1, offset=1) == [first]


def test_api_keys(store: Store) -> None:
    key = ApiKey(new_id(), "website", "sha256:abcd", T0)
    store.create_api_key(key)
    with pytest.raises(StoreConflict):
        store.create_api_key(replace(key, id=new_id()))  # same hash
    assert store.verify_api_key("sha256:abcd") == key
    assert store.verify_api_key("sha256:other") is None
    assert store.revoke_api_key(key.id)
    assert store.verify_api_key("sha256:abcd") is None
    assert store.list_api_keys() == [replace(key, revoked=True)]


def test_ping_writes(store: Store) -> None:
    store.ping()
    store.ping()


def test_ping_fails_with_a_store_error_when_the_database_is_gone(
    pg_cluster: PostgresCluster,
) -> None:
    store = SqlStore.open(pg_cluster.url("does_not_exist"), migrate=False)
    with pytest.raises(StoreError) as caught:
        store.ping()
    store.close()
    assert caught.value.transient


def test_opening_an_unreachable_store_raises_store_error(pg_cluster: PostgresCluster) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        SqlStore.open(pg_cluster.url("does_not_exist"))


def test_unsupported_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported store backend"):
        SqlStore.open("mysql://localhost/x")
