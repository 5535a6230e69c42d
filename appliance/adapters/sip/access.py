"""Who may start a call on the extension: allowed peers (addresses/CIDRs), a per-source INVITE
rate limit (token bucket) and the channel ceiling. Pure apart from the monotonic time passed in.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Verdict(enum.Enum):
    ADMIT = 0
    FORBIDDEN = 403  # not an allowed peer: a bare 403, nothing learned
    BUSY = 486  # over max_channels: the PBX keeps the caller in its own queue
    DROP = -1  # over the rate limit: silence costs the flooder most


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class AccessPolicy:
    """Decides each out-of-dialog INVITE. Trunk peers and the registrar are both listed in
    `allowed`; a peer learned at run time (the registrar's resolved address) can be added."""

    def __init__(
        self, allowed: Iterable[str], *, per_second: float, burst: float | None = None
    ) -> None:
        self._nets: list[IpNetwork] = [ipaddress.ip_network(a, strict=False) for a in allowed]
        self._rate = per_second
        self._burst = burst if burst is not None else max(per_second, 1.0)
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, peer: str) -> None:
        self._nets.append(ipaddress.ip_network(peer, strict=False))

    def is_allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self._nets)

    def decide(self, host: str, now: float, *, active: int, max_channels: int) -> Verdict:
        if not self.is_allowed(host):
            return Verdict.FORBIDDEN
        if not self._take(host, now):
            return Verdict.DROP
        if active >= max_channels:
            return Verdict.BUSY
        return Verdict.ADMIT

    def _take(self, host: str, now: float) -> bool:
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) > 10_000:  # bound memory against spoofed sources
                self._buckets.clear()
            bucket = self._buckets[host] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
