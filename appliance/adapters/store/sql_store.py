"""SqlStore: the whole store on one engine, SQLite or PostgreSQL, migrated to head on open."""

from __future__ import annotations

import logging

from sqlalchemy import update

from appliance.adapters.store.admin import ApiKeysMixin, AuditMixin, SettingsMixin, UsersMixin
from appliance.adapters.store.callbacks import CallbacksMixin
from appliance.adapters.store.calls import CallsMixin
from appliance.adapters.store.engine import create_store_engine, upgrade_to_head
from appliance.adapters.store.messages import MessagesMixin
from appliance.adapters.store.outbox import OutboxMixin
from appliance.adapters.store.tables import counters
from appliance.adapters.store.tickets import TicketsMixin
from appliance.errors import StoreError

log = logging.getLogger(__name__)


class SqlStore(
    CallsMixin,
    MessagesMixin,
    TicketsMixin,
    CallbacksMixin,
    OutboxMixin,
    SettingsMixin,
    UsersMixin,
    AuditMixin,
    ApiKeysMixin,
):
    """Implements appliance.ports.store.Store. Blocking: call it from a worker thread."""

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> SqlStore:
        """Connect to `url` and bring its schema to head (idempotent, safe on several nodes)."""
        engine = create_store_engine(url)
        try:
            if migrate:
                upgrade_to_head(engine)
        except Exception as exc:
            engine.dispose()
            raise StoreError(f"cannot open the store: {exc}") from exc
        log.info("store open on %s", engine.url.render_as_string(hide_password=True))
        return cls(engine)

    def ping(self) -> None:
        """A real write in a transaction: proves the store is reachable and writable."""
        stmt = update(counters).where(counters.c.name == "ping").values(value=counters.c.value + 1)
        with self._tx() as conn:
            if conn.execute(stmt).rowcount != 1:
                raise StoreError("ping counter missing: the schema was not migrated")

    def close(self) -> None:
        self._engine.dispose()
