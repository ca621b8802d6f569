"""Small batches of the bundled scenario shared by the compare, plots and report tests.

Each is built once per session, under a name: the same name gives the same batch, so the
three test modules reuse one another's batches (the fixtures `base` and `cut` live in
conftest.py).
"""

from __future__ import annotations

from pathlib import Path

from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results.folder import Results, open_results
from patronage.scenario.loader import load

SYRIA = Path(__file__).resolve().parents[1] / "scenarios" / "syria_withdrawal.yaml"
LEVELS = [0, 1]
REPS = 15
STEPS = 48


def make_batch(
    root: Path,
    name: str,
    *,
    sets: tuple[str, ...] = (),
    sweeps: dict | None = None,
    replicates: int = REPS,
    seed: int = 0,
    steps: int = STEPS,
    every: int | None = 12,
    scenario: Path = SYRIA,
) -> Results:
    """A small batch of a scenario, built once per session (cached by name)."""
    out = root / name
    if not (out / "manifest.json").exists():
        design = Design(sweeps=sweeps or {}, replicates=replicates, seed=seed)
        run_batch(
            load(scenario, list(sets)), design, out, steps=steps, series_every=every, progress=False
        )
    return open_results(out)
