"""One callback attempt on the telephony port: the agent-first and customer-first strategies,
answering-machine detection on the customer leg, and the report the dialler records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from appliance.domain.amd import AmdDetector, Verdict
from appliance.domain.callbacks import (
    AttemptOutcome,
    CallbackPolicy,
    Strategy,
    unanswered_outcome,
)
from appliance.domain.dialplan import mask
from appliance.errors import ApplianceError
from appliance.ports import telephony as tel

log = logging.getLogger(__name__)

# AMD gets its analysis time plus this before we stop waiting for a verdict.
_AMD_GRACE_S = 1.0


class PromptSource(Protocol):
    def frames(self, service: str, language: str, names: tuple[str, ...]) -> list[bytes]: ...


@dataclass(frozen=True)
class AttemptPlan:
    """Everything one attempt needs, resolved by the dialler."""

    callback_id: str
    service: str
    language: str
    customer: str  # dial target for the customer (number or sip: URI)
    agent_target: str  # hunt group URI
    caller_id: str
    customer_display: str  # what the customer's phone shows: the service's name
    agent_display: str  # "CB <ticket> <name>"
    ticket_digits: str
    request_digit: str | None  # request type as its menu digit, for the whisper
    policy: CallbackPolicy


@dataclass
class AttemptReport:
    outcome: AttemptOutcome = AttemptOutcome.FAILED
    amd_verdict: str | None = None
    agent_leg: str | None = None
    customer_leg: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class CallbackCall:
    """Runs one attempt to the end and reports it; every leg it opened is hung up when it returns."""

    def __init__(self, engine: tel.TelephonyEngine, prompts: PromptSource, plan: AttemptPlan) -> None:
        self.engine, self.prompts, self.plan = engine, prompts, plan
        self.report = AttemptReport()
        self._legs: list[Watched] = []

    async def run(self) -> AttemptReport:
        try:
            if self.plan.policy.strategy is Strategy.AGENT_FIRST:
                await self._agent_first()
            else:
                await self._customer_first()
        except ApplianceError as exc:
            log.warning("callback %s attempt failed: %s", self.plan.callback_id, exc)
            self.report.outcome = AttemptOutcome.FAILED
            self.report.detail["error"] = f"{exc.error_id}: {exc}"
        finally:
            for watched in self._legs:
                with contextlib.suppress(ApplianceError):
                    await watched.leg.hangup()
                watched.close()
        return self.report

    # -- strategies --

    async def _customer_first(self) -> None:
        customer = await self._dial_customer()
        if customer is None or not await self._human_on(customer):
            return
        await self._play(customer, self.plan.policy.greeting_prompts)
        if not await self._confirmed(customer):
            return
        result = await customer.leg.transfer(self.plan.agent_target,
                                             timeout=self.plan.policy.transfer_timeout_s)
        self.report.detail["transfer_status"] = result.status
        if result.ok:
            self.report.outcome = AttemptOutcome.CONNECTED
            self.report.detail["connected_by"] = "transfer"
            return
        log.info("callback %s: REFER refused (%d), dialling the hunt group to bridge",
                 self.plan.callback_id, result.status)
        agent = await self._dial_agent()
        if customer.ended.is_set():
            self.report.outcome = AttemptOutcome.HUNG_UP
        elif agent is not None:
            await self._connect(agent, customer, "bridge_after_refused_transfer")

    async def _agent_first(self) -> None:
        agent = await self._dial_agent()
        if agent is None:
            return
        policy = self.plan.policy
        if policy.whisper:
            await self._play(agent, self._whisper())
        if agent.ended.is_set():
            self.report.outcome = AttemptOutcome.AGENT_UNAVAILABLE
            return
        customer = await self._dial_customer()
        if (customer is not None and await self._human_on(customer)
                and await self._confirmed(customer)):
            if not agent.ended.is_set():
                await self._connect(agent, customer, "bridge")
                return
            self.report.outcome = AttemptOutcome.AGENT_UNAVAILABLE
        # The customer was not reached: tell the agent before releasing it.
        await self._play(agent, policy.agent_notice_prompts)

    # -- legs --

    async def _dial_customer(self) -> Watched | None:
        p = self.plan
        result = await self.engine.dial(p.customer, caller_id=p.caller_id,
                                        display_name=p.customer_display,
                                        ring_timeout=p.policy.ring_timeout_s)
        self.report.detail["customer_status"] = result.status
        if result.leg is None:
            self.report.outcome = unanswered_outcome(result.outcome)
            log.info("callback %s: customer %s %s", p.callback_id, mask(p.customer),
                     result.outcome)
            return None
        self.report.customer_leg = result.leg.call_id
        return self._watch(result.leg)

    async def _dial_agent(self) -> Watched | None:
        p = self.plan
        result = await self.engine.dial(p.agent_target, caller_id=p.caller_id,
                                        display_name=p.agent_display,
                                        ring_timeout=p.policy.agent_ring_timeout_s)
        self.report.detail["agent_status"] = result.status
        if result.leg is None:
            self.report.outcome = AttemptOutcome.AGENT_UNAVAILABLE
            log.info("callback %s: hunt group %s", p.callback_id, result.outcome)
            return None
        self.report.agent_leg = result.leg.call_id
        return self._watch(result.leg)

    def _watch(self, leg: tel.CallLeg) -> Watched:
        watched = Watched(leg)
        self._legs.append(watched)
        return watched

    async def _human_on(self, customer: Watched) -> bool:
        """AMD on the answered customer; a machine gets the message or is released."""
        policy = self.plan.policy
        verdict = await detect(customer, policy) if policy.amd else None
        self.report.amd_verdict = verdict.value if verdict else None
        if customer.ended.is_set():
            self.report.outcome = AttemptOutcome.HUNG_UP
            return False
        if policy.is_human(verdict):
            return True
        log.info("callback %s: answering machine", self.plan.callback_id)
        self.report.outcome = policy.machine_outcome()
        if self.report.outcome is AttemptOutcome.MACHINE_MESSAGE:
            await self._play(customer, (*policy.machine_prompts, *_digits(self.plan.ticket_digits)))
        return False

    async def _confirmed(self, customer: Watched) -> bool:
        digit = self.plan.policy.confirm_digit
        if digit is None:
            return True
        got = await customer.wait_for(
            lambda e: isinstance(e, tel.DigitReceived) and e.digit == digit,
            self.plan.policy.confirm_timeout_s)
        if not got:
            self.report.outcome = (AttemptOutcome.HUNG_UP if customer.ended.is_set()
                                   else AttemptOutcome.NOT_CONFIRMED)
        return got

    async def _connect(self, agent: Watched, customer: Watched, how: str) -> None:
        self.report.outcome = AttemptOutcome.CONNECTED
        self.report.detail["connected_by"] = how
        log.info("callback %s: bridging agent %s and the customer", self.plan.callback_id,
                 agent.leg.call_id)
        await agent.leg.bridge(customer.leg)

    async def _play(self, watched: Watched, names: tuple[str, ...]) -> None:
        """Play prompts and wait until they end or the leg hangs up."""
        if not names or watched.ended.is_set():
            return
        frames = self.prompts.frames(self.plan.service, self.plan.language, names)
        done = asyncio.ensure_future(watched.wait_for(
            lambda e: isinstance(e, tel.PlaybackFinished)))
        await asyncio.sleep(0)  # registered before play() can emit
        watched.leg.play(frames, barge_in=False)
        await done

    def _whisper(self) -> tuple[str, ...]:
        p = self.plan
        request = _digits(p.request_digit) if p.request_digit else ()
        return (p.policy.whisper_prompt, *_digits(p.ticket_digits), *request)


async def detect(customer: Watched, policy: CallbackPolicy) -> Verdict:
    """Feed the customer's audio, frame by frame, to app_amd's rules until they decide."""
    detector = AmdDetector(policy.amd_settings)
    decided: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()

    def sink(pcm: bytes | None) -> None:
        if decided.done():
            return
        verdict = detector.feed(memoryview(pcm).cast("h") if pcm is not None else None)
        if verdict is not None:
            decided.set_result(verdict)

    customer.leg.listen(sink)
    limit = policy.amd_settings.total_analysis_ms / 1000 + _AMD_GRACE_S
    ended = asyncio.ensure_future(customer.ended.wait())
    waiters: set[asyncio.Future[Any]] = {decided, ended}
    try:
        done, _ = await asyncio.wait(waiters, timeout=limit,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        ended.cancel()
        if not customer.ended.is_set():
            with contextlib.suppress(ApplianceError):
                customer.leg.listen(None)
    return decided.result() if decided in done else Verdict.NOTSURE


def _digits(text: str) -> tuple[str, ...]:
    return tuple(f"digit_{d}" for d in text if d.isdigit())


class Watched:
    """One reader of a leg's events (the port allows only one) that wakes whoever waits."""

    def __init__(self, leg: tel.CallLeg) -> None:
        self.leg = leg
        self.ended = asyncio.Event()
        self._waiters: list[tuple[Callable[[tel.LegEvent], bool], asyncio.Future[bool]]] = []
        self._task = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        try:
            async for event in self.leg.events():
                for wanted, future in list(self._waiters):
                    if wanted(event) and not future.done():
                        future.set_result(True)
                if isinstance(event, tel.RemoteHangup):
                    break
        finally:
            self.ended.set()
            for _, future in self._waiters:
                if not future.done():
                    future.set_result(False)

    async def wait_for(
        self, wanted: Callable[[tel.LegEvent], bool], timeout: float | None = None
    ) -> bool:
        """True once an event `wanted` accepts arrives; False on hangup or timeout."""
        if self.ended.is_set():
            return False
        entry = (wanted, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(entry[1], timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.remove(entry)

    def close(self) -> None:
        self._task.cancel()
