"""Engines for the two backends, and the Alembic upgrade to head that runs when a store opens."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS = Path(__file__).with_name("migrations")

# Two appliances starting at once against one PostgreSQL must not both migrate it.
_MIGRATION_LOCK_KEY = 0x6465_7362_6F72_6465 & 0x7FFF_FFFF_FFFF_FFFF  # "desborde"

_SQLITE_BUSY_MS = 10_000

# Execution option marking a transaction that only reads (SQLite then skips the write lock).
READ_ONLY = "desborde_read_only"


def create_store_engine(url: str) -> Engine:
    """An engine for `sqlite:///path` or `postgresql+psycopg://...`, tuned for the store."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        # Pin the session time zone so nothing depends on the server's configuration.
        return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    raise ValueError(f"unsupported store backend {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    # Take transaction control away from pysqlite so that SAVEPOINT works and BEGIN is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed recording row must survive a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")  # a WAL snapshot: readers never wait for the writer
        return
    # IMMEDIATE takes the write lock up front: a deferred transaction that later writes can
    # fail with SQLITE_BUSY at once (busy_timeout does not apply to lock upgrades).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
