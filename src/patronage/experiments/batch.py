"""Batches: a scenario and a design, run in chunks, stored as they finish, resumable.

A new batch folder appears whole (built under a temporary name with its manifest, then
renamed), and is locked while a process writes in it (results.claim): a second writer is
refused. While a batch runs, its folder holds manifest.json (status "running") and
chunks/NNNNNN-{runs,outcomes,events,series}.parquet, each renamed into place when complete and then
vouched for by a journal line (experiments.chunkfiles). A batch killed at any moment
(SIGKILL included) resumes with `--resume`: chunks whose files match the journal are kept,
the others are run again. At the end the chunks are checked again and consolidated, in
chunk order and in row groups of a fixed size, into the four tables, so the bytes do not
depend on workers, executor, completion order or interruptions. `--force` (and `run`)
build the new folder under a temporary name and replace the old one only once complete.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from patronage.engines.base import ENGINES
from patronage.engines.plan import RunPlan
from patronage.errors import InputError, WorkerDied
from patronage.experiments import chunkfiles
from patronage.experiments.chunks import ChunkTask, Job, plan_chunks, remember, run_chunk
from patronage.experiments.design import Design
from patronage.experiments.executors import Executor, InProcess
from patronage.experiments.progress import Progress
from patronage.experiments.resume import differences
from patronage.results import claim, provenance, store
from patronage.results.manifest import Manifest, new_manifest, read_manifest, write_manifest
from patronage.results.params import numeric_fields
from patronage.rng.seeds import DERIVATIONS, INDEPENDENT
from patronage.scenario.loader import LoadedScenario, check_extremes, validate
from patronage.scenario.overrides import assign

CHUNK_RUNS = {"mesa": 20, "ensemble": 2000}
MANIFEST_EVERY = 1.0  # seconds between rewrites of a large manifest while a batch runs
LARGE_MANIFEST = 256 * 1024  # bytes
CHECK_ROUNDS = 3  # times chunks that fail their checks at consolidation are run again


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a batch; `resumable` says whether the folder can be resumed
    (a staged `--force` batch is discarded and the old folder kept instead)."""

    def __init__(self, resumable: bool) -> None:
        super().__init__()
        self.resumable = resumable


def check_points(
    loaded: LoadedScenario, points: list[dict[str, Any]], design: Design | None = None
) -> None:
    """Validate every design point before anything is written: bad values fail up front,
    with every range it leaves at its low and at its high; a bad swept value is blamed on
    the sweep, with the values it gave."""
    sweeps = design.sweeps if design else {}
    for assignments in points:
        try:
            data, touched = assign(loaded.data, assignments)
            validate(data, loaded.source, loaded.lines, touched)
            if loaded.ranges:
                plan = RunPlan(loaded, (0,), (0,), (0,), (assignments,))
                check_extremes(data, plan.ranges(), loaded.source, loaded.lines, touched)
        except InputError as exc:
            path = next((p for p in sweeps if exc.field.startswith(p)), None)
            if path is None:
                raise
            shown = ", ".join(str(v) for v in sweeps[path][:8])
            shown += ", ..." if len(sweeps[path]) > 8 else ""
            raise InputError(
                f"{exc.message} (swept over {shown}; give V1,V2,... or START:STOP:STEP)",
                source=f"{loaded.source} (--sweep)",
                field=exc.field,
            ) from None


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
    staged: bool = False,
) -> Manifest:
    """Run (or finish) a batch into `out`; returns the final manifest.

    `staged`: build the whole folder under a temporary name and rename it at the end (a
    single run's folder is complete or absent); `replace` of an existing folder implies it.
    """
    if engine not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)}, got '{engine}'", source="--engine")
    chunk_runs = chunk_runs or CHUNK_RUNS[engine]
    remember(loaded)  # chunks computed in this process reuse the parsed scenario
    executor = executor or InProcess()
    if resume:
        with claim.FolderLock(_existing_folder(out)):
            claim.sweep_stale(out)
            manifest = _resumable(out)
            if manifest.status == "complete" and manifest.chunking != "runs":
                return manifest  # an older folder, complete: nothing to run
            # a resume keeps the folder's streams, whatever the default
            design = dataclasses.replace(design, streams=manifest.design.streams or INDEPENDENT)
            job = _job(loaded, design, manifest.points, steps, series_every, engine)
            _check_same_batch(manifest, loaded, design, job, chunk_runs, out)
            if manifest.status == "complete":
                return manifest
            batch = _Batch(design, job, chunk_runs, executor, progress)
            return batch.finish(out, manifest, on_error="keep")
    points = design.points()
    job = _job(loaded, design, points, steps, series_every, engine)
    fingerprint = design_fingerprint(loaded, design, job, chunk_runs)
    batch = _Batch(design, job, chunk_runs, executor, progress)
    if "steps" in design.param_names:
        raise InputError(
            "sweep the horizon with --steps, not as a design field", source="design", field="steps"
        )
    check_points(loaded, points, design)
    claim.sweep_stale(out)
    manifest = _first_manifest(loaded, design, job, points, fingerprint, executor_name, chunk_runs)
    exists = out.exists() or out.is_symlink()
    if exists and not replace:
        hint = ", --resume it," if (out / store.MANIFEST).is_file() else ""
        raise InputError(
            f"already exists; choose another --out{hint} or add --force to replace it",
            source=str(out),
        )
    if exists:
        claim.check_replaceable(out)  # before the lock touches it: it may not be ours
        with claim.FolderLock(_existing_folder(out)):
            claim.check_replaceable(out)
            claim.sweep_stale(out)
            return batch.staged(out, manifest)
    if staged:
        return batch.staged(out, manifest)
    return batch.started(out, manifest)


