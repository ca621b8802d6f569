"""Batches: a scenario and a design, run in chunks, stored as they finish, resumable.

While a batch runs, its folder holds manifest.json (status "running", the chunks done, the
runs that failed) and chunks/NNNNNN-{runs,outcomes,events,series}.parquet, each renamed into place
when complete. A batch killed at any moment (SIGKILL included) resumes with `--resume`:
chunks the manifest lists as done are kept, the others are run again. At the end the chunks
are consolidated, in chunk order and in row groups of a fixed size, into the four tables,
so the bytes do not depend on workers, executor, completion order or interruptions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from patronage.engines.base import ENGINES
from patronage.engines.plan import RunPlan
from patronage.errors import InputError
from patronage.experiments.chunks import ChunkOutput, Job, plan_chunks, remember, run_chunk
from patronage.experiments.design import Design
from patronage.experiments.executors import Executor, InProcess
from patronage.experiments.progress import Progress
from patronage.experiments.resume import differences
from patronage.results import provenance, store
from patronage.results.params import numeric_fields
from patronage.rng.seeds import DERIVATIONS, INDEPENDENT
from patronage.scenario.loader import LoadedScenario, check_extremes, validate
from patronage.scenario.overrides import assign

CHUNK_RUNS = {"mesa": 20, "ensemble": 2000}
ROW_GROUP = 16_384  # rows per parquet row group: bounds consolidation memory
# The outcomes table's dictionaries (every partner id) are stored once per row group: larger
# groups keep a 100,000-partner table small and quick to read.
ROW_GROUPS = {"outcomes": 131_072}
MANIFEST_EVERY = 1.0  # seconds between rewrites of a large manifest while a batch runs
LARGE_MANIFEST = 256 * 1024  # bytes


def check_points(loaded: LoadedScenario, points: list[dict[str, Any]]) -> None:
    """Validate every design point before anything is written: bad values fail up front,
    with every range it leaves at its low and at its high."""
    for assignments in points:
        data, touched = assign(loaded.data, assignments)
        validate(data, loaded.source, loaded.lines, touched)
        if loaded.ranges:
            plan = RunPlan(loaded, (0,), (0,), (0,), (assignments,))
            check_extremes(data, plan.ranges(), loaded.source, loaded.lines, touched)


def ranged_inputs(loaded: LoadedScenario, points: list[dict[str, Any]]) -> dict[str, Any]:
    """The ranges the runs draw (a sweep or sample of a field takes over its range)."""
    plan = RunPlan(loaded, (0,), (0,), (0,), tuple(points[:1]) or ({},))
    return {r.path: r.distribution.to_dict() for r in plan.ranges()}


def design_fingerprint(loaded: LoadedScenario, design: Design, job: Job, chunk_runs: int) -> str:
    """What a resume must match: the scenario, the design, the seed, the horizon, the engine."""
    key = {
        "scenario_sha256": loaded.sha256,
        "overrides": list(loaded.overrides),
        "design": design.to_dict(),
        "steps": job.steps or loaded.scenario.steps,  # the horizon, however it was given
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
    remember(loaded)  # chunks computed in this process reuse the parsed scenario
    chunk_runs = chunk_runs or CHUNK_RUNS[engine]
    previous = _resumable(out) if resume else None
    if previous is not None:  # a resume keeps the folder's streams, whatever the default
        design = dataclasses.replace(design, streams=previous["design"]["streams"])
    points = previous["points"] if previous is not None else design.points()
    job = Job(
        loaded.text,
        loaded.source,
        loaded.overrides,
        design.seed,
        steps,
        series_every,
        engine,
        replicates=design.replicates,
        streams=design.streams,
        numeric=numeric_fields(points),
    )
    fingerprint = design_fingerprint(loaded, design, job, chunk_runs)
    chunks = out / "chunks"
    journal = chunks / "journal.jsonl"

    if previous is not None:
        manifest = previous
        if manifest.get("status") == "complete" and manifest.get("chunking") != "runs":
            return manifest  # an older folder, complete: nothing to run
        _check_same_batch(manifest, loaded, design, job, chunk_runs, out)
        if manifest["status"] == "complete":
            return manifest
        # points as first drawn: a newer scipy cannot move them
        _replay_journal(manifest, journal)
    else:
        if "steps" in design.param_names:
            raise InputError(
                "sweep the horizon with --steps, not as a design field",
                source="design",
                field="steps",
            )
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
        ranges = ranged_inputs(loaded, points)
        manifest.update(
            fingerprint=fingerprint,
            executor=executor_name,
            points=points,
            chunk_runs=chunk_runs,
            chunks_done=[],
            chunk_seconds={},  # compute time of each chunk (its runs are in `chunk_runs`)
            failed_runs={},
            param_columns=[f"param.{name}" for name in [*design.param_names, *ranges]],
            ranges=ranges,  # drawn per run from its own stream (rng/inputs.py)
            streams=design.streams,
            seed_derivation=DERIVATIONS[design.streams],
            chunking="runs",  # chunks of consecutive runs across design points
        )
        chunks.mkdir(parents=True, exist_ok=True)
        store.write_json(manifest, out / store.MANIFEST)

    tasks = plan_chunks(design, points, chunk_runs)
    done = set(manifest["chunks_done"])
    todo = [t for t in tasks if t.index not in done or not _chunk_complete(chunks, t.index)]
    manifest["chunks_done"] = sorted(done - {t.index for t in todo})
    manifest["status"] = "running"
    manifest["runs"]["done"] = design.n_runs - sum(len(t.run_ids) for t in todo)
    bar = Progress(design.n_runs, manifest["runs"]["done"], enabled=progress)
    # A manifest holds the whole scenario: rewriting a large one after every chunk would cost
    # O(chunks x size), so then it is rewritten at most once a second (the journal is exact).
    throttle = len(json.dumps(manifest, default=str)) > LARGE_MANIFEST
    last_write = time.monotonic()
    try:
        with journal.open("a", encoding="utf-8") as log:
            for output in executor.imap_unordered(run_chunk, job, todo):
                _write_chunk(chunks, output)
                # The journal is the record a SIGKILL cannot tear: one short line per chunk,
                # appended after the chunk's files are in place.
                entry = {
                    "chunk": output.index,
                    "seconds": round(output.seconds, 4),
                    "failed": {str(k): v for k, v in output.failed.items()},
                }
                log.write(json.dumps(entry) + "\n")
                log.flush()
                _record_chunk(manifest, entry, len(tasks[output.index].run_ids))
                bar.update(len(tasks[output.index].run_ids))
                if not throttle or time.monotonic() - last_write >= MANIFEST_EVERY:
                    store.write_json(manifest, out / store.MANIFEST)
                    last_write = time.monotonic()
    except KeyboardInterrupt:
        manifest["status"] = "stopped"
        store.write_json(manifest, out / store.MANIFEST)
        raise
    except BaseException:
        if not resume and not manifest["chunks_done"]:
            shutil.rmtree(out, ignore_errors=True)  # nothing worth resuming: leave nothing
        else:
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


def _record_chunk(manifest: dict[str, Any], entry: dict[str, Any], n_runs: int) -> None:
    if entry["chunk"] in manifest["chunks_done"]:
        return
    manifest["chunks_done"] = sorted({*manifest["chunks_done"], entry["chunk"]})
    manifest["chunk_seconds"][str(entry["chunk"])] = entry["seconds"]
    manifest["failed_runs"].update(entry["failed"])
    manifest["runs"]["done"] += n_runs
    manifest["runs"]["failed"] = len(manifest["failed_runs"])


def _replay_journal(manifest: dict[str, Any], journal: Path) -> None:
    """Chunks finished after the manifest was last written (a torn last line is ignored)."""
    if not journal.exists():
        return
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        _record_chunk(manifest, entry, n_runs=0)  # runs done are recounted from the chunks


def _claim_folder(out: Path, replace: bool) -> None:
    if out.exists() or out.is_symlink():
        if not replace:
            raise InputError(
                "already exists; choose another --out, --resume it, or add --force to replace it",
                source=str(out),
            )
        store.check_replaceable(out)
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror}", source=str(out)) from None


def _resumable(out: Path) -> dict[str, Any]:
    """The manifest of a folder this version can resume."""
    manifest = store.read_manifest(out)
    if manifest.get("kind") != "batch":
        raise InputError("cannot resume: not a batch folder", source=str(out))
    if manifest.get("status") != "complete":
        if manifest["format"] != store.FORMAT_VERSION:
            raise InputError(
                f"cannot resume: written in result format {manifest['format']} by an older "
                f"patronage (this one writes format {store.FORMAT_VERSION}); finish it with "
                "that version, or start the batch again",
                source=str(out),
            )
        if manifest.get("chunking") != "runs":
            raise InputError(
                "cannot resume: this batch was started by an older patronage (chunks by design "
                "point, a random stream per run); finish it with that version, or start a new "
                "--out",
                source=str(out),
            )
    manifest["design"].setdefault("streams", INDEPENDENT)  # folders before common streams
    return manifest


def _check_same_batch(
    manifest: dict[str, Any],
    loaded: LoadedScenario,
    design: Design,
    job: Job,
    chunk_runs: int,
    out: Path,
) -> None:
    """A resume must be the same batch: name the first option that differs, both values."""
    fingerprint = design_fingerprint(loaded, design, job, chunk_runs)
    if manifest.get("fingerprint") == fingerprint:
        return
    steps = job.steps or loaded.scenario.steps
    found = differences(manifest, loaded, design, steps, job.series_every, job.engine, chunk_runs)
    what = (
        f"{found[0][0]} differs (this folder's batch: {found[0][1]}; this command: {found[0][2]})"
        if found
        else "the batch in this folder was started differently"
    )
    raise InputError(
        f"cannot resume: {what}; run `patronage resume {out}` to finish it as it was "
        "started, or start a new --out",
        source=str(out),
    )


def _chunk_path(chunks: Path, index: int, table: str) -> Path:
    return chunks / f"{index:06d}-{table}.parquet"


def _chunk_complete(chunks: Path, index: int) -> bool:
    return all(_chunk_path(chunks, index, t).exists() for t in store.TABLES)


def _write_chunk(chunks: Path, output: ChunkOutput) -> None:
    for name in store.TABLES:
        store.write_table(getattr(output, name), _chunk_path(chunks, output.index, name))


def _consolidate(out: Path, tasks: list, loaded: LoadedScenario, design: Design) -> None:
    """Concatenate the chunks in chunk order into row groups of a fixed size per table."""
    for name in store.TABLES:
        paths = [_chunk_path(out / "chunks", t.index, name) for t in tasks]
        dest = out / f"{name}.parquet"
        tmp = dest.with_name(f".{dest.name}.tmp")
        rows = ROW_GROUPS.get(name, ROW_GROUP)
        writer: pq.ParquetWriter | None = None
        pending: list[pa.Table] = []
        pending_rows = 0
        for path in paths:
            table = pq.read_table(path)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            pending.append(table)
            pending_rows += table.num_rows
            while pending_rows >= rows:
                joined = pa.concat_tables(pending)
                writer.write_table(joined.slice(0, rows), row_group_size=rows)
                rest = joined.slice(rows)
                pending, pending_rows = [rest], rest.num_rows
        assert writer is not None, "a batch has at least one chunk"
        if pending_rows:
            writer.write_table(pa.concat_tables(pending), row_group_size=rows)
        writer.close()
        tmp.replace(dest)
