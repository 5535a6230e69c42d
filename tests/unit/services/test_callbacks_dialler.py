"""The dialler's admission rules with a fake clock and a fake engine (the telephony port): the
callback window and its cut-off, the per-service and node-wide outbound limits, oldest first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.adapters.store.sql_store import SqlStore
from appliance.domain.calendar import BusinessCalendar
from appliance.domain.callbacks import CallbackPolicy
from appliance.domain.hours import TimeRange
from appliance.domain.records import Callback, CallbackStatus, new_id
from appliance.domain.retry import RetryPolicy
from appliance.domain.service_profile import ServiceProfile
from appliance.ports.telephony import DialResult, EngineStatus
from appliance.services.business import load_catalog, save_profile
from appliance.services.callbacks import CallbackDialler, DiallerSettings

OPEN = (TimeRange.parse("09:00", "18:00"),)
OFFICE = BusinessCalendar("UTC", (OPEN,) * 5 + ((), ()), callback_cutoff_minutes=30)
MON = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass
class FakeClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant


@dataclass
class FakeEngine:
    """Dials nobody: records targets; answers busy at once, or holds until released."""

    hold: bool = False
    dialled: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def set_call_handler(self, handler: object) -> None: ...
    def status(self) -> EngineStatus:
        return EngineStatus(mode="trunk")

    async def dial(self, target: str, *, caller_id: str, display_name: str,
                   ring_timeout: float) -> DialResult:
        self.dialled.append(target)
        if self.hold:
            await self.release.wait()
        return DialResult("busy", 486)


class NoPrompts:
    def frames(self, service: str, language: str, names: tuple[str, ...]) -> list[bytes]:
        return []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    for name in ("sales", "support"):
        profile = ServiceProfile(name=name, calendar=OFFICE, callback_target="sip:600@pbx")
        save_profile(opened, profile, expected_version=load_catalog(opened).version,
                     actor="t", now=MON)
    yield opened
    opened.close()


def add(store: SqlStore, number: str, due: datetime, service: str = "sales") -> Callback:
    callback = Callback(id=new_id(), ticket_id=None, service=service, number=number, due_at=due,
                        created_at=due)
    store.create_or_merge_callback(callback)
    return callback


def dialler(store: SqlStore, engine: FakeEngine, clock: FakeClock, *, total: int = 4,
            per_service: int = 2) -> CallbackDialler:
    policy = CallbackPolicy(max_outbound=per_service, retry=RetryPolicy(max_attempts=3))
    settings = DiallerSettings(node="n1", max_outbound=total, default_policy=policy)
    return CallbackDialler(store, engine, clock, NoPrompts(), settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "dialled", "due_again"),
    [
        (MON + timedelta(hours=10), True, None),
        (MON + timedelta(hours=17, minutes=29), True, None),
        (MON + timedelta(hours=17, minutes=31), False, MON + timedelta(days=1, hours=9)),
        (MON + timedelta(hours=20), False, MON + timedelta(days=1, hours=9)),
        (MON + timedelta(hours=8, minutes=59), False, MON + timedelta(hours=9)),
        (MON + timedelta(days=5, hours=11), False, MON + timedelta(days=7, hours=9)),
    ],
)
async def test_only_inside_the_callback_window(
    store: SqlStore, now: datetime, dialled: bool, due_again: datetime | None
) -> None:
    callback = add(store, "+56911111111", MON)
    engine = FakeEngine()
    service = dialler(store, engine, FakeClock(now))
    started = await service.run_once()
    await service.idle()
    assert (started == 1, bool(engine.dialled)) == (dialled, dialled)
    current = store.get_callback(callback.id)
    assert current is not None
    if due_again is None:
        assert current.attempts == 1 and current.status is CallbackStatus.OPEN  # busy: retry
    else:
        assert (current.status, current.due_at, current.attempts) == (
            CallbackStatus.OPEN, due_again, 0)


@pytest.mark.parametrize(
    ("total", "per_service", "expected"),
    [(4, 2, {"sales": 2, "support": 2}), (3, 2, {"sales": 2, "support": 1}),
     (4, 1, {"sales": 1, "support": 1}), (1, 2, {"sales": 1})],
)
async def test_outbound_limits_per_service_and_in_total(
    store: SqlStore, total: int, per_service: int, expected: dict[str, int]
) -> None:
    # sales' callbacks are older, so they come first until sales is at its limit
    for n in range(3):
        add(store, f"+5691111111{n}", MON + timedelta(minutes=n))
    for n in range(3):
        add(store, f"+5692222222{n}", MON + timedelta(minutes=10 + n), "support")
    engine = FakeEngine(hold=True)
    service = dialler(store, engine, FakeClock(MON + timedelta(hours=10)), total=total,
                      per_service=per_service)
    for _ in range(4):  # several polls: released ones come back
        await service.run_once()
        await asyncio.sleep(0)
        service.clock.instant += timedelta(seconds=3)  # type: ignore[attr-defined]
    counts: dict[str, int] = {}
    for name, _task in service.active.values():
        counts[name] = counts.get(name, 0) + 1
    assert counts == expected
    assert len(engine.dialled) == sum(expected.values())
    engine.release.set()
    await service.idle()


async def test_oldest_first(store: SqlStore) -> None:
    for n, minutes in enumerate((30, 10, 20)):
        add(store, f"+5691111111{n}", MON + timedelta(minutes=minutes))
    engine = FakeEngine(hold=True)
    service = dialler(store, engine, FakeClock(MON + timedelta(hours=10)), total=1,
                      per_service=1)
    order = []
    for _ in range(3):
        await service.run_once()
        await asyncio.sleep(0)
        order.append(engine.dialled[-1])
        engine.release.set()
        await service.idle()
        engine.release.clear()
    assert order == ["+56911111111", "+56911111112", "+56911111110"]
