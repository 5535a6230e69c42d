"""Retention on both backends: old recordings and transcripts go (files deleted), rows stay as
metadata, each service keeps its own number of days, newer messages are untouched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.errors import ConfigError
from appliance.ops.retention import (
    Keep,
    RetentionPolicy,
    apply_retention,
    load_policy,
    save_policy,
)
from tests.integration.ops.data import T0, message


@pytest.fixture
def store(new_url: Callable[[], str]) -> Iterator[SqlStore]:
    opened = SqlStore.open(new_url())
    yield opened
    opened.close()


def test_store_purge_blanks_media_and_keeps_the_row(store: SqlStore, tmp_path: Path) -> None:
    old = message(tmp_path, 1, days_old=40)
    new = message(tmp_path, 2, days_old=5)
    for m in (old, new):
        store.save_message(m)
    purged = store.purge_message_media(before=T0 - timedelta(days=30), transcripts=False)
    assert [m.id for m in purged] == [old.id] and purged[0].path == old.path
    kept = store.get_message(old.id)
    assert kept is not None
    assert (kept.path, kept.size, kept.transcript) == ("", 0, "hola")
    assert kept.duration_s == old.duration_s and kept.caller == old.caller
    assert store.get_message(new.id) == new
    again = store.purge_message_media(before=T0 - timedelta(days=30), recordings=False)
    assert [m.id for m in again] == [old.id]
    assert store.get_message(old.id).transcript is None  # type: ignore[union-attr]


def test_purge_by_service_and_exclusion(store: SqlStore, tmp_path: Path) -> None:
    sales = message(tmp_path, 1, service="sales", days_old=10)
    support = message(tmp_path, 2, service="support", days_old=10)
    for m in (sales, support):
        store.save_message(m)
    cutoff = T0 - timedelta(days=1)
    assert [m.id for m in store.purge_message_media(before=cutoff, exclude=["sales"])] \
        == [support.id]
    assert [m.id for m in store.purge_message_media(before=cutoff, service="sales")] == [sales.id]


def test_apply_retention_per_service_deletes_files(store: SqlStore, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    messages = {
        "sales_old": message(recordings, 1, service="sales", days_old=20),
        "sales_new": message(recordings, 2, service="sales", days_old=5),
        "other_old": message(recordings, 3, service="support", days_old=20),
        "other_older": message(recordings, 4, service="support", days_old=100),
    }
    for m in messages.values():
        store.save_message(m)
    policy = RetentionPolicy(Keep(recordings_days=60, transcripts_days=30),
                             {"sales": Keep(recordings_days=10)})
    report = apply_retention(store, policy, T0, recordings)
    gone = {k for k, m in messages.items() if not Path(m.path).exists()}
    assert gone == {"sales_old", "other_older"}
    assert report.files_deleted == 2 and report.recordings == 2
    # Transcripts: 30 days by default, inherited by sales.
    stored = {k: store.get_message(m.id) for k, m in messages.items()}
    assert {k for k, m in stored.items() if m and m.transcript is None} == {"other_older"}
    assert report.transcripts == 1
    assert all(m is not None for m in stored.values())


def test_a_row_pointing_outside_the_recordings_dir_is_not_deleted(
    store: SqlStore, tmp_path: Path
) -> None:
    outside = message(tmp_path / "elsewhere", 1, days_old=50)
    store.save_message(outside)
    report = apply_retention(store, RetentionPolicy(Keep(recordings_days=1)), T0,
                             tmp_path / "recordings")
    assert report.recordings == 1 and report.files_deleted == 0
    assert Path(outside.path).exists()


def test_policy_round_trip_and_validation(store: SqlStore) -> None:
    assert load_policy(store) == (RetentionPolicy(), 0)
    policy = RetentionPolicy(Keep(90, 30), {"sales": Keep(recordings_days=7)})
    version = save_policy(store, policy, expected_version=0, actor="admin", now=T0)
    assert load_policy(store) == (policy, version)
    assert store.list_audit()[0].action == "retention.save"
    with pytest.raises(ConfigError):
        RetentionPolicy.from_dict({"default": {"recordings_days": 0}})
    with pytest.raises(ConfigError):
        RetentionPolicy.from_dict({"default": {"keep": 3}})
