"""Peers for the delivery integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.odbc import quiet_odbc


@pytest.fixture(scope="session")
def odbc_sysini() -> Path:
    return quiet_odbc()


from tests.support.postgres import pg_cluster  # noqa: E402,F401 - the session fixture
