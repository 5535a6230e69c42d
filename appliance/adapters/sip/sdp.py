"""SDP offer/answer for G.711 audio at 20 ms: pick PCMU or PCMA in the offerer's order, mirror the
offer's telephone-event payload type (aiosipua always answers 101), and answer hold/resume with
the matching direction. Parsing is aiosipua's; the answer text is ours.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiosipua.sdp import SdpMessage, parse_sdp

from appliance.errors import SipError

CODEC_NAMES = {0: "PCMU", 8: "PCMA"}
_ANSWER_DIRECTION = {
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
    "sendrecv": "sendrecv",
}


@dataclass(frozen=True, slots=True)
class MediaParams:
    """What one side's SDP says about the audio stream."""

    payload_type: int
    dtmf_payload_type: int | None
    remote: tuple[str, int]
    direction: str  # the direction *we* use: sendrecv, sendonly, recvonly, inactive

    @property
    def codec(self) -> str:
        return CODEC_NAMES[self.payload_type]

    @property
    def on_hold(self) -> bool:
        try:
            unspecified = ipaddress.ip_address(self.remote[0]).is_unspecified  # RFC 2543 hold
        except ValueError:
            unspecified = False
        return self.direction in ("recvonly", "inactive") or unspecified


def parse(text: str) -> SdpMessage:
    try:
        return parse_sdp(text)
    except (ValueError, IndexError) as exc:
        raise SipError(f"malformed SDP: {exc}", status=400) from exc


def negotiate(offer: SdpMessage, supported: tuple[int, ...] = (0, 8)) -> MediaParams:
    """Choose our side of the stream from an offer (or read an answer: same rules)."""
    audio = offer.audio
    address = offer.rtp_address
    if audio is None or address is None or audio.port == 0:
        raise SipError("no usable audio stream in SDP", status=488)
    chosen: int | None = None
    dtmf: int | None = None
    for codec in audio.codecs:
        name = (codec.encoding_name or "").upper()
        pt = codec.payload_type
        if chosen is None and pt in supported and name in ("", CODEC_NAMES[pt]):
            chosen = pt
        elif chosen is None and name in ("PCMU", "PCMA") and codec.clock_rate == 8000:
            chosen = 0 if name == "PCMU" else 8
        elif name == "TELEPHONE-EVENT" and codec.clock_rate == 8000 and dtmf is None:
            dtmf = pt
    if chosen is None:
        raise SipError("no common codec (PCMU/PCMA)", status=488)
    direction = _ANSWER_DIRECTION.get(audio.direction, "sendrecv")
    return MediaParams(chosen, dtmf, address, direction)


def build(
    params: MediaParams, local_ip: str, local_port: int, *, session_id: int, version: int
) -> str:
    """Our SDP (answer, or an offer when `params` lists what we offer) for one audio stream."""
    pts = [str(params.payload_type)]
    lines = [
        "v=0",
        f"o=- {session_id} {version} IN IP4 {local_ip}",
        "s=-",
        f"c=IN IP4 {local_ip}",
        "t=0 0",
    ]
    attrs = [f"a=rtpmap:{params.payload_type} {params.codec}/8000"]
    if params.dtmf_payload_type is not None:
        pts.append(str(params.dtmf_payload_type))
        attrs.append(f"a=rtpmap:{params.dtmf_payload_type} telephone-event/8000")
        attrs.append(f"a=fmtp:{params.dtmf_payload_type} 0-16")
    lines.append(f"m=audio {local_port} RTP/AVP {' '.join(pts)}")
    lines.extend(attrs)
    lines += ["a=ptime:20", f"a={params.direction}"]
    return "\r\n".join(lines) + "\r\n"


def build_offer(local_ip: str, local_port: int, *, session_id: int, dtmf_pt: int = 101) -> str:
    """An initial offer for dial-out: PCMU, PCMA and telephone-event."""
    return "\r\n".join(
        [
            "v=0",
            f"o=- {session_id} 1 IN IP4 {local_ip}",
            "s=-",
            f"c=IN IP4 {local_ip}",
            "t=0 0",
            f"m=audio {local_port} RTP/AVP 0 8 {dtmf_pt}",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            f"a=rtpmap:{dtmf_pt} telephone-event/8000",
            f"a=fmtp:{dtmf_pt} 0-16",
            "a=ptime:20",
            "a=sendrecv",
        ]
    ) + "\r\n"
