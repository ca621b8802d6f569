"""The Python API for notebooks: run a batch, open a result folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import store
from .batch import run_batch as _run_batch
from .design import Design, from_scenario
from .executors import default_workers, make_executor
from .loader import LoadedScenario, load
from .results import Results, open_results


def run_batch(
    scenario: str | Path | LoadedScenario,
    design: Design | None = None,
    *,
    sweeps: dict[str, list[Any]] | None = None,
    samples: dict[str, tuple[float, float]] | None = None,
    n_samples: int = 0,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    engine: str = "mesa",
    steps: int | None = None,
    series_every: int | None = 1,
    resume: bool = False,
    replace: bool = False,
    progress: bool = False,
) -> Results:
    """Run a batch and return its Results (DataFrames `.runs`, `.events`, `.series`).

    The design is `design`, or built from the keyword arguments on top of the scenario's own
    `batch:` section, as on the command line.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load(scenario, overrides)
    if design is None:
        base = from_scenario(loaded.scenario.batch)
        design = Design(
            sweeps=sweeps if sweeps is not None else base.get("sweeps", {}),
            samples=samples if samples is not None else base.get("samples", {}),
            n_samples=n_samples or base.get("n_samples", 0),
            replicates=replicates or base.get("replicates") or 100,
            seed=seed if seed is not None else base.get("seed", 0),
        )
    out = out if out is not None else store.default_out(loaded.scenario.name)
    runner = make_executor(executor, workers or default_workers(), scheduler)
    _run_batch(
        loaded,
        design,
        Path(out),
        runner,
        steps=steps,
        series_every=series_every,
        engine=engine,
        resume=resume,
        replace=replace,
        progress=progress,
        executor_name=executor,
    )
    return open_results(out)


__all__ = ["Design", "Results", "open_results", "run_batch"]
