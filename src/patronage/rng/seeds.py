"""How every run's seed derives from a batch seed: a child of one SeedSequence per stream.

SeedSequence(batch_seed).spawn(n)[k] equals SeedSequence(batch_seed, spawn_key=(k,)), so a
run's seed needs neither the other runs nor the order in which they were made.

Which child a run takes is its stream. With common random numbers (the default), run k of a
design with R replicates per point takes child k % R: replicate r of every design point
shares one stream (its loyalty noise, its realign and collapse draws, its ranged inputs),
so the differences between points are paired and curves over a swept field are smooth.
With independent streams (--independent-streams, and every batch written before common
random numbers), run k takes child k. A one-point design is the same either way.
"""

from __future__ import annotations

import numpy as np

COMMON = "common"
INDEPENDENT = "independent"
STREAMS = (COMMON, INDEPENDENT)

DERIVATION = (
    "numpy.random.SeedSequence(seed, spawn_key=(run_id,)) == SeedSequence(seed).spawn(n)[run_id]"
)
DERIVATIONS = {
    COMMON: "numpy.random.SeedSequence(seed, spawn_key=(run_id % replicates,)): replicate r "
    "of every design point shares child r of the batch seed (common random numbers)",
    INDEPENDENT: DERIVATION,
}


def stream_id(run_id: int, replicates: int, streams: str = COMMON) -> int:
    """The child of the batch seed that seeds run `run_id`."""
    return run_id % replicates if streams == COMMON else run_id


def run_seed_sequence(batch_seed: int, run_id: int) -> np.random.SeedSequence:
    """The SeedSequence of stream `run_id` (a run's stream, see stream_id)."""
    return np.random.SeedSequence(batch_seed, spawn_key=(run_id,))
