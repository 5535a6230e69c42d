"""The call flow: feeds a leg's events into the menu state machine and performs its effects.

One `CallSession` per inbound call. Everything the caller does becomes a domain event on one queue
(digits, prompt ends, timers, recordings, transfer and store results); `step` answers with
effects, performed here. Store writes run in threads; nothing here knows SIP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from appliance.domain import menu
from appliance.domain.callbacks import SlotPolicy
from appliance.domain.menu_model import (
    CallAnswered,
    CallerHungUp,
    CancelTimer,
    CreateTicket,
    Digit,
    Effect,
    EndCall,
    Event,
    MessageSaved,
    NoInputTimeout,
    Play,
    PromptFinished,
    RecordEvent,
    RecordingFailed,
    RecordingStopped,
    SaveMessage,
    StartRecording,
    StartTimer,
    StopPlayback,
    StopReason,
    TicketCreated,
    TicketFailed,
    Transfer,
    TransferFailed,
    TransferSucceeded,
)
from appliance.domain.records import Call
from appliance.domain.service_profile import ServiceProfile, select_service
from appliance.errors import ApplianceError
from appliance.ops import logcontext
from appliance.ports import telephony as tel
from appliance.ports.clock import Clock
from appliance.ports.store import Store
from appliance.services.business import load_catalog
from appliance.services.call_journal import CallJournal
from appliance.services.callback_requests import offered_slots
from appliance.services.intake import Intake, MessageFacts, PendingRecording, TicketRequest
from appliance.services.metrics import record_call

log = logging.getLogger(__name__)

_STOP_REASONS = {"digit": StopReason.HASH, "silence": StopReason.SILENCE,
                 "max_length": StopReason.MAX_LENGTH, "hangup": StopReason.HANGUP}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PromptSource(Protocol):
    def frames(self, service: str, language: str, names: tuple[str, ...]) -> list[bytes]: ...


class CallFlow:
    """The call handler the telephony engine calls for every inbound call."""

    def __init__(self, store: Store, intake: Intake, clock: Clock, prompts: PromptSource,
                 recordings_dir: Path, node: str) -> None:
        self.store, self.intake, self.clock, self.prompts = store, intake, clock, prompts
        self.recordings_dir, self.node = recordings_dir, node

    async def handle(self, leg: tel.CallLeg) -> None:
        catalog = await asyncio.to_thread(load_catalog, self.store)
        profile = select_service(catalog.profiles, leg.dialled, leg.diversion)
        await CallSession(self, leg, profile).run()

    def recording_path(self, call_id: str, at: datetime, n: int) -> Path:
        return self.recordings_dir / at.strftime("%Y/%m/%d") / f"{_UNSAFE.sub('_', call_id)}-{n}.wav"


class CallSession:
    def __init__(self, flow: CallFlow, leg: tel.CallLeg, profile: ServiceProfile) -> None:
        self.flow, self.leg, self.profile = flow, leg, profile
        self.started = flow.clock.now()
        self.mode = profile.calendar.mode_at(self.started)
        self.plan = profile.plan()
        self.state = menu.initial_state()
        # None only wakes the loop up (a task or the event pump finished) to re-check _done.
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.journal = CallJournal(flow.store, leg.call_id, flow.clock)
        self.play_ids: deque[int] = deque()
        self.timer: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.recordings = 0
        self.pending: PendingRecording | None = None
        self.sidecar: asyncio.Task[None] | None = None
        self.recorded: tel.RecordingStopped | None = None
        self.leg_open = True

    async def run(self) -> None:
        logcontext.enter_call(self.leg.call_id)  # every log line of this call carries its id
        call = Call(id=self.leg.call_id, service=self.profile.name, caller=self.leg.caller,
                    dialled=self.leg.dialled, mode=self.mode.value, language=self.plan.language,
                    started_at=self.started, node=self.flow.node)
        await asyncio.to_thread(self.flow.store.start_call, call)
        log.info("%s call from %s for %s in %s mode", call.id, _masked(call.caller),
                 self.profile.name, self.mode.value)
        try:
            await self.leg.answer()
        except ApplianceError as exc:
            log.info("%s could not answer: %s", call.id, exc)
            self.journal.add("hangup", {"stage": "greeting", "before_answer": True})
            await self._finish()
            return
        pump = asyncio.create_task(self._pump(), name=f"events-{call.id}")
        slots = await asyncio.to_thread(
            offered_slots, self.flow.store, self.profile, self.started, self.plan.slot_count,
            SlotPolicy(capacity=self.profile.callback_slot_capacity))
        self.feed(self._answered(slots))
        try:
            while not self._done(pump):
                event = await self.queue.get()
                if event is not None:
                    self.feed(event)
        finally:
            pump.cancel()
            for task in [*self.tasks, *([self.timer] if self.timer else [])]:
                task.cancel()
            if self.leg_open:
                with contextlib.suppress(ApplianceError):
                    await self.leg.hangup()
            await self._finish()

    def _done(self, pump: asyncio.Task[None]) -> bool:
        if not self.queue.empty():
            return False
        if pump.done() and not self.state.ended:
            self.queue.put_nowait(CallerHungUp())
            return False
        return self.state.ended and not self.tasks and pump.done()

    def _answered(self, slots: tuple[datetime, ...]) -> CallAnswered:
        now, incident = self.started, self.profile.incident
        return CallAnswered(now=now, mode=self.mode, caller=self.leg.caller,
                            incident=incident.prompt if incident.playing_at(now) else None,
                            slots=slots)

    async def _finish(self) -> None:
        outcome = await self.journal.close()
        record_call(outcome, self.started, self.journal.events)
        await asyncio.to_thread(self.flow.store.finish_call, self.leg.call_id,
                                ended_at=self.flow.clock.now(), outcome=outcome)
        log.info("%s ended: %s", self.leg.call_id, outcome)

    async def _pump(self) -> None:
        async for event in self.leg.events():
            mapped = self._translate(event)
            if mapped is not None:
                self.queue.put_nowait(mapped)
        self.leg_open = False
        self.queue.put_nowait(None)

    def _translate(self, event: tel.LegEvent) -> Event | None:
        if isinstance(event, tel.DigitReceived):
            return Digit(event.digit)
        if isinstance(event, tel.PlaybackFinished):
            return PromptFinished(self.play_ids.popleft() if self.play_ids else -1)
        if isinstance(event, tel.RecordingStopped):
            self.recorded = event
            if event.reason == "error":
                return RecordingFailed("the recording could not be written")
            silent = bool(getattr(event.info, "silent", False))
            return RecordingStopped(_STOP_REASONS[event.reason], event.seconds, silent)
        self.leg_open = False
        return CallerHungUp()

    def feed(self, event: Event) -> None:
        self.state, effects = menu.step(self.state, event, self.plan)
        for effect in effects:
            self.perform(effect)

    def perform(self, effect: Effect) -> None:
        handler = _HANDLERS.get(type(effect))
        if handler is None:
            raise TypeError(f"no handler for effect {effect!r}")
        handler(self, effect)

    # -- effects --

    def _play(self, effect: Play) -> None:
        frames = self.flow.prompts.frames(self.profile.name, effect.language, effect.prompts)
        self.play_ids.append(effect.play_id)
        self.leg.play(frames, barge_in=effect.barge_in)

    def _stop_playback(self, _: StopPlayback) -> None:
        self.leg.stop_playback()

    def _start_timer(self, effect: StartTimer) -> None:
        self._cancel_timer(CancelTimer())

        async def fire() -> None:
            await asyncio.sleep(effect.seconds)
            self.queue.put_nowait(NoInputTimeout(effect.timer_id))

        self.timer = asyncio.create_task(fire())

    def _cancel_timer(self, _: CancelTimer) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _start_recording(self, effect: StartRecording) -> None:
        self.recordings += 1
        now = self.flow.clock.now()
        path = self.flow.recording_path(self.leg.call_id, now, self.recordings)
        self.pending = PendingRecording(
            call_id=self.leg.call_id, service=self.profile.name, caller=self.leg.caller,
            mode=self.mode.value, language=self.plan.language, started_at=now, path=path,
            node=self.flow.node)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.leg.start_recording(path, max_seconds=effect.max_s,
                                     silence_seconds=effect.silence_s, stop_digits=effect.stop_keys)
        except (ApplianceError, OSError) as exc:
            # Disk full or unwritable: the menu apologises and offers a ticket instead.
            log.error("%s cannot start recording %s: %s", self.leg.call_id, path, exc)
            self.pending = None
            self.queue.put_nowait(RecordingFailed(f"the recording could not be started: {exc}"))
            return
        self.sidecar = asyncio.create_task(_write_sidecar(self.pending))

    def _transfer(self, effect: Transfer) -> None:
        async def run() -> Event:
            result = await self.leg.transfer(effect.target)
            log.info("%s transfer to %s: %d %s", self.leg.call_id, effect.target, result.status,
                     result.reason)
            return TransferSucceeded() if result.ok else TransferFailed(result.status)

        self._spawn(run(), lambda exc: TransferFailed(None))

    def _save_message(self, effect: SaveMessage) -> None:
        pending, sidecar = self.pending, self.sidecar
        if pending is None:
            self.queue.put_nowait(RecordingFailed("no recording in progress"))
            return
        facts = MessageFacts(seconds=effect.seconds, too_short=effect.too_short,
                             silent=effect.silent, partial=effect.partial)

        async def run() -> Event:
            if sidecar is not None:
                await sidecar
            _, reference = await asyncio.to_thread(
                self.flow.intake.save_message, pending, facts, self.profile, self.flow.clock.now())
            return MessageSaved(reference)

        self._spawn(run(), lambda exc: RecordingFailed(f"the message could not be stored: {exc}"))

    def _create_ticket(self, effect: CreateTicket) -> None:
        now = self.flow.clock.now()
        calendar = self.profile.calendar
        due = effect.slot or (now if calendar.callbacks_allowed(now) else calendar.next_opening(now))
        request = TicketRequest(
            call_id=self.leg.call_id, service=self.profile.name, caller=effect.caller,
            callback_number=effect.callback_number, callback=effect.callback,
            request_type=effect.request_type, customer_id=effect.customer_id, slot=effect.slot,
            due_at=due)

        async def run() -> Event:
            ticket, merged = await asyncio.to_thread(self.flow.intake.create_ticket, request, now)
            scheduled = effect.callback and effect.callback_number is not None
            return TicketCreated(ticket.number, callback_scheduled=scheduled, existing=merged)

        self._spawn(run(), lambda exc: TicketFailed(str(exc)))

    def _end_call(self, _: EndCall) -> None:
        async def run() -> None:
            self.leg_open = False
            with contextlib.suppress(ApplianceError):
                await self.leg.hangup()

        self._track(asyncio.create_task(run()))

    def _record_event(self, effect: RecordEvent) -> None:
        self.journal.add(effect.kind.value, dict(effect.detail))

    # -- plumbing --

    def _spawn(self, work: Coroutine[Any, Any, Event], on_error: Any) -> None:
        async def run() -> None:
            try:
                event = await work
            except Exception as exc:
                log.exception("%s effect failed", self.leg.call_id)
                event = on_error(exc)
            self.queue.put_nowait(event)

        self._track(asyncio.create_task(run()))

    def _track(self, task: asyncio.Task[None]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self._untrack)

    def _untrack(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.queue.put_nowait(None)


_HANDLERS: Mapping[type, Any] = {
    Play: CallSession._play,
    StopPlayback: CallSession._stop_playback,
    StartTimer: CallSession._start_timer,
    CancelTimer: CallSession._cancel_timer,
    StartRecording: CallSession._start_recording,
    Transfer: CallSession._transfer,
    SaveMessage: CallSession._save_message,
    CreateTicket: CallSession._create_ticket,
    EndCall: CallSession._end_call,
    RecordEvent: CallSession._record_event,
}


async def _write_sidecar(pending: PendingRecording) -> None:
    try:
        await asyncio.to_thread(pending.write_sidecar)
    except OSError as exc:
        # Only crash recovery needs the sidecar: the message itself can still be saved.
        log.error("%s cannot write the recording sidecar: %s", pending.call_id, exc)


def _masked(number: str) -> str:
    from appliance.domain.dialplan import mask

    return mask(number)
