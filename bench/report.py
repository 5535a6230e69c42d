"""Markdown tables of benchmark results, as pasted into docs/PERFORMANCE.md, and the targets."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.calls import LevelResult
from bench.delivery import DeliveryResult

# issue 3: on 2 cores, 200 calls with 0 failed, >= 49.5 pps/stream, p99 <= 40 ms, p95 <= 200 ms
PPS_MIN, IPD_P99_MAX_MS, INVITE_P95_MAX_MS = 49.5, 40.0, 200.0
DELIVERY_P95_MAX_MS = 2000.0  # issue 4, without transcription


def meets_target(r: LevelResult) -> bool:
    return (r.sipp.failed == 0 and r.sipp.placed == r.plan.calls
            and r.dtmf.expected_outcome == r.plan.calls and r.dtmf.digits_ok == r.plan.calls
            and r.rtp.pps_min >= PPS_MIN and r.rtp.ipd_p99_ms <= IPD_P99_MAX_MS
            and r.invite_to_200_ms.p95 <= INVITE_P95_MAX_MS)


def _f(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


CALLS_HEADER = (
    "| calls | placed | failed | message_left | digits 2# | pps/stream mean (min) "
    "| inter-packet p50 / p99 / max ms | INVITE→200 p50 / p95 ms | CPU % plateau (max) "
    "| RSS idle → peak MB | CPU % per call | RSS KB per call | target |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def calls_row(r: LevelResult) -> str:
    res, rtp, inv = r.resources, r.rtp, r.invite_to_200_ms
    return (
        f"| {r.level} | {r.sipp.placed} | {r.sipp.failed} | {r.dtmf.expected_outcome} "
        f"| {r.dtmf.digits_ok} | {_f(rtp.pps_mean, 2)} ({_f(rtp.pps_min, 2)}) "
        f"| {_f(rtp.ipd_p50_ms)} / {_f(rtp.ipd_p99_ms)} / {_f(rtp.ipd_max_ms)} "
        f"| {_f(inv.p50)} / {_f(inv.p95)} "
        f"| {_f(res.cpu_plateau_pct)} ({_f(res.cpu_max_pct)}) "
        f"| {_f(res.rss_idle_mb)} → {_f(res.rss_peak_mb)} "
        f"| {_f(r.cpu_per_call_pct, 2)} | {_f(r.mem_per_call_kb, 0)} "
        f"| {'met' if meets_target(r) else 'MISSED'} |"
    )


def calls_table(results: Sequence[LevelResult]) -> str:
    lines = [CALLS_HEADER, *(calls_row(r) for r in results), "", "Per level:"]
    for r in results:
        lines.append(
            f"- {r.level} calls: {r.plan.calls} placed at {r.plan.rate:.2f}/s, plateau "
            f"{r.resources.plateau_seconds} s, machine busy {_f(r.resources.machine_plateau_pct, 0)} % "
            f"of 200 on the plateau (SIPp {_f(r.resources.sipp_plateau_pct, 0)} %, load average "
            f"before {r.resources.load_average:.2f}), peak SIPp concurrency {r.sipp.peak_concurrent}, "
            f"{r.rtp.streams} appliance streams, RFC 3550 jitter mean {_f(r.rtp.jitter_mean_ms, 2)} ms, "
            f"keys the callers sent on the wire {r.caller_keys_on_wire}, "
            f"INVITE retransmitted {r.invites_retransmitted}, refused {r.invites_refused or 0}, "
            f"capture dropped {r.capture_dropped}, SIPp exit {r.sipp_returncode}"
            + (f", wrong calls (id, keys, outcome): {r.dtmf.wrong[:5]}" if r.dtmf.wrong else ""))
    return "\n".join(lines)


def delivery_table(r: DeliveryResult) -> str:
    a, b = r.from_hash_ms, r.from_hangup_ms
    met = b.p95 <= DELIVERY_P95_MAX_MS and b.n == r.calls
    return "\n".join([
        "| messages | emails measured | from | p50 ms | p95 ms | max ms | target p95 ≤ 2 s |",
        "|---|---|---|---|---|---|---|",
        f"| {r.calls} | {b.n} | caller's hangup (BYE) | {_f(b.p50, 0)} | {_f(b.p95, 0)} "
        f"| {_f(b.max, 0)} | {'met' if met else 'MISSED'} |",
        f"| {r.calls} | {a.n} | the \"#\" ending the message | {_f(a.p50, 0)} "
        f"| {_f(a.p95, 0)} | {_f(a.max, 0)} | |",
        "",
        f"SIPp: {r.sipp.placed} placed, {r.sipp.failed} failed; {r.emails} emails accepted, "
        f"{r.partial_emails} of them for partial messages (not measured), "
        f"{r.unmatched_emails} without a message link.",
    ])
