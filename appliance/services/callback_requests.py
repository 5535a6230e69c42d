"""Callback requests from a website or app (the JSON API): API keys, a rate limit per key, and the
phone menu's rules — toll-fraud guard, request types, slot capacity, one open callback per number
per service (a repeat merges and answers with the existing ticket). Blocking: run in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime

from appliance.domain.callbacks import SlotPolicy, next_dial_time
from appliance.domain.dialplan import mask
from appliance.domain.records import ApiKey, CallbackStatus, new_id
from appliance.domain.service_profile import ServiceProfile
from appliance.errors import ApplianceError
from appliance.ports.store import Store
from appliance.services.business import load_catalog
from appliance.services.intake import Intake, TicketRequest

log = logging.getLogger(__name__)


class RequestRefused(ApplianceError):
    """The request breaks a rule; `reason` is a stable word the API returns."""

    error_id = "callback-request-refused"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


class NotAuthorised(ApplianceError):
    error_id = "api-key-invalid"


class RateLimited(ApplianceError):
    error_id = "rate-limited"
    transient = True

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many requests; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


def hash_api_key(key: str) -> str:
    """What the store keeps of a key: its SHA-256 (keys are long random strings, no salt needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(store: Store, name: str, now: datetime) -> tuple[ApiKey, str]:
    """Create a key for a website or app; the plain key is returned once and never stored."""
    plain = "dsb_" + secrets.token_urlsafe(32)
    key = ApiKey(id=new_id(), name=name, hash=hash_api_key(plain), created_at=now)
    store.create_api_key(key)
    return key, plain


@dataclass
class RateLimiter:
    """A token bucket per API key: `per_minute` sustained, bursts up to `burst`."""

    per_minute: float = 10.0
    burst: int = 5
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> tokens, at
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key_id: str, now: datetime) -> None:
        """Spend one token for `key_id` or raise RateLimited."""
        t = now.timestamp()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(self.burst), t))
            tokens = min(float(self.burst), tokens + max(0.0, t - at) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, t)
                raise RateLimited((1.0 - tokens) / rate)
            self._buckets[key_id] = (tokens - 1.0, t)


@dataclass(frozen=True)
class CallbackRequest:
    number: str
    service: str = "default"
    request_type: str | None = None
    customer_id: str | None = None
    slot: datetime | None = None  # a preferred start; None: as soon as the service can call


@dataclass(frozen=True)
class Accepted:
    ticket: str
    callback_id: str
    merged: bool  # an open callback for this number existed: its ticket is the answer
    due_at: datetime


class CallbackRequests:
    def __init__(self, store: Store, *, slots: SlotPolicy | None = None,
                 limiter: RateLimiter | None = None) -> None:
        self._store, self._intake = store, Intake(store)
        self._slots = slots or SlotPolicy()
        self._limiter = limiter or RateLimiter()

    def authenticate(self, presented: str | None) -> ApiKey:
        if not presented:
            raise NotAuthorised("no API key")
        key = self._store.verify_api_key(hash_api_key(presented))
        if key is None:
            raise NotAuthorised("unknown or revoked API key")
        return key

    def submit(self, key: ApiKey, request: CallbackRequest, now: datetime) -> Accepted:
        self._limiter.take(key.id, now)
        profile = load_catalog(self._store).profiles.get(request.service)
        if profile is None:
            raise RequestRefused("unknown_service", request.service)
        number = self._validate(profile, request)
        due = self._due(profile, request, now)
        ticket, merged = self._intake.create_ticket(TicketRequest(
            call_id=None, service=profile.name, caller=number, callback_number=number,
            callback=True, request_type=request.request_type, customer_id=request.customer_id,
            slot=request.slot, due_at=due), now)
        callback = next((c for status in _OPEN
                        for c in self._store.list_callbacks(status=status, service=profile.name,
                                                            limit=10_000)
                        if c.ticket_id == ticket.id), None)
        log.info("API key %s: callback to %s for %s %s", key.name, mask(number), profile.name,
                 "merged" if merged else "scheduled")
        if callback is None:  # already dialled and closed in the meantime
            return Accepted(ticket.number, "", merged, due)
        return Accepted(ticket.number, callback.id, merged, callback.due_at)

    def _validate(self, profile: ServiceProfile, request: CallbackRequest) -> str:
        plan = profile.plan()
        if not plan.ticket.callbacks:
            raise RequestRefused("callbacks_off", profile.name)
        types = plan.ticket.request_types
        if request.request_type is not None and request.request_type not in types:
            raise RequestRefused("unknown_request_type", request.request_type)
        checked = plan.dial_plan.check(request.number)
        if checked.e164 is None:
            assert checked.reason is not None
            raise RequestRefused(f"number_{checked.reason.value}", checked.detail)
        return checked.e164

    def _due(self, profile: ServiceProfile, request: CallbackRequest, now: datetime) -> datetime:
        calendar = profile.calendar
        if request.slot is None:
            due = next_dial_time(calendar, now)
            if due is None:
                raise RequestRefused("never_open", profile.name)
            return due
        slot = request.slot
        if slot.tzinfo is None:
            raise RequestRefused("slot_not_aware", "give the slot with its UTC offset")
        if slot <= now or not calendar.callbacks_allowed(slot):
            raise RequestRefused("slot_closed", slot.isoformat())
        if not self._slots.has_room(slot, booked_slots(self._store, profile.name)):
            raise RequestRefused("slot_full", slot.isoformat())
        return slot


_OPEN = (CallbackStatus.OPEN, CallbackStatus.DIALLING)


def booked_slots(store: Store, service: str) -> list[datetime]:
    """Slot starts of the service's open callbacks (what SlotPolicy counts against capacity)."""
    return [c.slot_start for c in store.list_callbacks(status=CallbackStatus.OPEN,
                                                      service=service, limit=10_000)
            if c.slot_start is not None]


def offered_slots(store: Store, profile: ServiceProfile, now: datetime, count: int,
                  policy: SlotPolicy | None = None) -> tuple[datetime, ...]:
    """Openings to offer a caller (service wall clock), full ones left out. Reads the store only
    when the menu offers slots at all."""
    calendar = profile.calendar
    if count <= 0 or not profile.plan().ticket.offer_slots:
        return tuple(calendar.local(s) for s in calendar.openings_after(now, count))
    policy = policy or SlotPolicy()
    candidates = calendar.openings_after(now, count * 4)  # room to skip full ones
    free = policy.offer(candidates, booked_slots(store, profile.name), count)
    return tuple(calendar.local(s) for s in free)
