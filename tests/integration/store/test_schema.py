"""Alembic builds the schema the code declares, on both backends, and re-running it is harmless."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from appliance.adapters.store.engine import alembic_config, create_store_engine
from appliance.adapters.store.sql_store import SqlStore
from appliance.adapters.store.tables import metadata

TABLES = {
    "calls",
    "call_events",
    "messages",
    "tickets",
    "callbacks",
    "callback_attempts",
    "outbox",
    "settings",
    "users",
    "audit_log",
    "api_keys",
    "counters",
    "alembic_version",
}


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrating_an_empty_database_creates_every_table(store_url: str) -> None:
    engine = create_store_engine(store_url)
    assert set(inspect(engine).get_table_names()) == set()
    SqlStore.open(store_url).close()
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
        if conn.dialect.name == "postgresql":
            assert "ticket_number_seq" in inspect(conn).get_sequence_names()
    engine.dispose()


def test_metadata_matches_the_migrated_schema(store_url: str) -> None:
    SqlStore.open(store_url).close()
    engine = create_store_engine(store_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_the_partial_unique_index_is_migrated(store_url: str) -> None:
    SqlStore.open(store_url).close()
    engine = create_store_engine(store_url)
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("callbacks")}
    engine.dispose()
    assert indexes["uq_callbacks_active"]["unique"]
    assert indexes["uq_callbacks_active"]["column_names"] == ["service", "number"]


def test_opening_again_keeps_data_and_revision(store_url: str) -> None:
    first = SqlStore.open(store_url)
    assert first.allocate_ticket_sequence() == 1
    first.close()
    second = SqlStore.open(store_url)
    assert second.allocate_ticket_sequence() == 2
    second.close()


def test_two_nodes_opening_a_fresh_postgres_at_once_both_succeed(pg_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: SqlStore.open(pg_url), range(4)))
    numbers = [s.allocate_ticket_sequence() for s in stores]
    for s in stores:
        s.close()
    assert sorted(numbers) == [1, 2, 3, 4]
