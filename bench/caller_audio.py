"""The load callers' audio: one RTP pcap (one SSRC, continuous seq/timestamps) of PCMU speech
with RFC 4733 digits on a timeline, for SIPp's play_pcap_audio — the same builder the
end-to-end tests use (tests/support/rtp_pcap.py), so the bench and the tests call alike."""

from __future__ import annotations

from tests.support.rtp_pcap import DIGIT_PACKETS, caller_pcap, digit_packets, ip_checksum, read_wav

__all__ = ["DIGIT_PACKETS", "caller_pcap", "digit_packets", "ip_checksum", "read_wav"]