def _job(
    loaded: LoadedScenario,
    design: Design,
    points: list[dict[str, Any]],
    steps: int | None,
    series_every: int | None,
    engine: str,
) -> Job:
    return Job(
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
        engine_module=ENGINES[engine],
    )


def _first_manifest(
    loaded: LoadedScenario,
    design: Design,
    job: Job,
    points: list[dict[str, Any]],
    fingerprint: str,
    executor_name: str,
    chunk_runs: int,
) -> Manifest:
    """The manifest of a new batch, before any run is done."""
    ranges = ranged_inputs(loaded, points)
    manifest = new_manifest(
        loaded,
        kind="batch",
        seed=design.seed,
        steps=job.steps or loaded.scenario.steps,
        series_every=job.series_every,
        design=design.to_dict(),
        n_runs=design.n_runs,
        started=provenance.now(),
        engine=job.engine,
        points=points,
        fingerprint=fingerprint,
        executor=executor_name,
        chunk_runs=chunk_runs,
        chunks_done=[],
        chunk_seconds={},  # compute time of each chunk (its runs are in `chunk_runs`)
        failed_runs={},
        param_columns=[f"param.{name}" for name in [*design.param_names, *ranges]],
        ranges=ranges,  # drawn per run from its own stream (rng/inputs.py)
        streams=design.streams,
        chunking="runs",  # chunks of consecutive runs across design points
    )
    manifest.seed_derivation = DERIVATIONS[design.streams]
    return manifest


def _existing_folder(out: Path) -> Path:
    if out.is_symlink() or not out.is_dir():
        raise InputError("no such result folder", source=str(out))
    return out


def _new_folder(out: Path, manifest: Manifest) -> tuple[Path, claim.FolderLock]:
    """A locked staging folder beside `out` holding the batch's first manifest."""
    work = claim.staging_folder(out)
    lock = claim.FolderLock(work).acquire()
    try:
        (work / "chunks").mkdir()
        write_manifest(manifest, work / store.MANIFEST)
    except BaseException:
        lock.release()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work, lock


