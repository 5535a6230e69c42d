"""`desborde backup` / `restore`: the store (one snapshot) and the recordings and uploaded prompts,
in a tar.gz with a manifest of SHA-256 checksums. Taken while the appliance runs; restored with it
stopped. Every checksum is verified before anything on the target is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Engine

from appliance import __version__
from appliance.adapters.store.engine import create_store_engine, upgrade_to_head
from appliance.errors import ApplianceError
from appliance.ops import snapshot

log = logging.getLogger(__name__)

FORMAT = "desborde-backup"
VERSION = 1
MANIFEST = "manifest.json"


class BackupError(ApplianceError):
    """The archive is not a usable backup, or the target refuses it."""

    error_id = "backup-invalid"


@dataclass(frozen=True)
class Site:
    """Where one appliance keeps its data (from the static settings)."""

    store_url: str
    recordings_dir: Path
    prompts_dir: Path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Writer:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.files: dict[str, dict[str, Any]] = {}

    def add(self, name: str, data: bytes, mtime: float | None = None) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(mtime or 0), 0o640
        self.tar.addfile(info, io.BytesIO(data))
        self.files[name] = {"sha256": _sha256(data), "size": len(data)}


def backup(site: Site, target: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """Write the archive to `target` (atomically: a temporary file renamed at the end)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                manifest = _write_archive(site, _Writer(tar), now or datetime.now(UTC))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("backup written to %s: %d rows, %d files", target, sum(manifest["rows"].values()),
             len(manifest["files"]))
    return manifest


def _write_archive(site: Site, writer: _Writer, now: datetime) -> dict[str, Any]:
    engine = create_store_engine(site.store_url)
    try:
        with tempfile.TemporaryDirectory(prefix="desborde-dump-") as scratch:
            info = snapshot.dump(engine, lambda name: _scratch_file(Path(scratch), name))
            for name in info.rows:
                writer.add(f"store/{name}.jsonl", (Path(scratch) / f"{name}.jsonl").read_bytes())
    finally:
        engine.dispose()
    # Files after the snapshot: every recording a snapshot row names was on disk before its
    # row committed, so it is there now (retention deletes files only after blanking rows).
    referenced = {str(Path(p).resolve()) for p in info.recording_paths}
    for path, rel in _files(site.recordings_dir):
        if _stale_sidecar(path, referenced):
            continue
        writer.add(f"recordings/{rel}", path.read_bytes(), path.stat().st_mtime)
    for path, rel in _files(site.prompts_dir):
        writer.add(f"prompts/{rel}", path.read_bytes(), path.stat().st_mtime)
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": now.isoformat(),
        "appliance_version": __version__, "backend": info.backend,
        "schema_revision": info.revision, "ticket_sequence": info.ticket_sequence,
        "recordings_dir": str(site.recordings_dir.resolve()), "rows": info.rows,
        "files": dict(sorted(writer.files.items())),
    }
    writer.add(MANIFEST, json.dumps(manifest, indent=2).encode())
    return manifest


def _scratch_file(scratch: Path, name: str) -> IO[str]:
    return (scratch / f"{name}.jsonl").open("w", encoding="utf-8")


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(".tmp"):
            yield path, path.relative_to(root).as_posix()


def _stale_sidecar(path: Path, referenced: set[str]) -> bool:
    # A sidecar whose message row is already in the snapshot was about to be removed: restoring
    # it would file that message a second time at the next start.
    if not path.name.endswith(".pending.json"):
        return False
    wav = path.with_name(path.name.removesuffix(".pending.json") + ".wav")
    return str(wav.resolve()) in referenced


# -- restore ----------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    with tarfile.open(source, "r:gz") as tar:
        return _manifest(tar)


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        manifest: dict[str, Any] = json.loads(member.read()) if member else {}
    except (KeyError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in the archive: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"not a {FORMAT} v{VERSION} archive")
    return manifest


def _verified(tar: tarfile.TarFile, manifest: dict[str, Any], into: Path) -> None:
    """Extract every listed file into `into`, checking its checksum; refuse anything odd."""
    listed: dict[str, dict[str, Any]] = manifest["files"]
    seen = set()
    for member in tar.getmembers():
        name = member.name
        if name == MANIFEST:
            continue
        pure = PurePosixPath(name)
        if name not in listed or not member.isfile() or pure.is_absolute() or ".." in pure.parts:
            raise BackupError(f"unexpected archive member {name!r}")
        handle = tar.extractfile(member)
        data = handle.read() if handle else b""
        if _sha256(data) != listed[name]["sha256"]:
            raise BackupError(f"checksum mismatch for {name}: the archive is damaged")
        out = into / pure
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        os.utime(out, (member.mtime, member.mtime))
        seen.add(name)
    missing = set(listed) - seen
    if missing:
        raise BackupError(f"archive lacks {len(missing)} listed files, e.g. {sorted(missing)[0]}")


def restore(site: Site, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Put the archive's store rows, recordings and prompts back. Run with the appliance stopped."""
    with tempfile.TemporaryDirectory(prefix="desborde-restore-") as scratch, \
            tarfile.open(source, "r:gz") as tar:
        manifest = _manifest(tar)
        staged = Path(scratch)
        _verified(tar, manifest, staged)
        engine = create_store_engine(site.store_url)
        try:
            upgrade_to_head(engine)
            _check_target(engine, manifest, force)
            _put_files(staged / "recordings", site.recordings_dir)
            _put_files(staged / "prompts", site.prompts_dir)
            old_dir = str(manifest["recordings_dir"])
            snapshot.load(
                engine, lambda name: snapshot.read_jsonl(staged / "store" / f"{name}.jsonl"),
                manifest.get("ticket_sequence"),
                lambda table, row: _moved(table, row, old_dir, site.recordings_dir))
        finally:
            engine.dispose()
    log.info("restored %s: %d rows, %d files", source, sum(manifest["rows"].values()),
             len(manifest["files"]))
    return manifest


def _check_target(engine: Engine, manifest: dict[str, Any], force: bool) -> None:
    revision = snapshot.current_revision(engine)
    if revision != manifest["schema_revision"]:
        raise BackupError(f"backup schema {manifest['schema_revision']} differs from this "
                          f"appliance's {revision}: restore with the version that made it")
    if not force and snapshot.holds_data(engine):
        raise BackupError("the store already holds calls, messages or tickets: "
                          "restore replaces them all; pass --force to do so")


def _put_files(staged: Path, target: Path) -> None:
    for path, rel in _files(staged):
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".restore.tmp")
        with tmp.open("wb") as handle:
            handle.write(path.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
        os.utime(out, (path.stat().st_atime, path.stat().st_mtime))


def _moved(table: str, row: dict[str, Any], old_dir: str, recordings_dir: Path) -> dict[str, Any]:
    """Messages recorded under the old recordings directory point into the new one."""
    if table != "messages" or not row.get("path"):
        return row
    old = Path(old_dir)
    if old == recordings_dir.resolve():
        return row
    try:
        rel = Path(row["path"]).resolve().relative_to(old)
    except ValueError:
        return row  # recorded elsewhere: left as it was
    row["path"] = str(recordings_dir / rel)
    return row
