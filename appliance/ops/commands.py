"""Operator subcommands of `desborde` (backup, restore, export-settings, ...): registered here so the
main CLI stays a thin dispatcher."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError

if TYPE_CHECKING:  # the heavy modules load only when their command runs
    from appliance.adapters.store.sql_store import SqlStore
    from appliance.ops.backup import Site

Command = Callable[[argparse.Namespace], int]

COMMANDS: dict[str, Command] = {}

_DEFAULT_CONFIG = Path("/etc/desborde/desborde.toml")


def _settings(args: argparse.Namespace) -> Settings:
    """The given config; without one installed, the embedded defaults (data in ./var)."""
    path: Path = args.config
    return load_settings(None if path == _DEFAULT_CONFIG and not path.exists() else path)


def _site(settings: Settings) -> Site:
    from appliance.ops.backup import Site

    return Site(settings.store_url, settings.recordings_dir, settings.node.data_dir / "prompts")


def _now() -> datetime:
    return datetime.now(UTC)


def _guarded(command: Command) -> Command:
    """Errors become one line on stderr and exit status 1 (2 for bad config)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ApplianceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2 if exc.error_id == "config-invalid" else 1

    return run


def _backup(args: argparse.Namespace) -> int:
    from appliance.ops.backup import backup

    site = _site(_settings(args))
    manifest = backup(site, args.file)
    print(f"{args.file}: {sum(manifest['rows'].values())} rows, {len(manifest['files'])} files")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from appliance.ops.backup import restore

    site = _site(_settings(args))
    manifest = restore(site, args.file, force=args.force)
    print(f"restored {args.file} (taken {manifest['created_at']}): "
          f"{sum(manifest['rows'].values())} rows, {len(manifest['files'])} files")
    return 0


def _with_store(args: argparse.Namespace, work: Callable[[Settings, SqlStore], int]) -> int:
    from appliance.adapters.store.sql_store import SqlStore

    settings = _settings(args)
    store = SqlStore.open(settings.store_url)
    try:
        return work(settings, store)
    finally:
        store.close()


def _export_settings(args: argparse.Namespace) -> int:
    from appliance.ops.settings_io import dumps, export_settings

    def work(settings: Settings, store: SqlStore) -> int:
        document = export_settings(store, settings.node.data_dir / "prompts", now=_now(),
                                   integrations=args.with_integrations)
        text = dumps(document)
        if str(args.file) == "-":
            sys.stdout.write(text)
        else:
            args.file.write_text(text, encoding="utf-8")
        return 0

    return _with_store(args, work)


def _import_settings(args: argparse.Namespace) -> int:
    from appliance.ops.settings_io import import_settings

    text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")

    def work(settings: Settings, store: SqlStore) -> int:
        done = import_settings(store, settings.node.data_dir / "prompts", json.loads(text),
                               actor=args.actor, now=_now())
        print("imported: " + (", ".join(done) or "nothing"))
        return 0

    return _with_store(args, work)


def _retention(args: argparse.Namespace) -> int:
    from appliance.ops.retention import apply_retention, load_policy

    def work(settings: Settings, store: SqlStore) -> int:
        policy, _ = load_policy(store)
        print(json.dumps(policy.to_dict(), indent=2))
        if args.run:
            report = apply_retention(store, policy, _now(), settings.recordings_dir)
            print(f"removed {report.recordings} recordings ({report.files_deleted} files), "
                  f"{report.transcripts} transcripts")
        return 0

    return _with_store(args, work)


def _add(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str,
         command: Command) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text)
    parser.add_argument("--config", type=Path, default=_DEFAULT_CONFIG,
                        help="the appliance's config file (its store and data dir)")
    COMMANDS[name] = _guarded(command)
    return parser


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator subcommands to the `desborde` parser."""
    p = _add(commands, "backup", "store + recordings + prompts into a tar.gz (while running)",
             _backup)
    p.add_argument("file", type=Path)
    p = _add(commands, "restore", "put a backup back (stop the appliance first)", _restore)
    p.add_argument("file", type=Path)
    p.add_argument("--force", action="store_true", help="replace a store that holds data")
    p = _add(commands, "export-settings", "services, calendars, menus, retention, prompts as JSON",
             _export_settings)
    p.add_argument("file", type=Path, help="output file, or - for stdout")
    p.add_argument("--with-integrations", action="store_true",
                   help="include ODBC/SOAP/webhook targets (their secrets too)")
    p = _add(commands, "import-settings", "replace business settings from an export", _import_settings)
    p.add_argument("file", type=Path, help="input file, or - for stdin")
    p.add_argument("--actor", default="cli", help="name written to the audit log")
    p = _add(commands, "retention", "show the retention policy; --run applies it now", _retention)
    p.add_argument("--run", action="store_true")
