"""Draws of ranged inputs: each run's values, from its own stream, the same in both engines.

A run's inputs are drawn from the run's stream key (the key of its loyalty noise and its
realign and collapse draws, streams.py) at counters of their own: 2**63 plus a 62-bit hash
of the field's dotted path. The model's draws sit at counters below 2**40, so the two never
meet: adding, removing or changing a range moves no other draw (neither the model's nor
another range's). One uniform per field and run, turned into the value by the inverse of
the distribution's CDF with numpy operations that round alike whatever the array's size,
so the Mesa engine (one run) and the ensemble (thousands) draw the same bits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from patronage.rng import streams
from patronage.scenario.ranges import Distribution, RangedInput

INPUT_COUNTERS = 1 << 63


def input_counter(path: str) -> int:
    """The counter at which a field's draw sits in every run's stream."""
    digest = hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest()
    return INPUT_COUNTERS | (int.from_bytes(digest, "little") >> 2)


def quantile(dist: Distribution, u: np.ndarray) -> np.ndarray:
    """The value at cumulative probability u (in [0, 1)) of a distribution, elementwise.

    Uniform: low + u (high - low). Triangular: the two branches of its inverse CDF. Whole
    numbers: a uniform over low..high, each equally likely; a triangular is drawn on
    [low - 1/2, high + 1/2] and rounded, so each whole number takes the mass of its unit.
    """
    u = np.asarray(u, dtype=np.float64)
    low, high = float(dist.low), float(dist.high)
    if dist.integer:
        if dist.mode is None:
            value = np.floor(low + u * (high - low + 1.0))
        else:
            value = np.floor(_triangular(low - 0.5, float(dist.mode), high + 0.5, u) + 0.5)
    elif dist.mode is None:
        value = low + u * (high - low)
    else:
        value = _triangular(low, float(dist.mode), high, u)
    return np.minimum(np.maximum(value, low), high)  # rounding never leaves the range


def _triangular(low: float, mode: float, high: float, u: np.ndarray) -> np.ndarray:
    width = high - low
    if width <= 0.0:
        return np.full(u.shape, low)
    split = (mode - low) / width  # the CDF at the mode
    rising = low + np.sqrt(u * width * (mode - low))
    falling = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(u < split, rising, falling)


def draw_inputs(keys: np.ndarray, inputs: Iterable[RangedInput]) -> dict[str, np.ndarray]:
    """Each ranged field's value in each run, by dotted path; arrays of shape keys.shape
    (whole numbers as int64, the others as float64)."""
    keys = np.asarray(keys, dtype=np.uint64)
    out: dict[str, np.ndarray] = {}
    for ranged in inputs:
        u = streams.uniform_at(keys, input_counter(ranged.path))
        value = quantile(ranged.distribution, u)
        out[ranged.path] = value.astype(np.int64) if ranged.distribution.integer else value
    return out
