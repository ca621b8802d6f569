"""The Python API for notebooks: run a batch, open a result folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from patronage.errors import InputError
from patronage.experiments.batch import run_batch as _run_batch
from patronage.experiments.design import Design, merged, plain
from patronage.experiments.design_file import read_design
from patronage.experiments.executors import default_workers, make_executor
from patronage.results import store
from patronage.results.folder import Results, open_results
from patronage.rng.seeds import COMMON, INDEPENDENT
from patronage.scenario.loader import LoadedScenario, load


def run_batch(
    scenario: str | Path | LoadedScenario,
    design: Design | str | Path | list[dict[str, Any]] | Any | None = None,
    *,
    sweeps: dict[str, list[Any]] | None = None,
    samples: dict[str, tuple[float, float]] | None = None,
    n_samples: int = 0,
    replicates: int | None = None,
    seed: int | None = None,
    independent_streams: bool = False,
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
    """Run a batch and return its Results (DataFrames `.runs`, `.outcomes`, `.events`,
    `.series`).

    Call it under `if __name__ == "__main__":` in a script: the local executor starts worker
    processes that import the script again.

    The design is `design` (a Design; explicit points as a list of {path: value} dicts, a
    pandas DataFrame with one column per path, or a .csv/.parquet file), or built from the
    keyword arguments on top of the scenario's own `batch:` section, as on the command line.
    Values may be numpy numbers (np.linspace, a sampler's array).
    Replicate k of every design point shares random stream k (common random numbers)
    unless `independent_streams`.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load(scenario, overrides)
    # numpy numbers (np.int64(24) from a loop over an array) are taken as the numbers they are
    steps, series_every, workers, n_samples = plain((steps, series_every, workers, n_samples))
    explicit: list[dict[str, Any]] | None = None
    if isinstance(design, str | Path):
        explicit, design = read_design(design, loaded), None
    elif isinstance(design, list):
        explicit, design = design, None
    elif design is not None and not isinstance(design, Design):  # a DataFrame
        explicit, design = list(design.to_dict("records")), None
    if design is None:
        design = merged(
            loaded.scenario.batch,
            sweeps=sweeps,
            samples=samples,
            n_samples=n_samples or None,
            replicates=replicates,
            seed=seed,
            explicit=explicit,
            streams=INDEPENDENT if independent_streams else COMMON,
        )
    out = out if out is not None else store.default_out(loaded.scenario.name)
    if Path(out).exists() and not (resume or replace):  # in Python's words, not the CLI's
        raise InputError(
            "already exists; pass another out=, resume=True to finish a stopped batch, or "
            "replace=True to replace it",
            source=str(out),
        )
    # As on the command line: the ensemble's parallelism is its arrays.
    workers = workers or (1 if engine == "ensemble" else default_workers())
    runner = make_executor(executor, workers, scheduler)
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
