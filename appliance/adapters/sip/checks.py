"""Request checks RFC 3261 §8.2 asks of a UAS and aiosipua skips (the RFC 4475 torture cases):
each gives the status to refuse with, or None to go on.
"""

from __future__ import annotations

from aiosipua.message import SipRequest

from appliance.adapters.sip.transactions import cseq_of

_SINGLE_VALUED = ("from", "to", "call-id", "cseq", "max-forwards", "content-length")


def refuse(request: SipRequest) -> tuple[int, dict[str, str]] | None:
    """RFC 3261 §8.2 checks the library skips (RFC 4475 torture cases): status + headers."""
    _, cseq_method = cseq_of(request)
    if cseq_method != request.method.upper():
        return 400, {}
    if any(len(request.headers.get(h)) > 1 for h in _SINGLE_VALUED):
        return 400, {}
    length = request.headers.get_first("content-length")
    if length is not None and not length.strip().isdigit():
        return 400, {}
    scheme = request.uri.split(":", 1)[0].lower()
    if scheme not in ("sip", "sips", "tel"):
        return 416, {}
    required = {t.strip().lower() for v in request.headers.get("require") for t in v.split(",")}
    unsupported = required - {"timer"}
    if unsupported and request.method.upper() not in ("CANCEL",):
        return 420, {"Unsupported": ", ".join(sorted(unsupported))}
    kind = (request.content_type or "").split(";")[0].strip().lower()
    if request.method.upper() == "INVITE" and request.body and kind != "application/sdp":
        return 415, {"Accept": "application/sdp"}
    return None


def to_tag(request: SipRequest) -> str:
    try:
        to_addr = request.to_addr
    except (ValueError, IndexError):
        return ""
    return (to_addr.tag if to_addr is not None else "") or ""


def reason_for(status: int) -> str:
    return {
        200: "OK",
        400: "Bad Request",
        403: "Forbidden",
        415: "Unsupported Media Type",
        416: "Unsupported URI Scheme",
        420: "Bad Extension",
        481: "Call/Transaction Does Not Exist",
        486: "Busy Here",
        488: "Not Acceptable Here",
        491: "Request Pending",
        500: "Server Internal Error",
        503: "Service Unavailable",
    }.get(status, "Error")
