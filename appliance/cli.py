"""The `desborde` command: a thin main() that parses arguments and hands over to the composition root."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from appliance import __version__
from appliance.calltool import add_arguments as add_call_arguments
from appliance.calltool import run_call
from appliance.config import Settings, load_settings
from appliance.errors import ConfigError
from appliance.ops import commands as ops_commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desborde", description=__doc__)
    parser.add_argument("--version", action="version", version=f"desborde {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run on the embedded defaults, in the foreground")
    demo.add_argument("--sip-port", type=int, default=5060)
    demo.add_argument("--web-port", type=int, default=8080)
    demo.add_argument("--data-dir", type=Path, default=Path("var"))

    run = commands.add_parser("run", help="run the appliance with a config file (systemd)")
    run.add_argument("--config", type=Path, default=Path("/etc/desborde/desborde.toml"))

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file", type=Path)

    add_call_arguments(commands.add_parser("call", help="place a test call: dial, press digits, speak a WAV"))
    ops_commands.register(commands)
    return parser


def demo_settings(sip_port: int, web_port: int, data_dir: Path) -> Settings:
    """The embedded defaults, with the ports and data dir given on the command line."""
    base = Settings()
    return base.model_copy(
        update={
            "node": base.node.model_copy(update={"data_dir": data_dir}),
            "sip": base.sip.model_copy(update={"port": sip_port}),
            "web": base.web.model_copy(update={"port": web_port}),
        }
    )


def _check_config(path: Path) -> int:
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: ok (sip {settings.sip.mode} on {settings.sip.bind}:{settings.sip.port}, "
          f"web on {settings.web.bind}:{settings.web.port}, store {settings.store_url.split(':')[0]})")
    return 0


def _serve(settings: Settings, *, demo: bool) -> int:
    from appliance.bootstrap import run_appliance

    try:
        return asyncio.run(run_appliance(settings, demo=demo))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "demo":
        return _serve(demo_settings(args.sip_port, args.web_port, args.data_dir), demo=True)
    if args.command == "call":
        return run_call(args)
    if args.command in ops_commands.COMMANDS:
        return ops_commands.COMMANDS[args.command](args)
    if args.command == "run":
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return _serve(settings, demo=False)
    return 2
