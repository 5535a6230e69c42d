"""Backup -> wipe -> restore gives back the same store rows and the same recording bytes, on SQLite
and PostgreSQL; damaged archives and occupied stores are refused; a backup taken while messages
are being saved is consistent (every message row in it has its recording)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from appliance.adapters.store.engine import create_store_engine
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import CallEvent
from appliance.ops import snapshot
from appliance.ops.backup import BackupError, Site, backup, read_manifest, restore
from tests.integration.ops.data import T0, message, populate


def _site(url: str, root: Path) -> Site:
    return Site(url, root / "recordings", root / "prompts")


def _tables(url: str) -> dict[str, str]:
    """Every table's rows as the dump writes them: equal text means equal rows."""
    engine = create_store_engine(url)
    out: dict[str, io.StringIO] = {}

    class Keep(io.StringIO):
        def close(self) -> None:  # keep the text readable after the dump closes it
            pass

    try:
        snapshot.dump(engine, lambda name: out.setdefault(name, Keep()))
    finally:
        engine.dispose()
    return {name: buffer.getvalue() for name, buffer in out.items()}


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _wipe(url: str, site: Site) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    for root in (site.recordings_dir, site.prompts_dir):
        for path in sorted(root.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()


def _config(tmp_path: Path, url: str, data_dir: Path) -> Path:
    path = tmp_path / "desborde.toml"
    path.write_text(f'[node]\ndata_dir = "{data_dir}"\n\n[store]\nurl = "{url}"\n')
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_backup_wipe_restore_round_trips_rows_and_recordings_bit_exact(
    new_url: Callable[[], str], tmp_path: Path
) -> None:
    url, data = new_url(), tmp_path / "var"
    site = _site(url, data)
    store = SqlStore.open(url)
    populate(store, site.recordings_dir)
    (site.prompts_dir / "sales" / "es").mkdir(parents=True)
    (site.prompts_dir / "sales" / "es" / "welcome.wav").write_bytes(b"RIFF-prompt")
    sequence_before = store.allocate_ticket_sequence()
    store.close()
    rows, files = _tables(url), _files(data)
    config, archive = _config(tmp_path, url, data), tmp_path / "out" / "backup.tar.gz"

    done = _cli("backup", str(archive), "--config", str(config))
    assert done.returncode == 0, done.stderr
    _wipe(url, site)
    assert _files(data) == {}
    done = _cli("restore", str(archive), "--config", str(config))
    assert done.returncode == 0, done.stderr

    assert _tables(url) == rows
    assert _files(data) == files
    assert sum(1 for line in rows["messages"].splitlines() if line) == 3
    store = SqlStore.open(url)
    try:  # the restored store carries on where the old one stopped
        assert store.allocate_ticket_sequence() == sequence_before + 1
        store.add_call_event(CallEvent("call0@pbx", T0, "after_restore", {}))
        [message_row] = [m for m in store.list_messages() if m.call_id == "call1@pbx"]
        assert Path(message_row.path).stat().st_size == message_row.size
    finally:
        store.close()


def test_a_damaged_archive_is_refused_before_anything_changes(
    new_url: Callable[[], str], tmp_path: Path
) -> None:
    url = new_url()
    site = _site(url, tmp_path / "var")
    store = SqlStore.open(url)
    populate(store, site.recordings_dir)
    store.close()
    archive = tmp_path / "good.tar.gz"
    backup(site, archive)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("recordings/") and member.name.endswith("call1-1.wav"):
                data = bytes([data[0] ^ 1]) + data[1:]
            dst.addfile(member, io.BytesIO(data))
    other = _site(new_url(), tmp_path / "other")
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore(other, damaged)
    assert _files(tmp_path / "other") == {}


def test_restore_into_a_store_with_data_needs_force(new_url: Callable[[], str],
                                                    tmp_path: Path) -> None:
    url = new_url()
    site = _site(url, tmp_path / "var")
    store = SqlStore.open(url)
    populate(store, site.recordings_dir, calls=1)
    store.close()
    archive = tmp_path / "b.tar.gz"
    backup(site, archive)
    rows = _tables(url)
    with pytest.raises(BackupError, match="--force"):
        restore(site, archive)
    restore(site, archive, force=True)
    assert _tables(url) == rows


def test_a_backup_taken_while_messages_arrive_is_consistent(
    new_url: Callable[[], str], tmp_path: Path
) -> None:
    url = new_url()
    site = _site(url, tmp_path / "var")
    store = SqlStore.open(url)
    stop, started = threading.Event(), threading.Event()

    def keep_saving() -> None:
        n = 0
        while not stop.is_set():
            store.save_message(message(site.recordings_dir, n))
            n += 1
            if n == 3:
                started.set()

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        assert started.wait(30)
        for i in range(3):
            archive = tmp_path / f"live{i}.tar.gz"
            manifest = backup(site, archive)
            with tarfile.open(archive) as tar:
                rows = tar.extractfile("store/messages.jsonl").read().decode()  # type: ignore[union-attr]
            paths = [Path(json.loads(line)["path"]) for line in rows.splitlines() if line]
            names = {"recordings/" + p.relative_to(site.recordings_dir).as_posix() for p in paths}
            assert paths
            assert names <= set(manifest["files"])
    finally:
        stop.set()
        writer.join()
        store.close()
    assert read_manifest(archive)["rows"]["messages"] >= 1


def test_a_sqlite_backup_restores_into_postgresql(
    pg_cluster: object, tmp_path: Path
) -> None:
    from tests.support.postgres import PostgresCluster

    assert isinstance(pg_cluster, PostgresCluster)
    sqlite_url = f"sqlite:///{tmp_path}/single.db"
    single = _site(sqlite_url, tmp_path / "single")
    store = SqlStore.open(sqlite_url)
    populate(store, single.recordings_dir)
    last = store.allocate_ticket_sequence()
    store.close()
    archive = tmp_path / "single.tar.gz"
    backup(single, archive)

    pg_url = pg_cluster.create_database()
    shared = _site(pg_url, tmp_path / "shared")
    restore(shared, archive)
    store = SqlStore.open(pg_url)
    try:
        assert len(store.list_messages()) == 3
        for m in store.list_messages():  # paths moved into the new recordings directory
            assert Path(m.path).is_relative_to(shared.recordings_dir)
            assert Path(m.path).stat().st_size == m.size
        assert store.allocate_ticket_sequence() == last + 1
    finally:
        store.close()