class _Batch:
    """The chunks of one batch run into a folder, checked, and consolidated."""

    def __init__(
        self, design: Design, job: Job, chunk_runs: int, executor: Executor, progress: bool
    ) -> None:
        self.design = design
        self.job = job
        self.chunk_runs = chunk_runs
        self.executor = executor
        self.progress = progress

    def started(self, out: Path, manifest: Manifest) -> Manifest:
        """A new batch: its folder appears whole, with its manifest, and is resumable."""
        work, lock = _new_folder(out, manifest)
        try:
            os.rename(work, out)
        except OSError as exc:
            lock.release()
            shutil.rmtree(work, ignore_errors=True)
            raise InputError(f"cannot create the folder: {exc.strerror}", source=str(out)) from None
        lock.moved_to(out)
        with lock:
            return self.finish(out, manifest, on_error="keep-if-any")

    def staged(self, out: Path, manifest: Manifest) -> Manifest:
        """Built under a temporary name; replaces `out` only once complete."""
        work, lock = _new_folder(out, manifest)
        with lock:
            try:
                manifest = self.finish(work, manifest, on_error="discard")
            except BaseException as exc:
                shutil.rmtree(work, ignore_errors=True)
                if isinstance(exc, KeyboardInterrupt):
                    raise BatchInterrupted(resumable=False) from None
                raise
            claim.swap_into(work, out)
            lock.moved_to(out)
        return manifest

    def finish(self, out: Path, manifest: Manifest, *, on_error: str) -> Manifest:
        """Run the chunks not yet done (or failing their checks), then consolidate.

        `on_error`: what an interrupted or failed run leaves: "keep" the folder (a resume),
        "keep-if-any" chunk is done or it was stopped or lost a worker (a new batch:
        else nothing worth resuming is left), or
        "discard" (a staged folder: the caller removes it).
        """
        tasks = plan_chunks(self.design, manifest.points, self.chunk_runs)
        chunks = out / "chunks"
        chunks.mkdir(exist_ok=True)
        entries = chunkfiles.read_journal(chunks / chunkfiles.JOURNAL)
        entries = {
            t.index: entries[t.index]
            for t in tasks
            if chunkfiles.chunk_intact(chunks, t, entries.get(t.index))
        }
        _apply_entries(manifest, entries, tasks)
        for _ in range(CHECK_ROUNDS):
            todo = [t for t in tasks if t.index not in entries]
            self._run(out, manifest, tasks, todo, entries, on_error)
            bad = chunkfiles.consolidate(out, tasks, entries, len(manifest.partners))
            if not bad:
                break
            for index in bad:  # changed after it was checked: run it again
                del entries[index]
            _apply_entries(manifest, entries, tasks)
        else:
            raise InputError(
                "chunk files keep changing while the batch runs; is another program writing "
                "in this folder?",
                source=str(out),
            )
        manifest.status = "complete"
        manifest.finished = provenance.now()
        manifest.tables = {
            name: store.file_sha256(out / f"{name}.parquet") for name in store.TABLES
        }
        write_manifest(manifest, out / store.MANIFEST)
        shutil.rmtree(chunks, ignore_errors=True)
        return manifest

    def _run(
        self,
        out: Path,
        manifest: Manifest,
        tasks: list[ChunkTask],
        todo: list[ChunkTask],
        entries: dict[int, dict[str, Any]],
        on_error: str,
    ) -> None:
        chunks = out / "chunks"
        manifest.status = "running"
        bar = Progress(self.design.n_runs, manifest.runs.done, enabled=self.progress)
        # A manifest holds the whole scenario: rewriting a large one after every chunk would
        # cost O(chunks x size), so then it is rewritten at most once a second (the journal
        # is exact).
        throttle = len(manifest.scenario.text) + 64 * manifest.n_points > LARGE_MANIFEST
        last_write = time.monotonic()
        try:
            with (chunks / chunkfiles.JOURNAL).open("a", encoding="utf-8") as log:
                for output in self.executor.imap_unordered(run_chunk, self.job, todo):
                    task = tasks[output.index]
                    entry = chunkfiles.write_chunk(chunks, output, task)
                    # The journal is the record a SIGKILL cannot tear: one short line per
                    # chunk, appended after the chunk's files are in place.
                    log.write(json.dumps(entry) + "\n")
                    log.flush()
                    entries[output.index] = entry
                    _record_chunk(manifest, entry, len(task.run_ids))
                    bar.update(len(task.run_ids))
                    if not throttle or time.monotonic() - last_write >= MANIFEST_EVERY:
                        write_manifest(manifest, out / store.MANIFEST)
                        last_write = time.monotonic()
        except BaseException as exc:
            if on_error == "discard":
                raise
            interrupted = isinstance(exc, KeyboardInterrupt)
            resumable = interrupted or isinstance(exc, WorkerDied)
            if on_error == "keep-if-any" and not manifest.chunks_done and not resumable:
                shutil.rmtree(out, ignore_errors=True)  # nothing worth resuming: leave nothing
                raise
            if interrupted:
                manifest.status = "stopped"
            write_manifest(manifest, out / store.MANIFEST)
            raise
        finally:
            bar.close()


def _apply_entries(
    manifest: Manifest, entries: dict[int, dict[str, Any]], tasks: list[ChunkTask]
) -> None:
    """The manifest's record of done chunks, from the journal entries of intact chunks."""
    manifest.chunks_done = sorted(entries)
    manifest.chunk_seconds = {str(i): entries[i]["seconds"] for i in sorted(entries)}
    manifest.failed_runs = {k: v for i in sorted(entries) for k, v in entries[i]["failed"].items()}
    manifest.runs.done = sum(len(tasks[i].run_ids) for i in entries)
    manifest.runs.failed = len(manifest.failed_runs)


def _record_chunk(manifest: Manifest, entry: dict[str, Any], n_runs: int) -> None:
    index = entry["chunk"]
    if index not in manifest.chunks_done:
        bisect.insort(manifest.chunks_done, index)
    manifest.chunk_seconds[str(index)] = entry["seconds"]
    manifest.failed_runs.update(entry["failed"])
    manifest.runs.done += n_runs
    manifest.runs.failed = len(manifest.failed_runs)


def _resumable(out: Path) -> Manifest:
    """The manifest of a folder this version can resume."""
    manifest = read_manifest(out)
    if manifest.kind != "batch":
        raise InputError("cannot resume: not a batch folder", source=str(out))
    if manifest.status != "complete":
        if manifest.format != store.FORMAT_VERSION:
            raise InputError(
                f"cannot resume: written in result format {manifest.format} by an older "
                f"patronage (this one writes format {store.FORMAT_VERSION}); finish it with "
                "that version, or start the batch again",
                source=str(out),
            )
        if manifest.chunking != "runs":
            raise InputError(
                "cannot resume: this batch was started by an older patronage (chunks by design "
                "point, a random stream per run); finish it with that version, or start a new "
                "--out",
                source=str(out),
            )
    if manifest.design.streams is None:  # folders before common streams
        manifest.design.streams = INDEPENDENT
    return manifest


def _check_same_batch(
    manifest: Manifest,
    loaded: LoadedScenario,
    design: Design,
    job: Job,
    chunk_runs: int,
    out: Path,
) -> None:
    """A resume must be the same batch: name the first option that differs, both values."""
    fingerprint = design_fingerprint(loaded, design, job, chunk_runs)
    if manifest.fingerprint == fingerprint:
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
