"""External programs the benchmarks drive (SIPp, tshark): found on PATH or the bench stops."""

from __future__ import annotations

import shutil


class MissingTool(RuntimeError):
    pass


def need(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} is not installed: `make bench` installs it (Debian packages)")
    return path
