"""Tickets and their numbering: the sequence comes from the database, never from a node."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from appliance.adapters.store.base import SqlBase
from appliance.adapters.store.tables import counters, ticket_sequence, tickets
from appliance.domain.records import OutboxJob, Ticket, TicketStatus
from appliance.errors import StoreError


class TicketsMixin(SqlBase):
    def allocate_ticket_sequence(self) -> int:
        """The next ticket sequence number, unique across every node sharing this store."""
        with self._tx() as conn:
            if conn.dialect.name == "postgresql":
                value = conn.execute(select(ticket_sequence.next_value())).scalar_one()
            else:
                value = _bump_counter(conn, "ticket")
        return int(value)

    def create_ticket(self, ticket: Ticket, *, jobs: Sequence[OutboxJob] = ()) -> None:
        with self._tx() as conn:
            insert_ticket(conn, ticket)
            self._insert_jobs(conn, jobs)

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._one_ticket(tickets.c.id == ticket_id)

    def get_ticket_by_number(self, number: str) -> Ticket | None:
        return self._one_ticket(tickets.c.number == number)

    def list_tickets(
        self, *, since: datetime | None = None, service: str | None = None, limit: int = 100
    ) -> list[Ticket]:
        stmt = select(tickets).order_by(tickets.c.created_at.desc(), tickets.c.sequence.desc())
        if since is not None:
            stmt = stmt.where(tickets.c.created_at >= since)
        if service is not None:
            stmt = stmt.where(tickets.c.service == service)
        with self._read() as conn:
            return [ticket_from_row(r) for r in conn.execute(stmt.limit(limit))]

    def set_ticket_status(self, ticket_id: str, status: TicketStatus) -> bool:
        stmt = update(tickets).where(tickets.c.id == ticket_id).values(status=status.value)
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def _one_ticket(self, where: Any) -> Ticket | None:
        with self._read() as conn:
            row = conn.execute(select(tickets).where(where)).first()
        return None if row is None else ticket_from_row(row)


def _bump_counter(conn: Connection, name: str) -> int:
    # Atomic on SQLite: the transaction already holds the write lock (BEGIN IMMEDIATE).
    stmt = (
        update(counters)
        .where(counters.c.name == name)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    )
    value = conn.execute(stmt).scalar_one_or_none()
    if value is None:
        raise StoreError(f"counter {name!r} is missing: the schema was not migrated")
    return int(value)


def insert_ticket(conn: Connection, ticket: Ticket) -> None:
    values = asdict(ticket)
    values["status"] = ticket.status.value
    conn.execute(insert(tickets).values(**values))


def ticket_from_row(row: Row[Any]) -> Ticket:
    values = row._asdict()
    values["status"] = TicketStatus(values["status"])
    return Ticket(**values)
