"""`OdbcExporter`: one admin-written SQL statement per event kind, run over ODBC with pyodbc.

Each export opens a connection, runs its one statement in its own transaction and commits: the
row is there or not, with nothing else riding in that transaction. pyodbc blocks, so it runs in a
worker thread, at most `max_concurrent` at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime

import pyodbc

from appliance.adapters.export.sqlparams import BoundStatement, bind_named
from appliance.errors import ExportError
from appliance.ports.delivery import EXPORT_FIELDS, ExportFields

log = logging.getLogger(__name__)

# SQLSTATEs worth retrying: connection (08), timeouts, serialization/deadlock, resources, and
# operator intervention (57: shutdown, statement timeout).
_TRANSIENT_STATES = re.compile(r"^(08|HYT0|40|53|57)")
# SQLite's driver reports everything as HY000; its native codes 5/6 (busy/locked) are retryable.
_SQLITE_BUSY = re.compile(r"database is locked|\((5|6)\) \(\1\)")


class OdbcExporter:
    def __init__(
        self,
        connection: str,
        statements: Mapping[str, str],
        *,
        login_timeout_s: int = 10,
        query_timeout_s: int = 30,
        max_concurrent: int = 2,
    ) -> None:
        """`connection` is a DSN name or a full connection string; statements are validated now."""
        self._conn_str = connection if "=" in connection else f"DSN={connection}"
        self._statements = {k: bind_named(sql, EXPORT_FIELDS) for k, sql in statements.items()}
        self._login_timeout = login_timeout_s
        self._query_timeout = query_timeout_s
        self._slots = asyncio.Semaphore(max_concurrent)

    def handles(self, event_kind: str) -> bool:
        return event_kind in self._statements

    async def export(self, event_kind: str, fields: ExportFields) -> None:
        await self._run(event_kind, fields, commit=True)

    async def test(self, event_kind: str, fields: ExportFields) -> None:
        """Run the statement for real, then roll back: proves table, columns and constraints."""
        await self._run(event_kind, fields, commit=False)

    async def _run(self, event_kind: str, fields: ExportFields, *, commit: bool) -> None:
        statement = self._statements.get(event_kind)
        if statement is None:
            raise ExportError(f"no ODBC statement configured for {event_kind!r}", transient=False)
        params = statement.params({k: _odbc_value(v) for k, v in fields.items()})
        async with self._slots:
            await asyncio.to_thread(self._execute, statement, params, commit)
        log.info("ODBC %s %s", event_kind, "exported" if commit else "tested, rolled back")

    def _execute(self, statement: BoundStatement, params: list[object], commit: bool) -> None:
        try:
            cnxn = pyodbc.connect(self._conn_str, autocommit=False, timeout=self._login_timeout)
        except pyodbc.Error as exc:
            # Driver-manager errors (IM...) mean a wrong DSN/driver name: retrying cannot help.
            raise ExportError(
                f"ODBC connect: {_text(exc)}", transient=_state(exc)[:2] != "IM"
            ) from exc
        try:
            _set_query_timeout(cnxn, self._query_timeout)
            cnxn.cursor().execute(statement.sql, params)
            if commit:
                cnxn.commit()
            else:
                cnxn.rollback()
        except pyodbc.Error as exc:
            raise ExportError(f"ODBC: {_text(exc)}", transient=_is_transient(exc)) from exc
        finally:
            cnxn.close()


def _set_query_timeout(cnxn: pyodbc.Connection, seconds: int) -> None:
    # psqlODBC refuses the connection-level timeout pyodbc sets; there the statement_timeout goes
    # into the connection string instead: Pqopt={options='-c statement_timeout=30000'}.
    try:
        cnxn.timeout = seconds
    except pyodbc.Error as exc:
        log.debug("ODBC driver has no query timeout (%s): relying on the server's", _text(exc))


def _odbc_value(value: object) -> object:
    # Drivers differ on aware datetimes (some drop the offset silently): send UTC, naive.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _state(exc: pyodbc.Error) -> str:
    return str(exc.args[0]) if exc.args else ""


def _text(exc: pyodbc.Error) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


def _is_transient(exc: pyodbc.Error) -> bool:
    state = _state(exc)
    if _TRANSIENT_STATES.match(state):
        return True
    return state == "HY000" and bool(_SQLITE_BUSY.search(_text(exc)))
