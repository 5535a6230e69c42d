"""In-band DTMF with numpy: the domain's Goertzel detector (same settings, same decisions, same
digit timing) with the eight tone powers of every block computed as one matrix product.

Why: the pure-Python Goertzel costs ~165 us per 20 ms frame (1.6 cores for 200 calls); this one
costs ~15 us. A Goertzel power |sum x[n] e^(-jwn)|^2 is exactly a projection on cos/sin at that
frequency, so the matrix form gives the same numbers up to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from appliance.domain.dtmf import GoertzelDetector, GoertzelSettings

_TONES_HZ = (697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0)  # rows, then columns
_KEYPAD = ("123A", "456B", "789C", "*0#D")

Samples = npt.NDArray[np.float64]


class NumpyGoertzelDetector(GoertzelDetector):
    """Drop-in for GoertzelDetector: feed()/feed_pcm16() return the digits that started."""

    def __init__(self, settings: GoertzelSettings | None = None) -> None:
        super().__init__(settings)
        n, rate = self._s.block_size, self._s.sample_rate
        phase = np.outer(2.0 * math.pi * np.asarray(_TONES_HZ) / rate, np.arange(n))
        # scaled so that a squared projection is already the tone's mean square
        basis = np.concatenate((np.cos(phase), np.sin(phase))).T * math.sqrt(self._scale)
        self._basis: Samples = np.ascontiguousarray(basis)  # (n, 16)
        self._rest: Samples = np.zeros(0)

    def feed(self, samples: Sequence[int]) -> list[str]:
        return self._feed_array(np.asarray(samples, dtype=np.float64))

    def feed_pcm16(self, data: bytes) -> list[str]:
        return self._feed_array(np.frombuffer(data, dtype="<i2").astype(np.float64))

    def _feed_array(self, samples: Samples) -> list[str]:
        n = self._s.block_size
        buf = np.concatenate((self._rest, samples)) if self._rest.size else samples
        count = buf.size // n
        self._rest = buf[count * n :].copy()
        if count == 0:
            return []
        blocks = buf[: count * n].reshape(count, n)
        squares = np.square(blocks @ self._basis)
        powers = squares[:, :8] + squares[:, 8:]
        totals = np.einsum("ij,ij->i", blocks, blocks) / n
        digits: list[str] = []
        for block_powers, total in zip(powers.tolist(), totals.tolist(), strict=True):
            # a tone's power is at most twice the block's mean square (Cauchy-Schwarz): a
            # quiet block cannot hold two tones above the floor, so skip the rules
            loud = 2.0 * total >= self._min_power
            digit = self._on_block(self._decide(block_powers, total) if loud else None)
            if digit is not None:
                digits.append(digit)
        return digits

    def _decide(self, powers: list[float], total: float) -> str | None:
        # the same rules as GoertzelDetector._classify, on precomputed powers
        rows, cols = powers[:4], powers[4:]
        row = max(range(4), key=rows.__getitem__)
        col = max(range(4), key=cols.__getitem__)
        if not self._plausible(rows, cols, row, col):
            return None
        if rows[row] + cols[col] < self._s.min_energy_ratio * total:
            return None
        return _KEYPAD[row][col]
