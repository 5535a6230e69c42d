"""A one-shot SIP OPTIONS ping over UDP: how /readyz asks our own listener (or a trunk peer) whether
it answers, the way a PBX qualify or Kamailio's dispatcher would."""

from __future__ import annotations

import asyncio
import secrets


def options_request(host: str, port: int, local: tuple[str, int], call_id: str) -> bytes:
    branch = "z9hG4bK" + secrets.token_hex(8)
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:readyz@{local[0]}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Accept: application/sdp\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class _Reply(asyncio.DatagramProtocol):
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id.encode()
        self.status: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        # Only our own transaction's final answer counts (not a stray packet, not 1xx).
        if not data.startswith(b"SIP/2.0 ") or self.call_id not in data:
            return
        try:
            code = int(data[8:11])
        except ValueError:
            return
        if code >= 200 and not self.status.done():
            self.status.set_result(code)


async def options_ping(host: str, port: int, *, timeout: float = 2.0) -> int | None:
    """The final status code the peer answers OPTIONS with, or None if it stays silent."""
    loop = asyncio.get_running_loop()
    call_id = f"readyz-{secrets.token_hex(8)}"
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Reply(call_id), remote_addr=(host, port))
    try:
        local = transport.get_extra_info("sockname")
        request = options_request(host, port, (local[0], local[1]), call_id)
        # UDP: send again once halfway, as a SIP client retransmits (timer E).
        for _ in range(2):
            transport.sendto(request)
            try:
                return await asyncio.wait_for(asyncio.shield(protocol.status), timeout / 2)
            except TimeoutError:
                continue
        return None
    finally:
        transport.close()
