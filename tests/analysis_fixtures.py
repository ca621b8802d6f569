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
    samples: dict | None = None,
    n_samples: int = 0,
    replicates: int = REPS,
    seed: int = 0,
    steps: int = STEPS,
    every: int | None = 12,
    scenario: Path = SYRIA,
) -> Results:
    """A small batch of a scenario, built once per session (cached by name)."""
    out = root / name
    if not (out / "manifest.json").exists():
        design = Design(
            sweeps=sweeps or {},
            samples=samples or {},
            n_samples=n_samples,
            replicates=replicates,
            seed=seed,
        )
        run_batch(
            load(scenario, list(sets)), design, out, steps=steps, series_every=every, progress=False
        )
    return open_results(out)


def variant(results: Results, keep_runs=None, **changes) -> Results:
    """A copy of a batch as compare sees it, with some runs gone (as if they had failed) or
    its manifest changed: the tables stay those of the folder."""
    in_design = {k: changes.pop(k) for k in ("replicates", "sweeps") if k in changes}
    manifest = results.manifest.model_copy(deep=True, update=changes)
    if in_design:
        design = manifest.design.model_copy(update=in_design)
        manifest = manifest.model_copy(update={"design": design})
    out = Results(results.path, manifest)
    runs = results.runs if keep_runs is None else results.runs[keep_runs(results.runs)]
    out.__dict__["runs"] = runs.reset_index(drop=True)  # cached_property: set what it holds
    kept = runs["run_id"]
    out.__dict__["events"] = results.events[results.events["run_id"].isin(kept)]
    out.__dict__["outcomes"] = results.outcomes[results.outcomes["run_id"].isin(kept)]
    return out
