"""Blind transfer (RFC 3515): send REFER on the caller's dialog, then follow the REFER's own
response and the NOTIFY message/sipfrag stream to one verdict: 2xx sipfrag = ok; a REFER error,
a 3xx-6xx sipfrag or silence until the timeout = failed (the caller is offered the menu again).
"""

from __future__ import annotations

import asyncio
import logging

from aiosipua.dialog import Dialog, DialogState
from aiosipua.message import SipRequest

from appliance.adapters.sip.seam import SeamUAC
from appliance.errors import SipError
from appliance.ports.telephony import TransferResult

log = logging.getLogger(__name__)


class Transfer:
    """One REFER in flight; fed by the engine with responses, NOTIFYs and timeouts."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.refer_status = 0
        self.progress: list[int] = []
        self._result: asyncio.Future[TransferResult] = asyncio.get_running_loop().create_future()

    def on_refer_response(self, status: int, reason: str) -> None:
        if status < 200:
            return
        self.refer_status = status
        log.info("%s REFER answered %s %s", self.call_id, status, reason)
        if status >= 300:
            self._finish(TransferResult(False, status, reason or "REFER refused"))

    def on_notify(self, status: int, reason: str) -> None:
        self.progress.append(status)
        log.info("%s transfer progress %s %s", self.call_id, status, reason)
        if status >= 200:
            self._finish(TransferResult(200 <= status < 300, status, reason))

    def on_timeout(self, reason: str = "no answer to REFER") -> None:
        self._finish(TransferResult(False, 408, reason))

    def _finish(self, result: TransferResult) -> None:
        if not self._result.done():
            self._result.set_result(result)

    async def wait(self, timeout: float) -> TransferResult:
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            self.on_timeout("no final NOTIFY before the timeout")
            return self._result.result()


def send_refer(
    uac: SeamUAC, dialog: Dialog, target: str, remote: tuple[str, int], referred_by: str
) -> SipRequest:
    """The REFER itself; Referred-By names us so the PBX can log who sent the caller back."""
    if dialog.state != DialogState.CONFIRMED:
        raise SipError(f"cannot transfer: dialog is {dialog.state.value}")
    target = target if target.startswith("<") else f"<{target}>"
    headers = {"Refer-To": target, "Referred-By": f"<{referred_by}>"}
    return uac.send_in_dialog(dialog, "REFER", remote, extra_headers=headers)
