"""Batches: a scenario and a design, run in chunks, stored as they finish, resumable.

While a batch runs, its folder holds manifest.json (status "running", the chunks done, the
runs that failed) and chunks/NNNNNN-{runs,events,series}.parquet, each renamed into place
when complete. A batch killed at any moment (SIGKILL included) resumes with `--resume`:
chunks the manifest lists as done are kept, the others are run again. At the end the chunks
are consolidated, in chunk order and in row groups of a fixed size, into the three tables,
so the bytes do not depend on workers, executor, completion order or interruptions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import provenance, store
from .design import Design
from .errors import InputError
from .executors import Executor, InProcess
from .loader import LoadedScenario, from_text, override_scenario
from .progress import Progress

CHUNK_RUNS = {"mesa": 20, "ensemble": 2000}
ROW_GROUP = 65_536
ENGINES = ("mesa", "ensemble")


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
    events: pa.Table
    series: pa.Table
    failed: dict[int, str]
    seconds: float


@functools.lru_cache(maxsize=64)
def _scenario(text: str, source: str, overrides: tuple[str, ...], assignments_json: str):
    loaded = from_text(text, source, overrides)
    return override_scenario(loaded, json.loads(assignments_json))


def run_chunk(job: Job, task: ChunkTask) -> ChunkOutput:
    """Compute one chunk (in a worker): the runs of one design point, by the chosen engine."""
    started = time.perf_counter()
    scenario = _scenario(
        job.text, job.source, job.overrides, json.dumps(task.assignments, sort_keys=True)
    )
    if job.engine == "ensemble":
        from .ensemble import run_group
    else:
        from .runner import run_group
    tables = run_group(
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
        tables.events,
        tables.series,
        tables.failed,
        time.perf_counter() - started,
    )


def param_value(value: Any) -> float | str:
    """How a design value is recorded in the runs table: numbers as floats, others as JSON."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return json.dumps(value, sort_keys=True)
    return float(value)


def plan_chunks(design: Design, points: list[dict[str, Any]], chunk_runs: int) -> list[ChunkTask]:
    """Chunks of at most `chunk_runs` runs, never spanning two design points."""
    tasks = []
    for p, assignments in enumerate(points):
        first = p * design.replicates
        params = {k: param_value(v) for k, v in assignments.items()}
        for start in range(0, design.replicates, chunk_runs):
            stop = min(start + chunk_runs, design.replicates)
            run_ids = tuple(range(first + start, first + stop))
            tasks.append(ChunkTask(len(tasks), p, run_ids, assignments, params))
    return tasks


def check_points(loaded: LoadedScenario, points: list[dict[str, Any]]) -> None:
    """Validate every design point before anything is written: bad values fail up front."""
    for assignments in points:
        override_scenario(loaded, assignments)


