"""Ticket numbers come from the store and stay unique under concurrency and across nodes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import OutboxJob, Ticket, TicketStatus, new_id
from appliance.ports.store import Store, StoreConflict
from tests.integration.store.conftest import T0


def _ticket(store: Store, *, at_minutes: int = 0, service: str = "support") -> Ticket:
    seq = store.allocate_ticket_sequence()
    at = T0 + timedelta(minutes=at_minutes)
    return Ticket(
        new_id(),
        f"T{seq:06d}",
        seq,
        service,
        "+56911111111",
        at,
        callback_number="+56922222222",
        request_type="billing",
        customer_id="12.345.678-5",
    )


def test_sequence_starts_at_one_and_counts_up(store: Store) -> None:
    assert [store.allocate_ticket_sequence() for _ in range(3)] == [1, 2, 3]


def test_ticket_round_trip_with_jobs(store: Store) -> None:
    ticket = _ticket(store)
    job = OutboxJob(new_id(), "odbc", {"ticket": ticket.number}, T0, T0, T0)
    store.create_ticket(ticket, jobs=[job])
    assert store.get_ticket(ticket.id) == ticket
    assert store.get_ticket_by_number(ticket.number) == ticket
    assert store.get_job(job.id) == job
    assert store.set_ticket_status(ticket.id, TicketStatus.CLOSED)
    closed = store.get_ticket(ticket.id)
    assert closed is not None and closed.status is TicketStatus.CLOSED


def test_a_duplicate_number_is_refused_with_its_jobs(store: Store) -> None:
    ticket = _ticket(store)
    store.create_ticket(ticket)
    twin = Ticket(new_id(), ticket.number, ticket.sequence + 100, "support", "+1", T0)
    job = OutboxJob(new_id(), "odbc", {}, T0, T0, T0)
    with pytest.raises(StoreConflict):
        store.create_ticket(twin, jobs=[job])
    assert store.get_job(job.id) is None


def test_list_tickets_since_and_by_service(store: Store) -> None:
    made = [_ticket(store, at_minutes=i, service="sales" if i else "support") for i in range(4)]
    for t in made:
        store.create_ticket(t)
    assert [t.id for t in store.list_tickets()] == [t.id for t in reversed(made)]
    assert [t.id for t in store.list_tickets(since=T0 + timedelta(minutes=2))] == [
        made[3].id,
        made[2].id,
    ]
    assert [t.id for t in store.list_tickets(service="support")] == [made[0].id]
    assert len(store.list_tickets(limit=2)) == 2


def test_threads_on_one_store_never_share_a_number(store: Store) -> None:
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: store.allocate_ticket_sequence(), range(200)))
    assert sorted(numbers) == list(range(1, 201))


def test_two_appliances_allocate_200_numbers_without_a_duplicate(
    open_store: Callable[[], SqlStore],
) -> None:
    nodes = [open_store(), open_store()]

    def allocate(i: int) -> int:
        return nodes[i % 2].allocate_ticket_sequence()

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(allocate, range(200)))
    assert len(set(numbers)) == 200
    assert sorted(numbers) == list(range(1, 201))
