"""Who is calling and which number they dialled, from an INVITE's headers: P-Asserted-Identity,
Remote-Party-ID or From for the caller; Request-URI (else To) for the dialled number; Diversion or
History-Info for the hunt group that overflowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from aiosipua.message import SipRequest

_URI_USER = re.compile(r"(?:sips?|tel):([^@;>?\s]+)", re.IGNORECASE)
_DISPLAY = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<')


@dataclass(frozen=True, slots=True)
class Identity:
    caller: str
    caller_name: str
    dialled: str
    diversion: str | None


def user_of(value: str | None) -> str:
    """The user part of the first SIP/tel URI in a header value ('' when there is none)."""
    if not value:
        return ""
    match = _URI_USER.search(value)
    return unquote(match.group(1)) if match else ""


def display_name(value: str | None) -> str:
    if not value:
        return ""
    match = _DISPLAY.match(value)
    if match is None:
        return ""
    name = match.group(1) if match.group(1) is not None else match.group(2)
    return name.replace('\\"', '"').strip()


def identity_of(invite: SipRequest) -> Identity:
    asserted = invite.headers.get_first("p-asserted-identity")
    rpid = invite.headers.get_first("remote-party-id")
    from_value = invite.headers.get_first("from")
    source = next((v for v in (asserted, rpid, from_value) if user_of(v)), from_value)
    name = display_name(source) or display_name(from_value)
    dialled = user_of(invite.uri) or user_of(invite.headers.get_first("to"))
    return Identity(user_of(source), name, dialled, _diversion(invite))


def _diversion(invite: SipRequest) -> str | None:
    # Diversion (RFC 5806): the first value is the most recent redirection; its URI is the
    # number that diverted to us, i.e. the hunt group that overflowed.
    diversion = user_of(", ".join(invite.headers.get("diversion")))
    if diversion:
        return diversion
    # History-Info (RFC 7044): entries in order; the one before ours is the diverting target.
    history = ", ".join(invite.headers.get("history-info"))
    users = [unquote(u) for u in _URI_USER.findall(history)]
    if len(users) >= 2:
        return users[-2]
    return None
