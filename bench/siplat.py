"""INVITE -> final answer latency per call from a capture of the appliance's SIP port, the time
the PBX would wait; retransmitted INVITEs show where the appliance answered too late."""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("frame.time_epoch", "sip.Call-ID", "sip.Method", "sip.Status-Code", "sip.CSeq.method")


@dataclass(frozen=True)
class SipRow:
    t: float
    call_id: str
    method: str
    status: str
    cseq_method: str


@dataclass(frozen=True)
class InviteTimes:
    to_200_ms: dict[str, float]  # Call-ID -> first INVITE to first 200 for it
    answered_other: dict[str, str]  # Call-ID -> a non-2xx final (486, 503, ...)
    retransmitted: int  # calls whose INVITE went out more than once


def parse_fields(text: str) -> list[SipRow]:
    rows = []
    for line in text.splitlines():
        cells = (line.split("\t") + [""] * len(FIELDS))[: len(FIELDS)]
        if not cells[0] or not cells[1]:
            continue
        rows.append(SipRow(float(cells[0]), *cells[1:]))
    return rows


def invite_times(rows: list[SipRow]) -> InviteTimes:
    sent: dict[str, float] = {}
    counts: Counter[str] = Counter()
    answered: dict[str, float] = {}
    other: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.t):
        if row.method == "INVITE":
            sent.setdefault(row.call_id, row.t)
            counts[row.call_id] += 1
        elif row.cseq_method == "INVITE" and row.call_id in sent and _final(row.status):
            if row.status == "200":
                answered.setdefault(row.call_id, (row.t - sent[row.call_id]) * 1000)
            else:
                other.setdefault(row.call_id, row.status)
    return InviteTimes(answered, other, sum(1 for n in counts.values() if n > 1))


def _final(status: str) -> bool:
    return status.isdigit() and int(status) >= 200


def read_capture(pcap: Path, sip_port: int) -> list[SipRow]:
    fields = [arg for f in FIELDS for arg in ("-e", f)]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-d", f"udp.port=={sip_port},sip", "-Y", "sip",
         "-T", "fields", *fields],
        capture_output=True, text=True, check=True,
    ).stdout
    return parse_fields(out)
