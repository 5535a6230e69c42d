"""Finding the external tools the integration tests drive.

A missing tool is a failure, never a skip: `make test` installs every tool the suite needs, so a
missing one means the environment is broken and the test cannot say anything.
"""

from __future__ import annotations

import os
import shutil

import pytest

_EXTRA_DIRS = ("/usr/sbin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def require_tool(name: str) -> str:
    """Return the path of an executable the test needs, or fail the test saying which is missing."""
    path = shutil.which(name)
    if path is None:
        path = next(
            (os.path.join(d, name) for d in _EXTRA_DIRS if os.path.exists(os.path.join(d, name))),
            None,
        )
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test`, which installs it")
    return path
