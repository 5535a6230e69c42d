"""The appliance's Prometheus metrics: a small registry (counters, gauges, histograms with labels)
rendered in the text exposition format, and the named metrics the call flow and workers feed.

Written here rather than taken from prometheus_client: a dozen metrics need ~150 lines, and one
registry per process (module level, as prometheus_client does) lets a service count with one line.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from appliance.domain.call_events import EventKind
from appliance.domain.records import CallEvent

LabelKey = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self._lock = threading.Lock()

    def _key(self, values: dict[str, str]) -> LabelKey:
        if set(values) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {sorted(values)}")
        return tuple(str(values[label]) for label in self.labels)

    def _series(self, key: LabelKey, extra: Iterable[tuple[str, str]] = ()) -> str:
        pairs = [*zip(self.labels, key, strict=True), *extra]
        if not pairs:
            return ""
        return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def lines(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{self._series(k)} {_number(v)}" for k, v in items]


class Gauge(Counter):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def get(self, **labels: str) -> float | None:
        return self._values.get(self._key(labels))

    def series(self) -> dict[LabelKey, float]:
        with self._lock:
            return dict(self._values)

    def clear(self) -> None:
        """Forget every series (for gauges rebuilt at each scrape, such as registration states)."""
        with self._lock:
            self._values.clear()


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float],
                 labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = (*sorted(buckets), math.inf)
        self._counts: dict[LabelKey, list[int]] = {}
        self._sums: dict[LabelKey, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * len(self.buckets))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        counts = self._counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def lines(self) -> list[str]:
        out: list[str] = []
        with self._lock:
            items = sorted((k, list(c), self._sums[k]) for k, c in self._counts.items())
        for key, counts, total in items:
            for bound, count in zip(self.buckets, counts, strict=True):
                series = self._series(key, [("le", _number(bound))])
                out.append(f"{self.name}_bucket{series} {count}")
            out.append(f"{self.name}_sum{self._series(key)} {_number(total)}")
            out.append(f"{self.name}_count{self._series(key)} {counts[-1]}")
        return out


M = TypeVar("M", bound=_Metric)


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def add(self, metric: M) -> M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        """The text exposition format (version 0.0.4)."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header() + metric.lines()
        return "\n".join(lines) + "\n"


REGISTRY = Registry()

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

CALLS = REGISTRY.add(Counter("desborde_calls_total", "Finished inbound calls by outcome.",
                             ["outcome"]))
ANSWER_SECONDS = REGISTRY.add(Histogram(
    "desborde_call_answer_seconds", "From the call's arrival to its answer.", _LATENCY_BUCKETS))
FIRST_DIGIT_SECONDS = REGISTRY.add(Histogram(
    "desborde_call_first_digit_seconds", "From the answer to the caller's first digit.",
    _LATENCY_BUCKETS))
ACTIVE_CHANNELS = REGISTRY.add(Gauge("desborde_active_channels", "Calls up on this node now."))
MAX_CHANNELS = REGISTRY.add(Gauge("desborde_max_channels", "Configured channel limit."))
REGISTRATION = REGISTRY.add(Gauge(
    "desborde_sip_registration", "1 for each SIP account in its current registration state.",
    ["aor", "state"]))
OUTBOX_JOBS = REGISTRY.add(Gauge("desborde_outbox_jobs", "Outbox jobs by status.", ["status"]))
OUTBOX_DEPTH = REGISTRY.add(Gauge("desborde_outbox_depth", "Outbox jobs pending or running."))
OUTBOX_OLDEST = REGISTRY.add(Gauge(
    "desborde_outbox_oldest_due_age_seconds", "How long the oldest pending job has been due."))
DELIVERIES = REGISTRY.add(Counter(
    "desborde_deliveries_total", "Outbox job attempts settled by this node, by result.",
    ["kind", "result"]))
DELIVERY_FAILURES = REGISTRY.add(Counter(
    "desborde_delivery_failures_total", "Failed delivery attempts (retried or given up).",
    ["kind", "result"]))
CALLBACK_ATTEMPTS = REGISTRY.add(Counter(
    "desborde_callback_attempts_total", "Callback dial attempts by outcome.", ["outcome"]))
WORKER_LOOP = REGISTRY.add(Gauge(
    "desborde_worker_last_loop_timestamp_seconds", "When each worker last went round its loop.",
    ["worker"]))
CHECK_OK = REGISTRY.add(Gauge("desborde_ready_check", "1 when a readiness check passes.",
                              ["check"]))
RETENTION_PURGED = REGISTRY.add(Counter(
    "desborde_retention_purged_total", "Recordings and transcripts removed by retention.",
    ["what"]))


def record_call(outcome: str, started: datetime, events: Sequence[CallEvent]) -> None:
    """Count a finished call and its menu latencies, read from the call's own events."""
    CALLS.inc(outcome=outcome)
    answered = next((e.at for e in events if e.kind == EventKind.ANSWERED), None)
    if answered is None:
        return
    ANSWER_SECONDS.observe(max((answered - started).total_seconds(), 0.0))
    digit = next((e.at for e in events if e.kind == EventKind.DIGIT), None)
    if digit is not None:
        FIRST_DIGIT_SECONDS.observe(max((digit - answered).total_seconds(), 0.0))


def record_delivery(kind: str, result: str) -> None:
    """One settled outbox attempt: result is complete, retry or fail."""
    DELIVERIES.inc(kind=kind, result=result)
    if result != "complete":
        DELIVERY_FAILURES.inc(kind=kind, result=result)


def record_callback_attempt(outcome: str) -> None:
    CALLBACK_ATTEMPTS.inc(outcome=outcome)


def worker_alive(worker: str, now: float | None = None) -> None:
    """A worker's heartbeat: the readiness check fails when it stops coming."""
    WORKER_LOOP.set(time.time() if now is None else now, worker=worker)
