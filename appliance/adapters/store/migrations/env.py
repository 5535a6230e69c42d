"""Alembic environment: runs only on a connection handed over by engine.upgrade_to_head."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from appliance.adapters.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through appliance.adapters.store.engine.upgrade_to_head")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
