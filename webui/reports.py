"""Counting calls for the dashboard: by outcome, by hour of today and by day, on the office's clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.domain.records import Call


def start_of_day(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def by_outcome(calls: Sequence[Call]) -> list[tuple[str, int]]:
    counts = Counter(c.outcome or "in_progress" for c in calls)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def by_hour(calls: Sequence[Call], zone: str) -> list[tuple[str, int]]:
    tz = ZoneInfo(zone)
    counts = Counter(c.started_at.astimezone(tz).hour for c in calls)
    return [(f"{h:02d}", counts.get(h, 0)) for h in range(24)]


def by_day(calls: Sequence[Call], zone: str, today: date, days: int) -> list[tuple[str, int]]:
    tz = ZoneInfo(zone)
    counts = Counter(c.started_at.astimezone(tz).date() for c in calls)
    first = today - timedelta(days=days - 1)
    span = [first + timedelta(days=i) for i in range(days)]
    return [(d.strftime("%d/%m"), counts.get(d, 0)) for d in span]
