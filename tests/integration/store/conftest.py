"""Every store test runs against SQLite in tmp_path and a real throwaway PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.ports.store import Store
from tests.support.postgres import PostgresCluster
from tests.support.postgres import pg_cluster as pg_cluster

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL to a fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store')}/store.db"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> str:
    """A fresh PostgreSQL database, for tests about several nodes sharing one store."""
    return pg_cluster.create_database()


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], SqlStore]]:
    """Opens more stores on the same database (as more appliances would); closes them all."""
    opened: list[SqlStore] = []

    def _open() -> SqlStore:
        opened.append(SqlStore.open(store_url))
        return opened[-1]

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], SqlStore]) -> Store:
    return open_store()
