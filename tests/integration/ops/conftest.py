"""Operations tests run on SQLite in tmp_path and on a real throwaway PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.postgres import PostgresCluster
from tests.support.postgres import pg_cluster as pg_cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_url(backend: str, request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Callable[[], str]:
    """A factory of URLs to fresh, empty databases on the test's backend."""

    def make() -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('store')}/store.db"
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        return cluster.create_database()

    return make
