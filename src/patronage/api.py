"""The Python API for notebooks: run a batch, open a result folder, run a sensitivity or a
tipping study. Each does what its command does and writes the same folder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from patronage.analysis.factors import Factor, checked, parse_factors
from patronage.analysis.sensitivity import Study, run_study
from patronage.analysis.tipping import Search
from patronage.analysis.tipping_study import (
    FIGURE,
    TippingStudy,
    checked_partners,
    checked_target,
    field_range,
    run_tipping,
)
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
    loaded = _loaded(scenario, overrides)
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


def _loaded(scenario: str | Path | LoadedScenario, overrides: Any) -> LoadedScenario:
    return scenario if isinstance(scenario, LoadedScenario) else load(scenario, overrides)


def _out(out: str | Path | None, loaded: LoadedScenario) -> Path:
    return Path(out) if out is not None else store.default_out(loaded.scenario.name)


def _study_batch(workers: int, steps: int | None, engine: str, progress: bool) -> dict:
    """The batch options of a study, as its command sets them: studies read outcomes only."""
    return {
        "executor": make_executor("local", workers, None),
        "steps": steps,
        "series_every": None,
        "engine": engine,
        "progress": progress,
    }


@dataclass(frozen=True)
class Sensitivity:
    """A finished sensitivity study: its result folder (a batch with indices.parquet) and
    the indices, one row per (partner, output, factor), ranked within each (partner,
    output) by mu* (Morris) or ST (Sobol')."""

    folder: Path
    indices: pd.DataFrame
    runs: int


def sensitivity(
    scenario: str | Path | LoadedScenario,
    factors: dict[str, tuple[float, float]] | None = None,
    *,
    coefficients: bool = False,
    method: str = "morris",
    size: int | None = None,
    replicates: int = 50,
    seed: int = 0,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    engine: str = "ensemble",
    workers: int = 1,
    steps: int | None = None,
    resume: bool = False,
    replace: bool = False,
    progress: bool = False,
) -> Sensitivity:
    """Which inputs drive each partner's outcomes, as `patronage sensitivity` does.

    `factors` maps a dotted path to its (low, high); `coefficients=True` adds every model
    coefficient over its studied range. `size` is the Morris trajectories (default 20) or
    the Sobol' base sample (a power of 2, default 64). Resumable with `resume=True`.
    """
    loaded = _loaded(scenario, overrides)
    given = [f"{path}={low}:{high}" for path, (low, high) in (factors or {}).items()]
    chosen: list[Factor] = checked(
        loaded, parse_factors(given, ["coefficients"] if coefficients else [])
    )
    size = size if size is not None else (20 if method == "morris" else 64)
    study = Study(method, tuple(chosen), int(size), int(seed))
    folder = _out(out, loaded)
    manifest, indices = run_study(
        loaded,
        study,
        int(replicates),
        folder,
        resume=resume,
        replace=replace,
        **_study_batch(workers, steps, engine, progress),
    )
    return Sensitivity(folder, indices, manifest.runs.total)


def tipping(
    scenario: str | Path | LoadedScenario,
    field: str,
    partner: str = "all",
    *,
    outcome: str = "realign",
    target: float = 0.5,
    span: tuple[float, float] | None = None,
    search: Search | None = None,
    seed: int = 0,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    engine: str = "ensemble",
    workers: int = 1,
    steps: int | None = None,
    resume: bool = False,
    replace: bool = False,
    progress: bool = False,
    figure: bool = True,
) -> TippingStudy:
    """Where a partner's P(outcome) crosses `target` as `field` varies over `span` (default
    0 to 1), as `patronage tipping` does: `.crossings` has one row per crossing with its
    direction and 95% interval, `.curves` the coarse scan. `search` sets the effort (levels,
    replicates, refinement rounds; its low and high are taken from `span`). With `figure`,
    tipping.png is drawn in the folder too.
    """
    from patronage.reporting.crossings import save_crossings_figure

    loaded = _loaded(scenario, overrides)
    partners = checked_partners(loaded, partner)
    checked_target(target)
    low, high = field_range(loaded, field, span)
    effort = dataclasses.replace(search, low=low, high=high) if search else Search(low, high)
    folder = _out(out, loaded)
    study = run_tipping(
        loaded,
        field,
        partners,
        outcome,
        float(target),
        effort,
        int(seed),
        folder,
        resume=resume,
        replace=replace,
        **_study_batch(workers, steps, engine, progress),
    )
    if figure:
        save_crossings_figure(study, folder / FIGURE)
    return study


__all__ = [
    "Design",
    "Results",
    "Search",
    "Sensitivity",
    "TippingStudy",
    "open_results",
    "run_batch",
    "sensitivity",
    "tipping",
]
