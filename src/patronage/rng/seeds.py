"""How every run's seed derives from a batch seed: run k gets child k of one SeedSequence.

SeedSequence(batch_seed).spawn(n)[k] equals SeedSequence(batch_seed, spawn_key=(k,)), so a
run's seed needs neither the other runs nor the order in which they were made.
"""

from __future__ import annotations

import numpy as np

DERIVATION = (
    "numpy.random.SeedSequence(seed, spawn_key=(run_id,)) == SeedSequence(seed).spawn(n)[run_id]"
)


def run_seed_sequence(batch_seed: int, run_id: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(batch_seed, spawn_key=(run_id,))