def design_fingerprint(loaded: LoadedScenario, design: Design, job: Job, chunk_runs: int) -> str:
    """What a resume must match: the scenario, the design, the seed, the horizon, the engine."""
    key = {
        "scenario_sha256": loaded.sha256,
        "overrides": list(loaded.overrides),
        "design": design.to_dict(),
        "steps": job.steps,
        "series_every": job.series_every,
        "engine": job.engine,
        "chunk_runs": chunk_runs,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def run_batch(
    loaded: LoadedScenario,
    design: Design,
    out: Path,
    executor: Executor | None = None,
    *,
    steps: int | None = None,
    series_every: int | None = 1,
    engine: str = "mesa",
    resume: bool = False,
    replace: bool = False,
    chunk_runs: int | None = None,
    progress: bool = True,
    executor_name: str = "local",
) -> dict[str, Any]:
    """Run (or finish) a batch into `out`; returns the final manifest."""
    if engine not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)}, got '{engine}'", source="--engine")
    executor = executor or InProcess()
    chunk_runs = chunk_runs or CHUNK_RUNS[engine]
    job = Job(
        loaded.text, loaded.source, loaded.overrides, design.seed, steps, series_every, engine
    )
    points = design.points()
    fingerprint = design_fingerprint(loaded, design, job, chunk_runs)
    tasks = plan_chunks(design, points, chunk_runs)
    chunks = out / "chunks"

    if resume:
        manifest = _resume_manifest(out, fingerprint)
        if manifest["status"] == "complete":
            return manifest
    else:
        check_points(loaded, points)
        _claim_folder(out, replace)
        manifest = store.new_manifest(
            loaded,
            kind="batch",
            seed=design.seed,
            steps=steps or loaded.scenario.steps,
            series_every=series_every,
            design=design.to_dict(),
            n_runs=design.n_runs,
            started=provenance.now(),
            engine=engine,
        )
        manifest.update(
            fingerprint=fingerprint,
            executor=executor_name,
            points=points,
            chunk_runs=chunk_runs,
            chunks_done=[],
            chunk_seconds={},  # compute time of each chunk (its runs are in `chunk_runs`)
            failed_runs={},
            param_columns=[f"param.{name}" for name in design.param_names],
        )
        chunks.mkdir(parents=True, exist_ok=True)
        store.write_json(manifest, out / store.MANIFEST)

    done = set(manifest["chunks_done"])
    todo = [t for t in tasks if t.index not in done or not _chunk_complete(chunks, t.index)]
    manifest["status"] = "running"
    manifest["runs"]["done"] = design.n_runs - sum(len(t.run_ids) for t in todo)
    bar = Progress(design.n_runs, manifest["runs"]["done"], enabled=progress)
    try:
        for output in executor.imap_unordered(run_chunk, job, todo):
            _write_chunk(chunks, output)
            manifest["chunks_done"] = sorted({*manifest["chunks_done"], output.index})
            manifest["failed_runs"].update({str(k): v for k, v in output.failed.items()})
            manifest["chunk_seconds"][str(output.index)] = round(output.seconds, 4)
            n_runs = len(tasks[output.index].run_ids)
            manifest["runs"]["done"] += n_runs
            manifest["runs"]["failed"] = len(manifest["failed_runs"])
            store.write_json(manifest, out / store.MANIFEST)
            bar.update(n_runs)
    except KeyboardInterrupt:
        manifest["status"] = "stopped"
        store.write_json(manifest, out / store.MANIFEST)
        raise
    finally:
        bar.close()

    _consolidate(out, tasks, loaded, design)
    manifest["status"] = "complete"
    manifest["finished"] = provenance.now()
    manifest["tables"] = {name: store.file_sha256(out / f"{name}.parquet") for name in store.TABLES}
    store.write_json(manifest, out / store.MANIFEST)
    shutil.rmtree(chunks, ignore_errors=True)
    return manifest


def _claim_folder(out: Path, replace: bool) -> None:
    if out.exists():
        if not replace:
            raise InputError(
                "already exists; choose another --out, --resume it, or add --force to replace it",
                source=str(out),
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)


def _resume_manifest(out: Path, fingerprint: str) -> dict[str, Any]:
    manifest = store.read_manifest(out)
    if manifest.get("kind") != "batch":
        raise InputError("cannot resume: not a batch folder", source=str(out))
    if manifest.get("fingerprint") != fingerprint:
        old = manifest.get("scenario", {}).get("sha256", "?")[:12]
        raise InputError(
            "cannot resume: the scenario, design, seed, steps, series, engine or "
            "--chunk-runs differ from "
            f"the batch in this folder (its scenario sha256 {old}); resume with the same "
            "command that started it, or start a new --out",
            source=str(out),
        )
    return manifest


def _chunk_path(chunks: Path, index: int, table: str) -> Path:
    return chunks / f"{index:06d}-{table}.parquet"


def _chunk_complete(chunks: Path, index: int) -> bool:
    return all(_chunk_path(chunks, index, t).exists() for t in store.TABLES)


def _write_chunk(chunks: Path, output: ChunkOutput) -> None:
    for name in store.TABLES:
        store.write_table(getattr(output, name), _chunk_path(chunks, output.index, name))


def _consolidate(out: Path, tasks: list, loaded: LoadedScenario, design: Design) -> None:
    """Concatenate the chunks in chunk order into row groups of ROW_GROUP rows."""
    for name in store.TABLES:
        paths = [_chunk_path(out / "chunks", t.index, name) for t in tasks]
        dest = out / f"{name}.parquet"
        tmp = dest.with_name(f".{dest.name}.tmp")
        writer: pq.ParquetWriter | None = None
        pending: list[pa.Table] = []
        pending_rows = 0
        for path in paths:
            table = pq.read_table(path)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            pending.append(table)
            pending_rows += table.num_rows
            while pending_rows >= ROW_GROUP:
                joined = pa.concat_tables(pending)
                writer.write_table(joined.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                rest = joined.slice(ROW_GROUP)
                pending, pending_rows = [rest], rest.num_rows
        assert writer is not None, "a batch has at least one chunk"
        if pending_rows:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
        writer.close()
        tmp.replace(dest)
