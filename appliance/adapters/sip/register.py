"""Keeping the extension registered: aiosipua's Registration does digest (MD5/SHA-256, qop=auth,
401/407) and refreshes at 90 % of the granted Expires; it gives up for good on a failure or a
lost response. The keeper re-registers with back-off so a registrar outage heals by itself,
and never holds up calls (all of it runs as timer callbacks on the loop).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiosipua.auth import SipDigestAuth
from aiosipua.registration import Registration, RegistrationState
from aiosipua.uac import SipUAC

log = logging.getLogger(__name__)

_BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class AccountConfig:
    aor: str  # sip:user@domain
    registrar: tuple[str, int]
    username: str
    password: str
    expires: int = 600


class RegistrationKeeper:
    def __init__(self, uac: SipUAC, account: AccountConfig, user_agent: str) -> None:
        self.account = account
        self.aor = account.aor
        self._reg = Registration(
            uac,
            account.aor,
            account.registrar,
            expires=account.expires,
            auth=SipDigestAuth(account.username, account.password),
            user_agent=user_agent,
            # the library drops the AOR's port from the Request-URI; registrars on a
            # non-default port (and the digest uri) need it
            registrar_uri="sip:" + account.aor.split("@", 1)[-1],
        )
        self._reg.on_registered = self._registered
        self._reg.on_failed = lambda _r, status, reason: self._retry(f"{status} {reason}")
        self._reg.on_expired = lambda _r: self._retry("expired without refresh")
        self._failures = 0
        self._retry_handle: asyncio.TimerHandle | None = None
        self.last_error = ""
        self.registered_event = asyncio.Event()

    @property
    def state(self) -> str:
        value: str = self._reg.state.value
        return value

    @property
    def granted_expires(self) -> int:
        granted: int = self._reg.granted_expires
        return granted

    @property
    def call_id(self) -> str:
        call_id: str = self._reg.call_id
        return call_id

    async def wait_registered(self, timeout: float) -> None:
        await asyncio.wait_for(self.registered_event.wait(), timeout)

    def start(self) -> None:
        self._reg.register()

    async def stop(self) -> None:
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        if self._reg.state == RegistrationState.REGISTERED:
            self._reg.unregister()
            await asyncio.sleep(0.2)  # give the un-REGISTER a chance before the socket closes
        self._reg._cancel_timers()

    def _registered(self, _reg: Registration) -> None:
        self._failures = 0
        self.last_error = ""
        self.registered_event.set()
        log.info("registered %s for %ss", self.aor, self._reg.granted_expires)

    def on_transaction_timeout(self, call_id: str) -> None:
        if call_id == self._reg.call_id:
            self._retry("registrar did not answer")

    def _retry(self, why: str) -> None:
        self.registered_event.clear()
        self.last_error = why
        delay = _BACKOFF[min(self._failures, len(_BACKOFF) - 1)]
        self._failures += 1
        log.warning("registration of %s failed (%s); retrying in %.0fs", self.aor, why, delay)
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        self._retry_handle = asyncio.get_running_loop().call_later(delay, self._reg.register)
