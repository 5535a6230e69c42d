"""ITU-T G.711 μ-law (PCMU) and A-law (PCMA) codecs on 8 kHz mono little-endian 16-bit PCM.

Table driven with numpy: one 64 Ki-entry table per encoder, one 256-entry table per decoder.
Written here because aiortp 0.8.0's A-law inverts the sign bit and the stdlib audioop is deprecated.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from appliance.errors import MediaError

_ULAW_BIAS = 0x21  # on the 14-bit scale (0x84 on 16 bits)
_ULAW_CLIP = 8159
# Upper bounds of the eight A-law segments on the 13-bit magnitude (G.711 table 1a).
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)

PCMU_PAYLOAD_TYPE = 0
PCMA_PAYLOAD_TYPE = 8


def _ulaw_encode_one(sample: int) -> int:
    # The reference (Sun g711.c, as in audioop and sox) works on 14 bits, flooring negatives.
    value = sample >> 2
    if value < 0:
        mask = 0x7F
        value = -value
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + _ULAW_BIAS
    segment = max(value.bit_length() - 6, 0)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode_one(code: int) -> int:
    code = ~code & 0xFF
    magnitude = ((((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)) - 0x84
    return -magnitude if code & 0x80 else magnitude


def _alaw_encode_one(sample: int) -> int:
    value = sample >> 3  # A-law works on 13 bits
    if value >= 0:
        mask = 0xD5  # positive: sign bit set, then even bits inverted
    else:
        mask = 0x55
        value = -value - 1
    segment = next((i for i, end in enumerate(_ALAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    shift = 1 if segment < 2 else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


def _alaw_decode_one(code: int) -> int:
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


def _encoder_table(encode_one: Callable[[int], int]) -> npt.NDArray[np.uint8]:
    # Indexed by the int16 sample reinterpreted as uint16 (two's complement).
    samples = range(65536)
    return np.array([encode_one(s - 65536 if s >= 32768 else s) for s in samples], dtype=np.uint8)


def _decoder_table(decode_one: Callable[[int], int]) -> npt.NDArray[np.int16]:
    return np.array([decode_one(c) for c in range(256)], dtype="<i2")


_ULAW_ENC = _encoder_table(_ulaw_encode_one)
_ULAW_DEC = _decoder_table(_ulaw_decode_one)
_ALAW_ENC = _encoder_table(_alaw_encode_one)
_ALAW_DEC = _decoder_table(_alaw_decode_one)


def _encode(table: npt.NDArray[np.uint8], pcm16: bytes) -> bytes:
    if len(pcm16) % 2:
        raise MediaError(f"PCM16 buffer has an odd length ({len(pcm16)} bytes)")
    encoded: bytes = table[np.frombuffer(pcm16, dtype="<u2")].tobytes()
    return encoded


def _decode(table: npt.NDArray[np.int16], data: bytes) -> bytes:
    decoded: bytes = table[np.frombuffer(data, dtype=np.uint8)].tobytes()
    return decoded


def ulaw_encode(pcm16: bytes) -> bytes:
    """Encode little-endian signed 16-bit PCM to G.711 μ-law, one byte per sample."""
    return _encode(_ULAW_ENC, pcm16)


def ulaw_decode(data: bytes) -> bytes:
    """Decode G.711 μ-law to little-endian signed 16-bit PCM."""
    return _decode(_ULAW_DEC, data)


def alaw_encode(pcm16: bytes) -> bytes:
    """Encode little-endian signed 16-bit PCM to G.711 A-law, one byte per sample."""
    return _encode(_ALAW_ENC, pcm16)


def alaw_decode(data: bytes) -> bytes:
    """Decode G.711 A-law to little-endian signed 16-bit PCM."""
    return _decode(_ALAW_DEC, data)


Codec = tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]

_CODECS: dict[int, Codec] = {
    PCMU_PAYLOAD_TYPE: (ulaw_encode, ulaw_decode),
    PCMA_PAYLOAD_TYPE: (alaw_encode, alaw_decode),
}


def codec_for(payload_type: int) -> Codec:
    """Return (encode, decode) for RTP static payload type 0 (PCMU) or 8 (PCMA)."""
    try:
        return _CODECS[payload_type]
    except KeyError:
        raise MediaError(f"unsupported RTP payload type {payload_type}: only PCMU/PCMA") from None


def silence(payload_type: int, samples: int = 160) -> bytes:
    """Encoded silence for a payload type (0xFF for μ-law, 0xD5 for A-law)."""
    return codec_for(payload_type)[0](bytes(2 * samples))
