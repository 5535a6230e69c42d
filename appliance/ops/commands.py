"""Operator subcommands of `desborde` (backup, restore, export-settings, ...): registered here so the
main CLI stays a thin dispatcher."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]

COMMANDS: dict[str, Command] = {}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator subcommands to the `desborde` parser."""
