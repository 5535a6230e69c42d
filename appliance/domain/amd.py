"""Answering-machine detection on the first seconds of an answered call, re-implementing the
rules of Asterisk's app_amd (energy-based words and silences, not speech recognition). Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Verdict(enum.Enum):
    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"


@dataclass(frozen=True)
class AmdSettings:
    """app_amd's parameters (amd.conf names in comments), in ms unless said otherwise."""

    initial_silence_ms: int = 2500  # initial_silence: nobody speaks first -> machine
    greeting_ms: int = 1500  # greeting: speech longer than this -> machine
    after_greeting_silence_ms: int = 800  # after_greeting_silence: a pause after speech -> human
    total_analysis_ms: int = 5000  # total_analysis_time: then NOTSURE
    min_word_length_ms: int = 100  # min_word_length: voice shorter than this is not a word
    between_words_silence_ms: int = 50  # between_words_silence: a pause that ends a word
    max_words: int = 2  # maximum_number_of_words: more words than this -> machine
    max_word_length_ms: int = 5000  # maximum_word_length: one word this long -> machine
    silence_threshold: int = 256  # silence_threshold: mean |sample| of a silent frame


@dataclass(frozen=True)
class AmdResult:
    verdict: Verdict
    cause: str  # app_amd's AMDCAUSE, e.g. "INITIALSILENCE-2500-2500", "HUMAN-800-800"


class AmdDetector:
    """Feed 20 ms frames of linear samples as they arrive; a verdict comes within a few seconds."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self._s = settings or AmdSettings()
        self._total_ms = 0
        self._silence_ms = 0  # consecutive silence, as Asterisk's DSP reports it
        self._voice_ms = 0
        self._consecutive_voice_ms = 0
        self._words = 0
        # app_amd starts "in a word": speech from the very first frame is not counted as one.
        self._in_word = True
        self._in_initial_silence = True
        self._in_greeting = False
        self.result: AmdResult | None = None

    def feed(self, frame_samples: Sequence[int] | None, frame_ms: int = 20) -> Verdict | None:
        """Analyse one frame (None = no audio received: counted as silence); None while undecided."""
        if self.result is None:
            self.result = self._step(frame_samples, frame_ms)
        return self.result.verdict if self.result else None

    def _step(self, samples: Sequence[int] | None, frame_ms: int) -> AmdResult | None:
        self._total_ms += frame_ms
        if self._total_ms >= self._s.total_analysis_ms:
            return AmdResult(Verdict.NOTSURE, f"TOOLONG-{self._total_ms}")
        if samples is None or _is_silent(samples, self._s.silence_threshold):
            self._silence_ms += frame_ms
            return self._on_silence()
        self._silence_ms = 0
        return self._on_voice(frame_ms)

    def _on_silence(self) -> AmdResult | None:
        s, silence = self._s, self._silence_ms
        if silence >= s.between_words_silence_ms:
            self._in_word = False
            self._consecutive_voice_ms = 0
        if self._in_initial_silence and silence >= s.initial_silence_ms:
            return AmdResult(Verdict.MACHINE, f"INITIALSILENCE-{silence}-{s.initial_silence_ms}")
        if self._in_greeting and silence >= s.after_greeting_silence_ms:
            return AmdResult(Verdict.HUMAN, f"HUMAN-{silence}-{s.after_greeting_silence_ms}")
        return None

    def _on_voice(self, frame_ms: int) -> AmdResult | None:
        s = self._s
        self._consecutive_voice_ms += frame_ms
        self._voice_ms += frame_ms
        if self._consecutive_voice_ms >= s.min_word_length_ms and not self._in_word:
            self._words += 1
            self._in_word = True
        if self._consecutive_voice_ms >= s.max_word_length_ms:
            return AmdResult(Verdict.MACHINE, f"MAXWORDLENGTH-{self._consecutive_voice_ms}")
        if self._words > s.max_words:
            return AmdResult(Verdict.MACHINE, f"MAXWORDS-{self._words}-{s.max_words}")
        if self._in_greeting and self._voice_ms >= s.greeting_ms:
            return AmdResult(Verdict.MACHINE, f"LONGGREETING-{self._voice_ms}-{s.greeting_ms}")
        if self._consecutive_voice_ms >= s.min_word_length_ms:
            self._in_initial_silence = False
            self._in_greeting = True
        return None


def _is_silent(samples: Sequence[int], threshold: int) -> bool:
    # Asterisk's ast_dsp_silence: the frame's mean absolute amplitude under the threshold.
    return not samples or sum(map(abs, samples)) < threshold * len(samples)


def classify(
    frames: Iterable[Sequence[int] | None],
    settings: AmdSettings | None = None,
    frame_ms: int = 20,
) -> AmdResult:
    """Run the detector over recorded frames; audio that ends undecided is NOTSURE (HANGUP)."""
    detector = AmdDetector(settings)
    total = 0
    for frame in frames:
        total += frame_ms
        if detector.feed(frame, frame_ms) is not None:
            break
    return detector.result or AmdResult(Verdict.NOTSURE, f"HANGUP-{total}")
