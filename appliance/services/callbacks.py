"""The callback dialler: claims due callbacks from the shared store (one node each, under a lease),
dials them inside business hours within the outbound limits, records every attempt, and retries,
closes or escalates each callback as its policy says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from appliance.domain.callbacks import (
    CallbackPolicy,
    Decision,
    Strategy,
    decide,
    display_name,
    next_dial_time,
)
from appliance.domain.dialplan import mask
from appliance.domain.hours import Mode
from appliance.domain.records import (
    Callback,
    CallbackAttempt,
    CallbackStatus,
    OutboxJob,
    Ticket,
    TicketStatus,
    new_id,
)
from appliance.domain.service_profile import ServiceProfile
from appliance.errors import ApplianceError, ConfigError
from appliance.ports.clock import Clock
from appliance.ports.store import Store
from appliance.ports.telephony import TelephonyEngine
from appliance.services import metrics
from appliance.services.business import load_catalog
from appliance.services.callback_attempt import (
    AttemptPlan,
    AttemptReport,
    CallbackCall,
    PromptSource,
)
from appliance.services.intake import EXPORT_JOB
from appliance.services.integrations import load_integrations

log = logging.getLogger(__name__)

CALLBACK_FAILED_JOB = "callback_failed"
EXPORT_EVENT = "callback_finished"  # the integrations' event kind for a callback's outcome


@dataclass(frozen=True)
class DiallerSettings:
    node: str
    max_outbound: int = 4  # calls at once on this node, every service together
    poll_interval_s: float = 2.0
    lease: timedelta = timedelta(seconds=90)  # renewed while a call lasts
    caller_id: str = "desborde"  # when the service has no number of its own
    number_format: str = "{number}"  # callback number -> dial target, e.g. "sip:{number}@pbx"
    # Overrides of the policies the service profiles carry (per service, or for every service).
    default_policy: CallbackPolicy | None = None
    policies: Mapping[str, CallbackPolicy] = field(default_factory=dict)

    def policy_for(self, profile: ServiceProfile) -> CallbackPolicy:
        base = (self.policies.get(profile.name) or self.default_policy
                or profile.callback_policy)
        try:
            return replace(base, strategy=Strategy(profile.callback_strategy))
        except ValueError:
            return base


class CallbackDialler:
    def __init__(self, store: Store, engine: TelephonyEngine, clock: Clock,
                 prompts: PromptSource, settings: DiallerSettings) -> None:
        self.store, self.engine, self.clock, self.prompts = store, engine, clock, prompts
        self.settings = settings
        self.active: dict[str, tuple[str, asyncio.Task[None]]] = {}  # callback id -> service
        self._wake = asyncio.Event()
        self._stopping = False

    # -- the loop --

    async def run(self) -> None:
        log.info("callback dialler %s started (max %d calls)", self.settings.node,
                 self.settings.max_outbound)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.run_once()
                except ApplianceError as exc:
                    log.warning("callback dialler %s: %s", self.settings.node, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_s)
        finally:
            await self._abandon()
        log.info("callback dialler %s stopped", self.settings.node)

    def stop(self) -> None:
        """Claim nothing more and drop the calls in flight; their leases hand them back."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def _abandon(self) -> None:
        tasks = [task for _, task in self.active.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until no attempt is in flight (tests, orderly shutdown)."""
        while self.active:
            await asyncio.gather(*(t for _, t in list(self.active.values())),
                                 return_exceptions=True)

    async def run_once(self) -> int:
        """Claim what may be dialled now and start it; returns how many attempts started."""
        free = self.settings.max_outbound - len(self.active)
        if free <= 0:
            return 0
        now = self.clock.now()
        catalog = await asyncio.to_thread(load_catalog, self.store)
        claimed = await asyncio.to_thread(self.store.claim_due_callbacks, now,
                                          self.settings.node, limit=free,
                                          lease=self.settings.lease)
        started = 0
        for callback in claimed:
            profile = catalog.profiles.get(callback.service)
            if await self._admit(callback, profile, now):
                assert profile is not None
                self._start(callback, profile)
                started += 1
        return started

    async def _admit(self, callback: Callback, profile: ServiceProfile | None, now: datetime) -> bool:
        """Whether to dial a claimed callback now; otherwise hand it back for later."""
        if profile is None:
            log.error("callback %s: service %s no longer exists", callback.id, callback.service)
            await self._close(callback, CallbackStatus.CANCELLED, now)
            return False
        policy = self.settings.policy_for(profile)
        when = next_dial_time(profile.calendar, now)
        if when is None:
            log.warning("callback %s: %s never opens again", callback.id, profile.name)
            await self._close(callback, CallbackStatus.NOT_REACHED, now)
            return False
        if when > now:
            return not await self._release(callback, when, "outside callback hours")
        busy = sum(1 for service, _ in self.active.values() if service == profile.name)
        if busy >= policy.max_outbound:
            retry = now + timedelta(seconds=self.settings.poll_interval_s)
            return not await self._release(callback, retry, "service at its outbound limit")
        if not profile.callback_target:
            retry = now + timedelta(minutes=5)
            return not await self._release(callback, retry, "service has no callback target")
        return True

    async def _release(self, callback: Callback, at: datetime, why: str) -> bool:
        log.info("callback %s: %s, due again %s", callback.id, why, at.isoformat())
        await asyncio.to_thread(self.store.finish_callback, callback.id, self.settings.node,
                                status=CallbackStatus.OPEN, now=self.clock.now(), retry_at=at)
        return True

    async def _close(self, callback: Callback, status: CallbackStatus, now: datetime) -> bool:
        return await asyncio.to_thread(self.store.finish_callback, callback.id,
                                       self.settings.node, status=status, now=now)

    def _start(self, callback: Callback, profile: ServiceProfile) -> None:
        task = asyncio.create_task(self._attempt(callback, profile), name=f"cb-{callback.id}")
        self.active[callback.id] = (profile.name, task)
        task.add_done_callback(lambda _t: self._done(callback.id))

    def _done(self, callback_id: str) -> None:
        self.active.pop(callback_id, None)
        self._wake.set()  # a line is free: look for the next callback now

    # -- one attempt --

    async def _attempt(self, callback: Callback, profile: ServiceProfile) -> None:
        policy = self.settings.policy_for(profile)
        ticket = (await asyncio.to_thread(self.store.get_ticket, callback.ticket_id)
                  if callback.ticket_id else None)
        plan = self._plan(callback, profile, policy, ticket)
        started = self.clock.now()
        log.info("callback %s: attempt %d to %s (%s)", callback.id, callback.attempts + 1,
                 mask(callback.number), policy.strategy.value)
        keeper = asyncio.create_task(self._keep_lease(callback.id))
        try:
            report = await CallbackCall(self.engine, self.prompts, plan).run()
        finally:
            keeper.cancel()
        ended = self.clock.now()
        await asyncio.to_thread(self.store.record_attempt,
                                _attempt_record(callback.id, report, started, ended))
        metrics.record_callback_attempt(report.outcome.value)
        decision = decide(report.outcome, callback.attempts + 1, policy, profile.calendar, ended)
        log.info("callback %s: attempt %d %s -> %s", callback.id, callback.attempts + 1,
                 report.outcome.value, _describe(decision))
        await self._settle(callback, profile, ticket, decision, report, ended)

    def _plan(self, callback: Callback, profile: ServiceProfile, policy: CallbackPolicy,
              ticket: Ticket | None) -> AttemptPlan:
        number = ticket.number if ticket else ""
        types = profile.plan().ticket.request_types
        request = ticket.request_type if ticket else None
        digit = str(types.index(request) + 1) if request in types else None
        return AttemptPlan(
            callback_id=callback.id, service=profile.name, language=profile.default_language,
            customer=self.settings.number_format.format(number=callback.number),
            agent_target=profile.callback_target,
            caller_id=profile.numbers[0] if profile.numbers else self.settings.caller_id,
            customer_display=profile.name,
            agent_display=display_name(number or "-", request or profile.name),
            ticket_digits=number, request_digit=digit, policy=policy)

    async def _keep_lease(self, callback_id: str) -> None:
        period = self.settings.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            until = self.clock.now() + self.settings.lease
            try:
                kept = await asyncio.to_thread(self.store.renew_callback_lease, callback_id,
                                               self.settings.node, until)
            except ApplianceError as exc:
                log.warning("callback %s: lease not renewed: %s", callback_id, exc)
                continue
            if not kept:
                log.error("callback %s: claim lost while dialling", callback_id)
                return

    async def _settle(self, callback: Callback, profile: ServiceProfile, ticket: Ticket | None,
                      decision: Decision, report: AttemptReport, now: datetime) -> None:
        store, node = self.store, self.settings.node
        if not decision.close:
            await asyncio.to_thread(store.finish_callback, callback.id, node,
                                    status=CallbackStatus.OPEN, now=now,
                                    retry_at=decision.retry_at)
            return
        status = CallbackStatus.DONE if decision.reached else CallbackStatus.NOT_REACHED
        if not await self._close(callback, status, now):
            log.warning("callback %s: claim lost before closing", callback.id)
            return
        if ticket is not None:
            closed = TicketStatus.CLOSED if decision.reached else TicketStatus.NOT_REACHED
            await asyncio.to_thread(store.set_ticket_status, ticket.id, closed)
        targets = await asyncio.to_thread(_export_targets, store)
        jobs = self._jobs(callback, profile, ticket, status, report, now, targets)
        if jobs:
            await asyncio.to_thread(store.enqueue, jobs)

    def _jobs(self, callback: Callback, profile: ServiceProfile, ticket: Ticket | None,
              status: CallbackStatus, report: AttemptReport, now: datetime,
              targets: list[str]) -> list[OutboxJob]:
        jobs: list[OutboxJob] = []
        if status is CallbackStatus.NOT_REACHED:
            mail: dict[str, Any] = {"callback_id": callback.id,
                                    "language": profile.default_language,
                                    "to": list(profile.destinations.for_mode(Mode.BUSINESS))}
            jobs.append(_job(CALLBACK_FAILED_JOB, mail, now, f"callback_failed:{callback.id}"))
        fields = _export_fields(callback, ticket, status, report)
        for target in targets:
            payload = {"target": target, "event_kind": EXPORT_EVENT, "callback_id": callback.id,
                       "fields": fields}
            jobs.append(_job(EXPORT_JOB, payload, now, f"{target}:callback:{callback.id}"))
        return jobs


def _attempt_record(callback_id: str, report: AttemptReport, started: datetime,
                    ended: datetime) -> CallbackAttempt:
    detail = dict(report.detail)
    if report.customer_leg:
        detail["customer_leg"] = report.customer_leg
    return CallbackAttempt(
        callback_id=callback_id, started_at=started, outcome=report.outcome.value,
        ended_at=ended, amd_verdict=report.amd_verdict, agent_leg=report.agent_leg,
        duration_s=round((ended - started).total_seconds(), 2), detail=detail)


def _export_fields(callback: Callback, ticket: Ticket | None, status: CallbackStatus,
                   report: AttemptReport) -> dict[str, Any]:
    return {"kind": EXPORT_EVENT, "ticket": ticket.number if ticket else None,
            "callback_number": callback.number, "service": callback.service,
            "outcome": status.value if status is CallbackStatus.NOT_REACHED
            else report.outcome.value,
            "attempts": callback.attempts + 1, "created_at": callback.created_at.isoformat(),
            "scheduled_for": callback.slot_start.isoformat() if callback.slot_start else None,
            "request_type": ticket.request_type if ticket else None}


def _export_targets(store: Store) -> list[str]:
    try:
        return load_integrations(store).targets_for(EXPORT_EVENT)
    except ConfigError as exc:  # a broken integrations document must not block the dialler
        log.error("stored integrations unusable, callback outcome not exported: %s", exc)
        return []


def _job(kind: str, payload: dict[str, Any], now: datetime, dedup: str) -> OutboxJob:
    return OutboxJob(id=new_id(), kind=kind, payload=payload, due_at=now, created_at=now,
                     updated_at=now, dedup_key=dedup)


def _describe(decision: Decision) -> str:
    if decision.close:
        return "done" if decision.reached else "not reached"
    assert decision.retry_at is not None
    return f"retry at {decision.retry_at.isoformat()}"
