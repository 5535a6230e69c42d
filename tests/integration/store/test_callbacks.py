"""Callbacks: repeated requests merge, one node dials at a time, and stale claims are fenced."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import (
    Callback,
    CallbackAttempt,
    CallbackStatus,
    OutboxJob,
    Ticket,
    new_id,
)
from appliance.ports.store import Store
from tests.integration.store.conftest import T0

LEASE = timedelta(minutes=5)


def _callback(
    number: str = "+56922222222",
    *,
    service: str = "support",
    due_minutes: int = 0,
    ticket_id: str | None = None,
) -> Callback:
    return Callback(new_id(), ticket_id, service, number, T0 + timedelta(minutes=due_minutes), T0)


def _ticket(store: Store) -> Ticket:
    seq = store.allocate_ticket_sequence()
    return Ticket(new_id(), f"T{seq}", seq, "support", "+56922222222", T0)


def test_a_repeated_request_merges_into_the_open_callback(store: Store) -> None:
    ticket = _ticket(store)
    first = _callback(ticket_id=ticket.id)
    job = OutboxJob(new_id(), "email", {}, T0, T0, T0)
    assert store.create_or_merge_callback(first, ticket=ticket, jobs=[job]) == (first, False)
    assert store.get_ticket(ticket.id) == ticket and store.get_job(job.id) == job

    again_ticket = _ticket(store)
    again = _callback(ticket_id=again_ticket.id)
    merged, was_merged = store.create_or_merge_callback(again, ticket=again_ticket)
    assert was_merged and merged == first
    assert store.get_ticket(again_ticket.id) is None  # the caller is told the first ticket


def test_other_services_and_closed_callbacks_do_not_merge(store: Store) -> None:
    first = _callback()
    store.create_or_merge_callback(first)
    assert store.create_or_merge_callback(_callback(service="sales"))[1] is False
    assert store.cancel_callback(first.id, now=T0)
    fresh = _callback()
    assert store.create_or_merge_callback(fresh) == (fresh, False)
    assert not store.cancel_callback(first.id, now=T0)


def test_claim_due_in_order_and_only_once(store: Store) -> None:
    late, early, future = (
        _callback("+1", due_minutes=2),
        _callback("+2"),
        _callback("+3", due_minutes=60),
    )
    for cb in (late, early, future):
        store.create_or_merge_callback(cb)
    now = T0 + timedelta(minutes=5)
    claimed = store.claim_due_callbacks(now, "node-a", limit=10, lease=LEASE)
    assert [c.id for c in claimed] == [early.id, late.id]
    assert all(c.status is CallbackStatus.DIALLING and c.claimed_by == "node-a" for c in claimed)
    assert claimed[0].lease_until == now + LEASE
    assert store.claim_due_callbacks(now, "node-b", limit=10, lease=LEASE) == []


def test_an_expired_claim_is_retaken_and_the_old_node_is_fenced(store: Store) -> None:
    cb = _callback()
    store.create_or_merge_callback(cb)
    store.claim_due_callbacks(T0, "node-a", limit=1, lease=LEASE)
    later = T0 + LEASE + timedelta(seconds=1)
    [retaken] = store.claim_due_callbacks(later, "node-b", limit=1, lease=LEASE)
    assert retaken.claimed_by == "node-b"
    assert not store.finish_callback(cb.id, "node-a", status=CallbackStatus.DONE, now=later)
    assert store.finish_callback(cb.id, "node-b", status=CallbackStatus.DONE, now=later)
    done = store.get_callback(cb.id)
    assert done is not None and done.status is CallbackStatus.DONE and done.closed_at == later


def test_attempts_are_recorded_and_a_retry_reopens(store: Store) -> None:
    cb = _callback()
    store.create_or_merge_callback(cb)
    store.claim_due_callbacks(T0, "node-a", limit=1, lease=LEASE)
    attempt = CallbackAttempt(
        cb.id,
        T0,
        "busy",
        ended_at=T0 + timedelta(seconds=4),
        amd_verdict=None,
        agent_leg="sip:600@pbx",
        duration_s=4.0,
        detail={"sip": 486},
    )
    store.record_attempt(attempt)
    retry_at = T0 + timedelta(minutes=15)
    with pytest.raises(ValueError):
        store.finish_callback(cb.id, "node-a", status=CallbackStatus.OPEN, now=T0)
    assert store.finish_callback(
        cb.id, "node-a", status=CallbackStatus.OPEN, now=T0, retry_at=retry_at
    )
    reopened = store.get_callback(cb.id)
    assert reopened is not None
    assert (reopened.status, reopened.due_at, reopened.attempts) == (
        CallbackStatus.OPEN,
        retry_at,
        1,
    )
    assert store.list_attempts(cb.id) == [attempt]
    assert store.claim_due_callbacks(T0 + timedelta(minutes=1), "n", limit=1, lease=LEASE) == []
    assert [c.id for c in store.list_callbacks(status=CallbackStatus.OPEN)] == [cb.id]


def test_concurrent_requests_from_two_nodes_make_one_callback(
    open_store: Callable[[], SqlStore],
) -> None:
    nodes = [open_store(), open_store()]

    def request(i: int) -> tuple[Callback, bool]:
        return nodes[i % 2].create_or_merge_callback(replace(_callback(), id=new_id()))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(request, range(40)))
    assert sum(1 for _, merged in results if not merged) == 1
    assert len({cb.id for cb, _ in results}) == 1
    assert len(nodes[0].list_callbacks()) == 1


def test_a_renewed_callback_lease_is_not_retaken(store: Store) -> None:
    cb = _callback()
    store.create_or_merge_callback(cb)
    store.claim_due_callbacks(T0, "node-a", limit=1, lease=LEASE)
    assert store.renew_callback_lease(cb.id, "node-a", T0 + 3 * LEASE)
    assert not store.renew_callback_lease(cb.id, "node-b", T0 + 9 * LEASE)
    assert store.claim_due_callbacks(T0 + 2 * LEASE, "node-b", limit=1, lease=LEASE) == []


def test_two_nodes_claim_every_due_callback_exactly_once(
    open_store: Callable[[], SqlStore],
) -> None:
    nodes = [open_store(), open_store()]
    for i in range(60):
        nodes[0].create_or_merge_callback(_callback(f"+5692000{i:04d}", due_minutes=i % 5))
    now = T0 + timedelta(minutes=10)
    start = threading.Barrier(4)

    def drain(i: int) -> list[str]:
        taken: list[str] = []
        start.wait(timeout=10)
        while batch := nodes[i % 2].claim_due_callbacks(now, f"n{i}", limit=2, lease=LEASE):
            taken += [cb.id for cb in batch]
        return taken

    with ThreadPoolExecutor(4) as pool:
        taken = [cb_id for ids in pool.map(drain, range(4)) for cb_id in ids]
    assert len(taken) == 60 and len(set(taken)) == 60
