"""Chunks: the unit of work of a batch, computed by any executor, and by `verify` too.

A `Job` carries everything a worker needs as data (the scenario text, not a path), and a
`ChunkTask` the runs of one design point; `run_chunk` turns them into table rows with the
chosen engine. Both are picklable, so local pools and Dask workers run the same function.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from patronage.engines.base import get_engine
from patronage.experiments.design import Design
from patronage.results.params import numeric_fields, param_value
from patronage.scenario.loader import LoadedScenario, from_text, override_scenario
from patronage.scenario.schema import Scenario

__all__ = [
    "ChunkOutput",
    "ChunkTask",
    "Job",
    "loaded_for",
    "plan_chunks",
    "remember",
    "run_chunk",
    "scenario_for",
]


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to compute a chunk: data only, no paths to read."""

    text: str
    source: str
    overrides: tuple[str, ...]
    seed: int
    steps: int | None
    series_every: int | None
    engine: str


@dataclass(frozen=True)
class ChunkTask:
    index: int
    point: int
    run_ids: tuple[int, ...]
    assignments: dict[str, Any] = field(hash=False)  # values to set in the scenario
    params: dict[str, Any] = field(hash=False)  # values recorded in the runs table


@dataclass
class ChunkOutput:
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
    key = (text, source, tuple(overrides))
    if key not in _LOADED:
        remember(from_text(text, source, overrides))
    return _LOADED[key]


@functools.lru_cache(maxsize=64)
def scenario_for(
    text: str, source: str, overrides: tuple[str, ...], assignments_json: str
) -> Scenario:
    """The scenario of one design point (cached: a worker computes many chunks of one point)."""
    return override_scenario(loaded_for(text, source, overrides), json.loads(assignments_json))


def run_chunk(job: Job, task: ChunkTask) -> ChunkOutput:
    """Compute one chunk (in a worker): the runs of one design point, by the chosen engine."""
    started = time.perf_counter()
    scenario = scenario_for(
        job.text, job.source, job.overrides, json.dumps(task.assignments, sort_keys=True)
    )
    tables = get_engine(job.engine)(
        scenario,
        job.seed,
        list(task.run_ids),
        steps=job.steps,
        series_every=job.series_every,
        params=task.params,
    )
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
    """Chunks of at most `chunk_runs` runs, never spanning two design points."""
    numeric = numeric_fields(points)
    tasks: list[ChunkTask] = []
    for p, assignments in enumerate(points):
        first = p * design.replicates
        params = {k: param_value(v, numeric[k]) for k, v in assignments.items()}
        for start in range(0, design.replicates, chunk_runs):
            stop = min(start + chunk_runs, design.replicates)
            run_ids = tuple(range(first + start, first + stop))
            tasks.append(ChunkTask(len(tasks), p, run_ids, assignments, params))
    return tasks
