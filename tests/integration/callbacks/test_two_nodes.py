"""Two appliances share one PostgreSQL store: each of 20 due callbacks is claimed and dialled by
exactly one of them (SIPp counts the INVITEs per number), and a dead node's claim is retaken."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.adapters.prompt_catalog import PromptCatalog
from appliance.adapters.sip.engine import SipEngine
from appliance.adapters.sip.mediapath import default_kit
from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.records import CallbackStatus
from tests.integration.callbacks.conftest import (
    FAST,
    Rig,
    engine_config,
    human_pcap,
    listening,
    scenario,
)
from tests.support.postgres import PostgresCluster
from tests.support.postgres import pg_cluster as pg_cluster
from tests.support.sipp import Sipp

CALLS = 20
QUICK = replace(FAST, amd=False, greeting_prompts=())  # the point here is who dials, not what


@pytest.fixture
def pg_stores(pg_cluster: PostgresCluster) -> Iterator[tuple[SqlStore, SqlStore]]:
    url = pg_cluster.create_database()
    first, second = SqlStore.open(url), SqlStore.open(url)
    yield first, second
    first.close()
    second.close()


@pytest.fixture
async def second_engine() -> AsyncIterator[SipEngine]:
    eng = SipEngine(engine_config(), default_kit())
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


def _invites_per_number(messages: list[str]) -> dict[str, set[str]]:
    calls: dict[str, set[str]] = defaultdict(set)
    for message in messages:
        if message.startswith("INVITE "):
            number = re.match(r"INVITE sip:([^@]+)@", message)
            call_id = re.search(r"^Call-ID:\s*(\S+)", message, re.MULTILINE | re.IGNORECASE)
            assert number and call_id, message[:300]
            calls[number.group(1)].add(call_id.group(1))
    return calls


async def test_each_callback_is_dialled_by_exactly_one_node(
    pg_stores: tuple[SqlStore, SqlStore], engine: SipEngine, second_engine: SipEngine,
    prompts: PromptCatalog, tmp_path: Path,
) -> None:
    store_a, store_b = pg_stores
    rig = Rig(store_a, engine, prompts, tmp_path)
    rig.profile("sip:600@127.0.0.1:5999")
    numbers = [f"+569123450{n:02d}" for n in range(CALLS)]
    for number in numbers:
        rig.request(number)
    target = await listening(Sipp(scenario(tmp_path, "uas_callback_human.xml",
                                           human_pcap(tmp_path, 3.0)),
                                  tmp_path / "target", calls=CALLS))
    node_a = rig.dialler(target.port, QUICK, node="node-a", max_outbound=4)
    node_b = replace(rig, store=store_b, engine=second_engine).dialler(
        target.port, QUICK, node="node-b", max_outbound=4)
    tasks = [asyncio.create_task(node_a.run()), asyncio.create_task(node_b.run())]
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while asyncio.get_running_loop().time() < deadline:
            if all(c.closed_at for c in store_a.list_callbacks()):
                break
            await asyncio.sleep(0.3)
        await node_a.idle()
        await node_b.idle()
        done = await target.wait(30)
    finally:
        node_a.stop()
        node_b.stop()
        await asyncio.gather(*tasks)
        await target.stop()
    callbacks = store_a.list_callbacks()
    assert [c.status for c in callbacks] == [CallbackStatus.DONE] * CALLS
    invites = _invites_per_number(done.traced())
    assert sorted(invites) == sorted(numbers)
    assert all(len(call_ids) == 1 for call_ids in invites.values()), invites
    assert done.returncode == 0, done.explain()
    nodes = {c.claimed_by for c in callbacks}
    assert nodes == {"node-a", "node-b"}  # both took part
    for callback in callbacks:
        [attempt] = store_a.list_attempts(callback.id)
        assert attempt.outcome == "connected"


async def test_a_dead_nodes_claim_is_retaken_after_its_lease(
    pg_stores: tuple[SqlStore, SqlStore], engine: SipEngine, prompts: PromptCatalog,
    tmp_path: Path,
) -> None:
    store_a, store_b = pg_stores
    rig = Rig(store_a, engine, prompts, tmp_path)
    rig.profile("sip:600@127.0.0.1:5999")
    _, callback = rig.request()
    # node-a claims it and dies before dialling: its lease runs out 1 s later
    [claimed] = store_a.claim_due_callbacks(datetime.now(UTC), "node-a", limit=1,
                                            lease=timedelta(seconds=1))
    assert claimed.id == callback.id
    target = await listening(Sipp(scenario(tmp_path, "uas_callback_human.xml",
                                           human_pcap(tmp_path, 3.0)), tmp_path / "target"))
    node_b = replace(rig, store=store_b).dialler(target.port, QUICK, node="node-b")
    task = asyncio.create_task(node_b.run())
    try:
        await asyncio.sleep(0.6)
        current = store_b.get_callback(callback.id)
        assert current is not None and current.claimed_by == "node-a"  # not before the lease ends
        deadline = asyncio.get_running_loop().time() + 30
        while not (store_b.get_callback(callback.id) or claimed).closed_at:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        await node_b.idle()
        done = await target.wait(30)
    finally:
        node_b.stop()
        await task
        await target.stop()
    assert done.returncode == 0, done.explain()
    final = store_b.get_callback(callback.id)
    assert final is not None and (final.status, final.claimed_by) == (CallbackStatus.DONE, "node-b")
