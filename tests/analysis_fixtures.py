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

TIPPING_SMALL = (  # a tipping search of a few seconds
    "--field",
    "withdrawal.level",
    "--levels",
    "6",
    "--replicates",
    "60",
    "--refine-levels",
    "5",
    "--refine-replicates",
    "150",
    "--rounds",
    "1",
    "--no-progress",
)

SENSITIVITY_SMALL = (  # a Morris study of a few seconds
    "--factor",
    "withdrawal.level=0.3:1",
    "--factor",
    "withdrawal.start=0:12",
    "--trajectories",
    "4",
    "--replicates",
    "10",
    "--steps",
    "36",
    "--no-progress",
)


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
