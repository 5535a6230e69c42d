"""The call id set once in a call's task reaches log lines from its child tasks and threads."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from appliance.logsetup import JsonFormatter
from appliance.ops import logcontext


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    parent = logging.Logger("t-root")
    parent.addHandler(handler)
    logcontext.install(parent)
    logcontext.install(parent)  # idempotent
    assert len(handler.filters) == 1
    return parent, stream


async def test_call_id_flows_into_tasks_and_threads_but_not_other_calls() -> None:
    root, stream = _logger()
    child = logging.Logger("t-root.adapter")
    child.parent = root

    async def call(call_id: str) -> None:
        logcontext.enter_call(call_id)
        root.warning("in call")
        await asyncio.create_task(asyncio.sleep(0))
        await asyncio.to_thread(child.warning, "in a thread")

    await asyncio.gather(asyncio.create_task(call("a@x")), asyncio.create_task(call("b@x")))
    root.warning("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_msg = [(e["msg"], e.get("call_id")) for e in lines]
    assert sorted(by_msg[:-1]) == [("in a thread", "a@x"), ("in a thread", "b@x"),
                                   ("in call", "a@x"), ("in call", "b@x")]
    assert by_msg[-1] == ("outside", None)


def test_an_explicit_call_id_extra_wins() -> None:
    root, stream = _logger()
    logcontext.CALL_ID.set("ctx")
    try:
        root.warning("x", extra={"call_id": "explicit"})
    finally:
        logcontext.CALL_ID.set(None)
    assert json.loads(stream.getvalue())["call_id"] == "explicit"
