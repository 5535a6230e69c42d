"""Callback requests from the API, table by table with a fixed clock and a real SQLite store:
dial-plan refusals, request types, business hours, slot capacity, dedup, API keys, rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.callbacks import SlotPolicy
from appliance.domain.dialplan import DialPlan
from appliance.domain.hours import TimeRange
from appliance.domain.menu_model import MenuPlan, TicketOptions
from appliance.domain.records import ApiKey, CallbackStatus
from appliance.domain.service_profile import ServiceProfile
from appliance.services.business import save_profile
from appliance.services.callback_requests import (
    CallbackRequest,
    CallbackRequests,
    NotAuthorised,
    RateLimited,
    RateLimiter,
    RequestRefused,
    issue_api_key,
    offered_slots,
)

OPEN = (TimeRange.parse("09:00", "18:00"),)
OFFICE = BusinessCalendar("UTC", (OPEN,) * 5 + ((), ()), callback_cutoff_minutes=30)
MON = datetime(2026, 3, 2, tzinfo=UTC)
NOON = MON + timedelta(hours=12)
PLAN = MenuPlan(
    language="es",
    ticket=TicketOptions(request_types=("billing", "support"), offer_slots=True),
    dial_plan=DialPlan(premium_prefixes=("809",)),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    save_profile(opened, ServiceProfile(name="sales", calendar=OFFICE, plans={"es": PLAN}),
                 expected_version=0, actor="test", now=MON)
    yield opened
    opened.close()


@pytest.fixture
def key(store: SqlStore) -> ApiKey:
    return issue_api_key(store, "website", MON)[0]


def requests(store: SqlStore, capacity: int = 0, per_minute: float = 600.0) -> CallbackRequests:
    return CallbackRequests(store, slots=SlotPolicy(capacity=capacity),
                            limiter=RateLimiter(per_minute=per_minute, burst=100))


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+34911234567", "number_international"),
        ("1234", "number_too_short"),
        ("9123456789012", "number_too_long"),
        ("809123456", "number_premium"),
        ("abc", "number_not_digits"),
        ("", "number_empty"),
    ],
)
def test_dial_plan_refusals(store: SqlStore, key: ApiKey, number: str, reason: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        requests(store).submit(key, CallbackRequest(number=number, service="sales"), NOON)
    assert refused.value.reason == reason
    assert store.list_callbacks() == []


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (CallbackRequest(number="912345678", service="nobody"), "unknown_service"),
        (CallbackRequest(number="912345678", service="sales", request_type="sales"),
         "unknown_request_type"),
        (CallbackRequest(number="912345678", service="sales", slot=MON + timedelta(hours=20)),
         "slot_closed"),  # 20:00: closed
        (CallbackRequest(number="912345678", service="sales",
                         slot=MON + timedelta(hours=17, minutes=45)), "slot_closed"),  # cut-off
        (CallbackRequest(number="912345678", service="sales", slot=MON + timedelta(hours=10)),
         "slot_closed"),  # in the past
        (CallbackRequest(number="912345678", service="sales",
                         slot=datetime(2026, 3, 3, 10, 0)), "slot_not_aware"),
    ],
)
def test_request_refusals(store: SqlStore, key: ApiKey, request_: CallbackRequest,
                          reason: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        requests(store).submit(key, request_, NOON)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (NOON, NOON),  # open: as soon as possible
        (MON + timedelta(hours=7), MON + timedelta(hours=9)),  # before opening
        (MON + timedelta(hours=17, minutes=40), MON + timedelta(days=1, hours=9)),  # cut-off
        (MON + timedelta(days=5, hours=12), MON + timedelta(days=7, hours=9)),  # Saturday
    ],
)
def test_due_inside_the_callback_window(store: SqlStore, key: ApiKey, now: datetime,
                                        due: datetime) -> None:
    accepted = requests(store).submit(key, CallbackRequest("912345678", "sales"), now)
    assert accepted.due_at == due and not accepted.merged
    [callback] = store.list_callbacks()
    assert (callback.number, callback.due_at, callback.status) == (
        "+56912345678", due, CallbackStatus.OPEN)


def test_a_repeat_merges_into_the_open_callback(store: SqlStore, key: ApiKey) -> None:
    service = requests(store)
    first = service.submit(key, CallbackRequest("912345678", "sales", "billing"), NOON)
    again = service.submit(key, CallbackRequest("+56 9 1234 5678", "sales"), NOON)
    other = service.submit(key, CallbackRequest("987654321", "sales"), NOON)
    assert (again.ticket, again.callback_id, again.merged) == (first.ticket, first.callback_id, True)
    assert other.ticket != first.ticket and not other.merged
    assert len(store.list_callbacks()) == 2
    ticket = store.get_ticket_by_number(first.ticket)
    assert ticket is not None and ticket.request_type == "billing"


def test_a_full_slot_is_refused_and_no_longer_offered(store: SqlStore, key: ApiKey) -> None:
    service = requests(store, capacity=2)
    profile = ServiceProfile(name="sales", calendar=OFFICE, plans={"es": PLAN})
    tomorrow_9 = MON + timedelta(days=1, hours=9)
    assert offered_slots(store, profile, NOON, 2)[0] == tomorrow_9
    for number in ("911111111", "922222222"):
        service.submit(key, CallbackRequest(number, "sales", slot=tomorrow_9), NOON)
    with pytest.raises(RequestRefused) as refused:
        service.submit(key, CallbackRequest("933333333", "sales", slot=tomorrow_9), NOON)
    assert refused.value.reason == "slot_full"
    offered = offered_slots(store, profile, NOON, 2, SlotPolicy(capacity=2))
    assert tomorrow_9 not in offered and len(offered) == 2
    assert offered[0] == MON + timedelta(days=2, hours=9)


def test_unknown_and_revoked_keys_are_refused(store: SqlStore) -> None:
    service = requests(store)
    key, plain = issue_api_key(store, "app", MON)
    assert service.authenticate(plain) == key
    assert key.hash != plain and plain not in repr(store.list_api_keys())
    for presented in (None, "", "dsb_wrong", plain + "x"):
        with pytest.raises(NotAuthorised):
            service.authenticate(presented)
    store.revoke_api_key(key.id)
    with pytest.raises(NotAuthorised):
        service.authenticate(plain)


@pytest.mark.parametrize(
    ("offsets_s", "allowed"),
    [
        ([0, 0, 0], [True, True, True]),  # the burst
        ([0, 0, 0, 0], [True, True, True, False]),  # one more: refused
        ([0, 0, 0, 0, 20], [True, True, True, False, True]),  # 20 s refill one token
        ([0, 0, 0, 5, 10], [True, True, True, False, False]),
        ([0, 60, 120, 180], [True, True, True, True]),  # sustained at the rate
    ],
)
def test_rate_limit_per_key(offsets_s: list[int], allowed: list[bool]) -> None:
    limiter = RateLimiter(per_minute=3, burst=3)
    got = []
    for offset in offsets_s:
        try:
            limiter.take("k1", NOON + timedelta(seconds=offset))
            got.append(True)
        except RateLimited as exc:
            assert exc.retry_after_s > 0
            got.append(False)
    assert got == allowed
    limiter.take("k2", NOON)  # another key has its own bucket
