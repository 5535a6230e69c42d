"""Customer-first callbacks against SIPp targets: a person is greeted and transferred (or, when
the PBX refuses the REFER, bridged to the hunt group); machines, busy and no answer are retried
and finally escalated."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from appliance.domain.callbacks import AttemptOutcome, CallbackPolicy, MachineAction
from appliance.domain.records import Callback, CallbackStatus, TicketStatus
from tests.integration.callbacks.conftest import (
    FAST,
    Rig,
    caller_pcap,
    escalation_emails,
    espeak_wav,
    human_pcap,
    listening,
    run_until_closed,
    scenario,
)
from tests.support.sipp import Sipp, SippResult


async def test_person_is_greeted_and_transferred_to_the_hunt_group(rig: Rig, tmp_path: Path) -> None:
    pcap = human_pcap(tmp_path)
    customer = await listening(Sipp(scenario(tmp_path, "uas_callback_human.xml", pcap), tmp_path))
    try:
        rig.profile("sip:600@127.0.0.1:5999")
        ticket, callback = rig.request()
        closed = await run_until_closed(rig.dialler(customer.port), rig.store, callback.id)
        done = await customer.wait(30)
    finally:
        await customer.stop()
    assert done.returncode == 0, done.explain()
    assert "REFER-TO sip:600@127.0.0.1:5999" in done.log
    assert closed.status is CallbackStatus.DONE
    [attempt] = rig.store.list_attempts(callback.id)
    assert attempt.outcome == AttemptOutcome.CONNECTED
    assert attempt.amd_verdict == "HUMAN"
    assert attempt.detail["connected_by"] == "transfer"
    assert attempt.duration_s is not None and attempt.duration_s > 2.0
    stored = rig.store.get_ticket(ticket.id)
    assert stored is not None and stored.status is TicketStatus.CLOSED


async def test_refused_transfer_falls_back_to_bridging_the_hunt_group(
    rig: Rig, tmp_path: Path
) -> None:
    pcap = human_pcap(tmp_path)
    customer = await listening(
        Sipp(scenario(tmp_path, "uas_callback_human_norefer.xml", pcap), tmp_path / "customer"))
    agent = await listening(
        Sipp(scenario(tmp_path, "uas_hunt_group.xml", pcap, talk_s=3.0), tmp_path / "agent"))
    try:
        rig.profile(f"sip:600@127.0.0.1:{agent.port}")
        ticket, callback = rig.request()
        # refused REFER, hunt group dialled and bridged; the agent hangs up after 3 s
        closed = await run_until_closed(rig.dialler(customer.port), rig.store, callback.id)
        done_customer, done_agent = await customer.wait(30), await agent.wait(30)
    finally:
        await customer.stop()
        await agent.stop()
    assert closed.status is CallbackStatus.DONE
    [attempt] = rig.store.list_attempts(callback.id)
    assert attempt.outcome == AttemptOutcome.CONNECTED
    assert attempt.detail["connected_by"] == "bridge_after_refused_transfer"
    assert attempt.detail["transfer_status"] == 603
    assert attempt.agent_leg is not None
    assert done_customer.returncode == 0, done_customer.explain()
    assert f"AGENT-SEES CB {ticket.number} default" in done_agent.log


def _gaps(rig: Rig, callback_id: str) -> list[float]:
    attempts = rig.store.list_attempts(callback_id)
    return [(b.started_at - a.ended_at).total_seconds()
            for a, b in itertools.pairwise(attempts) if a.ended_at]


async def _unreached(rig: Rig, tmp_path: Path, name: str, attempts: int,
                     policy: CallbackPolicy = FAST) -> tuple[Callback, SippResult]:
    target = await listening(Sipp(scenario(tmp_path, name), tmp_path / "target", calls=attempts))
    try:
        rig.profile("sip:600@127.0.0.1:5999")
        _, callback = rig.request()
        closed = await run_until_closed(rig.dialler(target.port, policy), rig.store, callback.id,
                                        timeout=90)
        done = await target.wait(30)
    finally:
        await target.stop()
    return closed, done


async def test_busy_is_retried_then_closed_not_reached_and_staff_emailed(
    rig: Rig, tmp_path: Path
) -> None:
    closed, done = await _unreached(rig, tmp_path, "uas_callback_busy.xml", 3)
    assert done.returncode == 0, done.explain()  # 3 INVITEs, each 486 ACKed
    assert sum(m.startswith("INVITE ") for m in done.traced()) == 3
    assert closed.status is CallbackStatus.NOT_REACHED and closed.attempts == 3
    attempts = rig.store.list_attempts(closed.id)
    assert [a.outcome for a in attempts] == ["busy"] * 3
    assert all(a.detail["customer_status"] == 486 for a in attempts)
    assert all(gap >= 0.9 for gap in _gaps(rig, closed.id))  # the 1 s retry interval
    assert closed.ticket_id is not None
    ticket = rig.store.get_ticket(closed.ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.NOT_REACHED
    [mail] = await escalation_emails(rig.store, tmp_path / "mail")
    assert mail["To"] == "staff@example.com"
    assert ticket.number in str(mail["Subject"])
    text = mail.get_content()
    assert "+56912345678" in text and text.count(" busy, SIP 486") == 3


async def test_no_answer_is_cancelled_at_the_ring_timeout_and_retried(
    rig: Rig, tmp_path: Path
) -> None:
    policy = replace(FAST, ring_timeout_s=2.0,
                     retry=replace(FAST.retry, max_attempts=2))
    closed, done = await _unreached(rig, tmp_path, "uas_callback_noanswer.xml", 2, policy)
    assert done.returncode == 0, done.explain()  # each CANCEL got its 487, ACKed
    assert sum(m.startswith("CANCEL ") for m in done.traced()) == 2
    attempts = rig.store.list_attempts(closed.id)
    assert [(a.outcome, a.detail["customer_status"]) for a in attempts] == [("no_answer", 487)] * 2
    assert all(1.9 <= (a.duration_s or 0) < 5 for a in attempts)
    assert closed.status is CallbackStatus.NOT_REACHED
    [mail] = await escalation_emails(rig.store, tmp_path / "mail")
    assert mail.get_content().count(" no_answer, SIP 487") == 2


async def test_answering_machine_is_detected_never_transferred_and_retried(
    rig: Rig, tmp_path: Path
) -> None:
    policy = replace(FAST, retry=replace(FAST.retry, max_attempts=2))
    closed, done = await _unreached(rig, tmp_path, "uas_callback_machine.xml", 2, policy)
    assert done.returncode == 0, done.explain()  # we hung up: BYE, no REFER
    assert not any(m.startswith("REFER ") for m in done.traced())
    attempts = rig.store.list_attempts(closed.id)
    assert [(a.outcome, a.amd_verdict, a.agent_leg) for a in attempts] == [
        ("machine", "MACHINE", None)] * 2
    assert all((a.duration_s or 0) < 10 for a in attempts)  # decided well before the beep
    assert closed.status is CallbackStatus.NOT_REACHED
    [mail] = await escalation_emails(rig.store, tmp_path / "mail")
    assert "AMD MACHINE" in mail.get_content()


async def test_machine_gets_a_message_when_the_policy_says_so(rig: Rig, tmp_path: Path) -> None:
    policy = replace(FAST, machine_action=MachineAction.MESSAGE)
    closed, done = await _unreached(rig, tmp_path, "uas_callback_machine.xml", 1, policy)
    assert done.returncode == 0, done.explain()
    [attempt] = rig.store.list_attempts(closed.id)
    assert (attempt.outcome, attempt.amd_verdict) == ("machine_message", "MACHINE")
    assert (attempt.duration_s or 0) > 4.0  # the greeting and the ticket digits were played
    assert closed.status is CallbackStatus.DONE
    assert await escalation_emails(rig.store, tmp_path / "mail") == []


async def _confirmation(rig: Rig, tmp_path: Path, digits: tuple[tuple[float, str], ...]) -> str:
    pcap = caller_pcap(tmp_path / "confirm.pcap", 15.0,
                       speech=[(0.3, espeak_wav(tmp_path / "alo.wav", "¿Aló?"))], digits=digits)
    customer = await listening(Sipp(scenario(tmp_path, "uas_callback_human.xml", pcap), tmp_path))
    policy = replace(FAST, greeting_prompts=("digit_1",), confirm_digit="1", confirm_timeout_s=4.0,
                     retry=replace(FAST.retry, max_attempts=1))
    try:
        rig.profile("sip:600@127.0.0.1:5999")
        _, callback = rig.request()
        await run_until_closed(rig.dialler(customer.port, policy), rig.store, callback.id)
        done = await customer.wait(30)
    finally:
        await customer.stop()
    assert done.returncode == 0, done.explain()
    [attempt] = rig.store.list_attempts(callback.id)
    return attempt.outcome


async def test_press_1_confirms_the_person_before_the_transfer(rig: Rig, tmp_path: Path) -> None:
    assert await _confirmation(rig, tmp_path, ((3.5, "1"),)) == AttemptOutcome.CONNECTED


async def test_no_confirmation_is_not_connected(rig: Rig, tmp_path: Path) -> None:
    assert await _confirmation(rig, tmp_path, ((3.5, "2"),)) == AttemptOutcome.NOT_CONFIRMED
