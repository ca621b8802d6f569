"""Chunks: the unit of work of a batch, computed by any executor, and by `verify` too.

A `Job` carries everything a worker needs as data (the scenario text, not a path), and a
`ChunkTask` consecutive runs (of one design point or many); `run_chunk` turns them into
table rows with the chosen engine. Both are picklable, so local pools and Dask workers run
the same function.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from patronage.engines.base import PlanEngine, get_plan_engine
from patronage.engines.plan import RunPlan
from patronage.experiments.design import Design
from patronage.rng.seeds import INDEPENDENT, stream_id
from patronage.scenario.loader import LoadedScenario, from_text

__all__ = [
    "ChunkOutput",
    "ChunkTask",
    "Job",
    "loaded_for",
    "plan_chunks",
    "plan_for",
    "remember",
    "run_chunk",
    "task_plan",
]


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to compute a chunk: data only, no paths to read.

    `streams` says which child of the batch seed seeds each run (rng/seeds.py); `numeric`
    the column type of each designed field (decided once for the batch).
    """

    text: str
    source: str
    overrides: tuple[str, ...]
    seed: int
    steps: int | None
    series_every: int | None
    engine: str
    replicates: int = 1
    streams: str = INDEPENDENT
    numeric: dict[str, bool] = field(default_factory=dict, hash=False)
    # the module implementing the engine, resolved where the batch starts (so an engine
    # registered there, such as a test-only one, is found by the workers too)
    engine_module: str = ""


@dataclass(frozen=True)
class ChunkTask:
    """Consecutive runs, of one design point or several: run k is replicate k % replicates
    of point k // replicates; `points` holds the designed values of the points it spans."""

    index: int
    run_ids: tuple[int, ...]
    points: dict[int, dict[str, Any]] = field(hash=False)


@dataclass
class ChunkOutput:
    """The tables of one finished chunk, as a worker returns them."""

    index: int
    runs: pa.Table
    outcomes: pa.Table
    events: pa.Table
    series: pa.Table
    failed: dict[int, str]
    seconds: float


# The scenario last parsed in this process, by (text, source, overrides): a batch run in
# process hands its own over (`remember`), so a 100,000-partner scenario is parsed once.
_LOADED: dict[tuple[str, str, tuple[str, ...]], LoadedScenario] = {}


def remember(loaded: LoadedScenario) -> None:
    """Let chunks computed in this process use an already parsed scenario."""
    _LOADED.clear()
    _LOADED[(loaded.text, loaded.source, tuple(loaded.overrides))] = loaded


def loaded_for(text: str, source: str, overrides: tuple[str, ...]) -> LoadedScenario:
    """The loaded scenario for this text, loaded once per worker process."""
    key = (text, source, tuple(overrides))
    if key not in _LOADED:
        remember(from_text(text, source, overrides))
    return _LOADED[key]


def plan_for(job: Job, task: ChunkTask) -> RunPlan:
    """The runs of a chunk as an engine's RunPlan: ids, streams, design points."""
    loaded = loaded_for(job.text, job.source, job.overrides)
    return task_plan(loaded, task, job.replicates, job.streams, job.numeric)


def task_plan(
    loaded: LoadedScenario,
    task: ChunkTask,
    replicates: int,
    streams: str,
    numeric: dict[str, bool] | None = None,
) -> RunPlan:
    """A chunk's runs of an already loaded scenario: run k is replicate k % replicates of
    point k // replicates, seeded by its stream (rng/seeds.py). The page computes its panels
    with this, so they run what a batch of the same design runs."""
    order = sorted(task.points)
    slot = {p: k for k, p in enumerate(order)}
    return RunPlan(
        loaded,
        task.run_ids,
        tuple(stream_id(r, replicates, streams) for r in task.run_ids),
        tuple(slot[r // replicates] for r in task.run_ids),
        tuple(task.points[p] for p in order),
        dict(numeric or {}),
    )


def run_chunk(job: Job, task: ChunkTask) -> ChunkOutput:
    """Compute one chunk (in a worker) with the chosen engine."""
    started = time.perf_counter()
    if job.engine_module:
        engine: PlanEngine = importlib.import_module(job.engine_module).run_plan
    else:
        engine = get_plan_engine(job.engine)
    tables = engine(plan_for(job, task), job.seed, steps=job.steps, series_every=job.series_every)
    return ChunkOutput(
        task.index,
        tables.runs,
        tables.outcomes,
        tables.events,
        tables.series,
        tables.failed,
        time.perf_counter() - started,
    )


def plan_chunks(design: Design, points: list[dict[str, Any]], chunk_runs: int) -> list[ChunkTask]:
    """Chunks of at most `chunk_runs` consecutive runs, across design points: an engine
    steps many points together (the ensemble as arrays over runs), so a design of many
    points with few replicates costs what one point with many replicates costs."""
    tasks: list[ChunkTask] = []
    for first in range(0, design.n_runs, chunk_runs):
        run_ids = tuple(range(first, min(first + chunk_runs, design.n_runs)))
        spanned = range(run_ids[0] // design.replicates, run_ids[-1] // design.replicates + 1)
        tasks.append(ChunkTask(len(tasks), run_ids, {p: points[p] for p in spanned}))
    return tasks
