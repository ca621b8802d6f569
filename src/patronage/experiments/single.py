"""`patronage run`: one seeded run, written as a result folder of one row.

It is a batch of one run (run 0 of a batch with the same seed), built under a temporary
name and renamed whole: the folder is complete or does not exist.
"""

from __future__ import annotations

from pathlib import Path

from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results.folder import Results, open_results
from patronage.scenario.loader import LoadedScenario


def run_one(
    loaded: LoadedScenario,
    seed: int,
    out: Path,
    steps: int | None = None,
    series_every: int | None = 1,
    replace: bool = False,
) -> Results:
    """Run a scenario once: a batch of one run, so it writes the same result folder."""
    run_batch(
        loaded,
        Design(seed=seed),
        out,
        steps=steps,
        series_every=series_every,
        replace=replace,
        progress=False,
        staged=True,
    )
    return open_results(out)
