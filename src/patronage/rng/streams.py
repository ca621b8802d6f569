"""Counter-based random numbers: every draw is a pure function of (key, step, draw, partner).

Both engines draw through these functions: the Mesa model for one run (key is a scalar),
the ensemble engine for thousands of runs at once (key is an array). A draw therefore does
not depend on how many runs share an array, on agent order, or on which worker ran it, and
the two engines agree bit for bit even with noise on.

The generator is SplitMix64 (Steele, Lea & Flood 2014) read at position `counter`: the
output for state key + (counter + 1) * gamma, through the SplitMix64 finaliser. Keys are
64-bit draws from the run's numpy Generator, so distinct runs have unrelated streams.
"""

from __future__ import annotations

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)

# Each step draws these vectors, one number per partner, whatever happens in it, so streams
# never shift: the positions of every later draw are fixed by (step, draw, partner) alone.
DRAW_LOYALTY_NOISE_A = 0
DRAW_LOYALTY_NOISE_B = 1
DRAW_REALIGN = 2
DRAW_COLLAPSE = 3
DRAWS_PER_STEP = 4


def new_key(rng: np.random.Generator) -> np.uint64:
    """A stream key drawn from a run's numpy Generator (its only use of that Generator)."""
    return np.uint64(rng.integers(0, 2**64, dtype=np.uint64, endpoint=False))


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


def uniforms(
    key: np.ndarray | np.uint64, first_step: int, n_steps: int, n_partners: int
) -> np.ndarray:
    """Every uniform draw in [0, 1) of `n_steps` steps from `first_step` on.

    Shape: key.shape + (n_steps, DRAWS_PER_STEP, n_partners). The draw for (step, draw,
    partner) sits at counter (step * DRAWS_PER_STEP + draw) * n_partners + partner.
    """
    keys = np.asarray(key, dtype=np.uint64)[..., None]
    first = np.uint64(first_step) * np.uint64(DRAWS_PER_STEP * n_partners)
    count = n_steps * DRAWS_PER_STEP * n_partners
    counter = first + np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        state = keys + (counter + np.uint64(1)) * GAMMA
        bits = _mix(state)
    values = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return values.reshape(*np.shape(key), n_steps, DRAWS_PER_STEP, n_partners)


def box_muller(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Standard normal draws from two uniform arrays (for the loyalty noise)."""
    radius = np.sqrt(-2.0 * np.log1p(-u1))  # 1 - u1 is in (0, 1]: never log(0)
    return radius * np.cos(2.0 * np.pi * u2)


def uniform_at(key: np.ndarray | np.uint64, counter: int) -> np.ndarray:
    """The uniform draw in [0, 1) at one counter of each key's stream (shape key.shape)."""
    keys = np.asarray(key, dtype=np.uint64)
    with np.errstate(over="ignore"):
        state = keys + np.uint64(counter + 1) * GAMMA
        bits = _mix(state)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
