"""The store's tables as JSON lines, read in one snapshot and written back in one transaction.

The same dump for SQLite and PostgreSQL (no pg_dump, no file copy): a backup is consistent while
the appliance runs (SQLite WAL read snapshot; PostgreSQL REPEATABLE READ, read only), and a
single-node SQLite backup restores into a shared PostgreSQL store when a site scales out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)

from appliance.adapters.store.engine import READ_ONLY
from appliance.adapters.store.tables import messages, metadata
from appliance.adapters.store.types import UtcDateTime

_INSERT_BATCH = 500
# Tables whose integer ids come from a PostgreSQL sequence that must follow restored rows.
_SERIAL_IDS = ("call_events", "callback_attempts", "audit_log")


@dataclass
class SnapshotInfo:
    revision: str
    backend: str
    rows: dict[str, int] = field(default_factory=dict)
    ticket_sequence: int | None = None  # PostgreSQL: the sequence's last value handed out
    recording_paths: set[str] = field(default_factory=set)


def tables() -> list[Table]:
    """Parents before children, so rows insert without breaking foreign keys."""
    return list(metadata.sorted_tables)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _reviver(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    instants = [c.name for c in table.columns if isinstance(c.type, UtcDateTime)]

    def revive(row: dict[str, Any]) -> dict[str, Any]:
        for name in instants:
            if row.get(name) is not None:
                row[name] = datetime.fromisoformat(row[name])
        return row

    return revive


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        else:
            conn = conn.execution_options(**{READ_ONLY: True})
        with conn.begin():
            yield conn


def dump(engine: Engine, open_table: Callable[[str], IO[str]]) -> SnapshotInfo:
    """Write every table as `<name>.jsonl` through `open_table`, all from one snapshot."""
    with _snapshot(engine) as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        info = SnapshotInfo(revision=str(revision), backend=engine.dialect.name)
        if info.backend == "postgresql":
            last, called = conn.execute(
                text("SELECT last_value, is_called FROM ticket_number_seq")).one()
            info.ticket_sequence = int(last) if called else int(last) - 1
        for table in tables():
            info.rows[table.name] = _dump_table(conn, table, open_table(table.name), info)
    return info


def _dump_table(conn: Connection, table: Table, out: IO[str], info: SnapshotInfo) -> int:
    count = 0
    with out:
        query = select(table).order_by(*table.primary_key.columns)
        for row in conn.execute(query):
            values = {k: _plain(v) for k, v in row._asdict().items()}
            if table is messages and values["path"]:
                info.recording_paths.add(str(values["path"]))
            out.write(json.dumps(values, ensure_ascii=False) + "\n")
            count += 1
    return count


def current_revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def holds_data(engine: Engine) -> bool:
    """Whether the store already keeps calls, messages or tickets (a restore would replace them)."""
    with engine.connect() as conn:
        for name in ("calls", "messages", "tickets"):
            table = metadata.tables[name]
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                return True
    return False


def load(engine: Engine, read_table: Callable[[str], list[dict[str, Any]]],
         ticket_sequence: int | None,
         fix_row: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Replace every table's rows with the dumped ones, in one transaction (all or nothing)."""
    with engine.begin() as conn:
        for table in reversed(tables()):
            conn.execute(delete(table))
        for table in tables():
            revive = _reviver(table)
            rows = [revive(r) for r in read_table(table.name)]
            if fix_row is not None:
                rows = [fix_row(table.name, r) for r in rows]
            for start in range(0, len(rows), _INSERT_BATCH):
                conn.execute(insert(table), rows[start:start + _INSERT_BATCH])
        if conn.dialect.name == "postgresql":
            _follow_sequences(conn, ticket_sequence)
        elif ticket_sequence is not None:  # a PostgreSQL backup into SQLite: the counter row
            _set_ticket_counter(conn, ticket_sequence)


def _follow_sequences(conn: Connection, ticket_sequence: int | None) -> None:
    counters = metadata.tables["counters"]
    if ticket_sequence is None:  # a SQLite backup: its ticket counter came back with the rows
        ticket_sequence = int(conn.execute(
            select(func.coalesce(func.max(counters.c.value), 0))
            .where(counters.c.name == "ticket")).scalar_one())
    _setval(conn, literal_column("'ticket_number_seq'::regclass"), ticket_sequence)
    for name in _SERIAL_IDS:
        table = metadata.tables[name]
        highest = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        _setval(conn, func.pg_get_serial_sequence(name, "id"), int(highest))


def _set_ticket_counter(conn: Connection, value: int) -> None:
    counters = metadata.tables["counters"]
    conn.execute(delete(counters).where(counters.c.name == "ticket"))
    conn.execute(insert(counters).values(name="ticket", value=value))


def _setval(conn: Connection, sequence: ColumnElement[Any], last: int) -> None:
    # setval(seq, 1, false): the next value is 1, for a sequence that never handed one out.
    conn.execute(select(func.setval(sequence, max(last, 1), last >= 1)))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
