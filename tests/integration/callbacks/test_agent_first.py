"""Agent-first callbacks: the hunt group sees "CB <ticket> <name>", hears the whisper, then the
customer is dialled and the two legs bridged, with audio crossing in both directions (captured
on the wire); a customer that is not reached releases the agent, which never gets a machine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from appliance.domain.callbacks import AttemptOutcome
from appliance.domain.records import CallbackStatus
from tests.integration.callbacks.conftest import (
    FAST,
    Rig,
    caller_pcap,
    human_pcap,
    listening,
    run_until_closed,
    scenario,
    tone_wav,
)
from tests.integration.sip.capture import Capture, decode, read_rtp
from tests.support.sipp import Sipp

AGENT_HZ, CUSTOMER_HZ = 600, 1500


def _power(block: Sequence[int], hz: int) -> float:
    # Goertzel at one frequency over a 20 ms block of 8 kHz samples
    coeff = 2 * math.cos(2 * math.pi * hz / 8000)
    s1 = s2 = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def tone_seconds(samples: Sequence[int], hz: int, other: int) -> float:
    """Seconds of 20 ms blocks where `hz` is loud and dominates `other`."""
    blocks = [samples[i : i + 160] for i in range(0, len(samples) - 159, 160)]
    loud = [b for b in blocks
            if _power(b, hz) > 1e9 and _power(b, hz) > 20 * _power(b, other)]
    return len(loud) * 0.02


async def test_agent_hears_whisper_then_customer_and_both_talk(rig: Rig, tmp_path: Path) -> None:
    agent_audio = caller_pcap(tmp_path / "agent.pcap", 40.0,
                              speech=[(2.0, tone_wav(tmp_path / "a.wav", AGENT_HZ, 30.0))])
    customer_audio = human_pcap(
        tmp_path, 30.0, extra=((3.0, tone_wav(tmp_path / "c.wav", CUSTOMER_HZ, 20.0)),))
    agent = Sipp(scenario(tmp_path, "uas_hunt_group.xml", agent_audio, talk_s=16.0),
                 tmp_path / "agent")
    customer = Sipp(scenario(tmp_path, "uas_callback_human.xml", customer_audio),
                    tmp_path / "customer")
    rig.profile(f"sip:600@127.0.0.1:{agent.port}", "agent_first")
    ticket, callback = rig.request(request_type=None)
    try:
        async with Capture(tmp_path / "to_agent.pcap", agent.media_port), \
                Capture(tmp_path / "to_customer.pcap", customer.media_port):
            await listening(agent)
            await listening(customer)
            closed = await run_until_closed(rig.dialler(customer.port), rig.store, callback.id)
        done_agent, done_customer = await agent.wait(30), await customer.wait(30)
    finally:
        await agent.stop()
        await customer.stop()
    assert done_agent.returncode == 0, done_agent.explain()  # display name checked by SIPp
    assert f"AGENT-SEES CB {ticket.number} default" in done_agent.log
    assert done_customer.returncode == 0, done_customer.explain()
    assert closed.status is CallbackStatus.DONE
    [attempt] = rig.store.list_attempts(callback.id)
    assert (attempt.outcome, attempt.amd_verdict) == (AttemptOutcome.CONNECTED, "HUMAN")
    assert attempt.agent_leg is not None and attempt.detail["connected_by"] == "bridge"

    heard_by_agent = decode(read_rtp(tmp_path / "to_agent.pcap"), 0)
    heard_by_customer = decode(read_rtp(tmp_path / "to_customer.pcap"), 0)
    assert tone_seconds(heard_by_agent, CUSTOMER_HZ, AGENT_HZ) > 3.0  # customer -> agent
    assert tone_seconds(heard_by_customer, AGENT_HZ, CUSTOMER_HZ) > 3.0  # agent -> customer
    # nothing crossed before the bridge: the agent's tone never reached the customer's greeting
    assert tone_seconds(heard_by_customer, CUSTOMER_HZ, AGENT_HZ) < 0.5


async def test_machine_is_never_handed_to_the_agent(rig: Rig, tmp_path: Path) -> None:
    agent_audio = caller_pcap(tmp_path / "agent.pcap", 40.0,
                              speech=[(0.5, tone_wav(tmp_path / "a.wav", AGENT_HZ, 30.0))])
    agent = Sipp(scenario(tmp_path, "uas_hunt_group.xml", agent_audio), tmp_path / "agent")
    machine = Sipp(scenario(tmp_path, "uas_callback_machine.xml"), tmp_path / "machine")
    rig.profile(f"sip:600@127.0.0.1:{agent.port}", "agent_first")
    _, callback = rig.request()
    policy = replace(FAST, retry=replace(FAST.retry, max_attempts=1))
    try:
        async with Capture(tmp_path / "to_machine.pcap", machine.media_port):
            await listening(agent)
            await listening(machine)
            closed = await run_until_closed(rig.dialler(machine.port, policy), rig.store,
                                            callback.id)
        done_agent, done_machine = await agent.wait(30), await machine.wait(30)
    finally:
        await agent.stop()
        await machine.stop()
    assert done_agent.returncode == 0, done_agent.explain()  # released by our BYE
    assert done_machine.returncode == 0, done_machine.explain()
    [attempt] = rig.store.list_attempts(callback.id)
    assert (attempt.outcome, attempt.amd_verdict) == ("machine", "MACHINE")
    assert attempt.agent_leg is not None and "connected_by" not in attempt.detail
    assert closed.status is CallbackStatus.NOT_REACHED
    heard_by_machine = decode(read_rtp(tmp_path / "to_machine.pcap"), 0)
    assert len(heard_by_machine) > 8000  # media flowed: the check below means something
    assert tone_seconds(heard_by_machine, AGENT_HZ, CUSTOMER_HZ) == 0.0


async def test_busy_customer_releases_the_agent(rig: Rig, tmp_path: Path) -> None:
    agent = Sipp(scenario(tmp_path, "uas_hunt_group.xml", human_pcap(tmp_path)),
                 tmp_path / "agent")
    customer = Sipp(scenario(tmp_path, "uas_callback_busy.xml"), tmp_path / "customer")
    rig.profile(f"sip:600@127.0.0.1:{agent.port}", "agent_first")
    _, callback = rig.request()
    policy = replace(FAST, retry=replace(FAST.retry, max_attempts=1))
    try:
        await listening(agent)
        await listening(customer)
        closed = await run_until_closed(rig.dialler(customer.port, policy), rig.store,
                                        callback.id)
        done_agent = await agent.wait(30)
    finally:
        await agent.stop()
        await customer.stop()
    assert done_agent.returncode == 0, done_agent.explain()
    [attempt] = rig.store.list_attempts(callback.id)
    assert attempt.outcome == "busy" and attempt.detail["customer_status"] == 486
    assert attempt.agent_leg is not None
    assert closed.status is CallbackStatus.NOT_REACHED
