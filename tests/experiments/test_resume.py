"""Stopping and resuming a batch: SIGKILL, Ctrl-C, refusal of a mismatched resume, and
incomplete folders."""

from __future__ import annotations

import json
import signal

import pytest
from batch_fixtures import (
    FAST,
    REF,
    SYRIA,
    batch,
    cached_batch,
    copy_folder,
    kill_group,
    manifest,
    popen_batch,
    reference_batch,
    run_cli,
    table_bytes,
    wait_for_partial,
)

from patronage.cli import batch as cli_batch
from patronage.engines import mesa as runner
from patronage.errors import InputError
from patronage.experiments.batch import plan_chunks
from patronage.experiments.design import Design, parse_sweep
from patronage.experiments.executors import InProcess
from patronage.results.folder import open_results

# A batch long enough to be interrupted: 3 levels x 30 replicates, chunks of 5 runs (18).
KILL_ARGS = (
    "--replicates",
    "30",
    "--sweep",
    "withdrawal.level=0,0.5,1",
    "--steps",
    "48",
    "--series",
    "every=6",
    "--chunk-runs",
    "5",
    "--seed",
    "21",
    "--no-progress",
    "--quiet",
)
KILL_RUNS = 90


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_batch(tmp_path_factory)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """KILL_ARGS run from start to end without interruption (a local pool of 2 workers)."""
    return cached_batch(tmp_path_factory, *KILL_ARGS, workers=2)


def assert_complete_and_equal(folder, expected, n_runs) -> None:
    m = manifest(folder)
    assert m["status"] == "complete"
    assert m["runs"] == {"total": n_runs, "done": n_runs, "failed": 0}
    assert not (folder / "chunks").exists()
    runs = open_results(folder).runs
    assert runs["run_id"].is_unique
    assert sorted(runs["run_id"]) == list(range(n_runs))
    assert table_bytes(folder) == table_bytes(expected)


# --- a real SIGKILL ---------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_after_sigkill(tmp_path, uninterrupted):
    out = tmp_path / "killed"
    proc = popen_batch(out, *KILL_ARGS, workers=2)
    try:
        before = wait_for_partial(out, proc, min_chunks=2)
        kill_group(proc, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            kill_group(proc, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    m = manifest(out)
    assert m["status"] == "running"  # nobody had the chance to say otherwise
    assert len(m["chunks_done"]) >= len(before["chunks_done"])
    assert len(m["chunks_done"]) < KILL_RUNS // 5
    assert (out / "chunks").is_dir()

    # an incomplete folder cannot be opened, and says how to finish it
    with pytest.raises(InputError) as info:
        open_results(out)
    assert f"of {KILL_RUNS} runs done" in str(info.value)
    assert f"patronage resume {out}" in str(info.value)

    # a resume that does not match the batch is refused and changes nothing
    saved = (out / "manifest.json").read_bytes()
    changed = run_cli("batch", SYRIA, *KILL_ARGS, "--set", "withdrawal.start=4", "--resume", out)
    assert changed.code == 2
    assert len(changed.err_lines) == 1
    assert "cannot resume" in changed.err
    assert (out / "manifest.json").read_bytes() == saved

    # `patronage resume DIR` finishes it from what the folder records
    resumed = run_cli("resume", out, "--workers", "2", "--no-progress", "--quiet")
    assert resumed.code == 0, resumed.err
    assert_complete_and_equal(out, uninterrupted, KILL_RUNS)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path, uninterrupted):
    out = tmp_path / "interrupted"
    proc = popen_batch(out, *KILL_ARGS, workers=2)
    try:
        wait_for_partial(out, proc, min_chunks=2)
        kill_group(proc, signal.SIGINT)  # Ctrl-C reaches the whole process group
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            kill_group(proc, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"patronage resume {out}" in stderr
    m = manifest(out)
    assert m["status"] == "stopped"
    assert m["runs"]["done"] < KILL_RUNS
    with pytest.raises(InputError, match="stopped"):
        open_results(out)

    resumed = run_cli("batch", SYRIA, *KILL_ARGS, "--workers", "2", "--resume", out)
    assert resumed.code == 0, resumed.err
    assert_complete_and_equal(out, uninterrupted, KILL_RUNS)


# --- interruptions simulated in-process (cheap) -----------------------------------------------


class StopAfter:
    """An executor that computes `n` chunks and then raises KeyboardInterrupt (a Ctrl-C)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def imap_unordered(self, fn, job, tasks):
        for i, output in enumerate(InProcess().imap_unordered(fn, job, tasks)):
            if i == self.n:
                raise KeyboardInterrupt
            yield output


CHUNKED = (*REF, "--chunk-runs", "4")  # 3 points x 6 replicates: 18 runs in chunks of 4 (and 2)


@pytest.fixture
def stopped(tmp_path, monkeypatch):
    """A folder of CHUNKED stopped after 2 of its 6 chunks."""
    out = tmp_path / "stopped"
    with monkeypatch.context() as m:
        m.setattr(cli_batch, "make_executor", lambda *a, **k: StopAfter(2))
        result = batch(out, *CHUNKED)
    assert result.code == 130
    assert f"finish it with: patronage resume {out}" in result.err
    return out


def chunk_runs_of(index: int) -> list[int]:
    _, levels = parse_sweep("withdrawal.level=0,0.5,1")
    design = Design(sweeps={"withdrawal.level": levels}, replicates=6, seed=3)
    return list(plan_chunks(design, design.points(), 4)[index].run_ids)


def test_stopped_folder(stopped):
    m = manifest(stopped)
    assert m["status"] == "stopped"
    assert m["chunks_done"] == [0, 1]
    assert m["runs"]["done"] == 8
    assert sorted(p.name for p in (stopped / "chunks").glob("*.parquet")) == [
        f"{i:06d}-{t}.parquet" for i in (0, 1) for t in ("events", "outcomes", "runs", "series")
    ]
    with pytest.raises(InputError) as info:
        open_results(stopped)
    assert "8 of 18 runs done" in str(info.value)
    assert f"patronage resume {stopped}" in str(info.value)
    summary = run_cli("summary", stopped)
    assert summary.code == 2
    assert len(summary.err_lines) == 1


def test_killed_folder_is_reported_incomplete(stopped):
    m = manifest(stopped)
    m["status"] = "running"  # what a SIGKILL leaves behind
    (stopped / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="incomplete"):
        open_results(stopped)


def test_resume_runs_each_missing_run_once(stopped, ref, monkeypatch):
    # a chunk listed as done whose file is lost is run again; a half-written file is ignored
    (stopped / "chunks" / "000001-events.parquet").unlink()
    (stopped / "chunks" / ".000002-runs.parquet.tmp-99999").write_bytes(b"PAR1 half")
    executed: list[int] = []
    real = runner.simulate

    def counting(scenario, seed, run_id=0, *args, **kwargs):
        executed.append(run_id)
        return real(scenario, seed, run_id, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate", counting)
    result = batch(stopped, *CHUNKED, "--resume", stopped)
    assert result.code == 0, result.err
    assert sorted(executed) == sorted(set(range(18)) - set(chunk_runs_of(0)))
    assert_complete_and_equal(stopped, ref, 18)


def test_resume_with_out_equal_to_resume(stopped, ref):
    result = run_cli(
        "batch", SYRIA, *CHUNKED, "--workers", "1", "--out", stopped, "--resume", stopped
    )
    assert result.code == 0, result.err
    assert_complete_and_equal(stopped, ref, 18)


def test_resume_command_finishes_a_stopped_batch_without_retyping(stopped, ref):
    result = run_cli("resume", stopped, "--workers", "1", "--no-progress", "--quiet")
    assert result.code == 0, result.err
    assert_complete_and_equal(stopped, ref, 18)


def test_resume_command_refuses_a_folder_that_is_not_a_batch(tmp_path):
    result = run_cli("resume", tmp_path / "nope")
    assert result.code == 2
    assert len(result.err_lines) == 1 and "no such result folder" in result.err


@pytest.mark.parametrize(
    "change, named, then, now",
    [
        (("--set", "withdrawal.start=4"), "--set", "[]", '["withdrawal.start=4"]'),
        (("--replicates", "7"), "--replicates", "6", "7"),
        (("--sweep", "withdrawal.level=0,1"), "--sweep", "[0, 0.5, 1]", "[0, 1]"),
        (("--sweep", "withdrawal.start=2,3,4"), "--sweep", "withdrawal.level", "withdrawal.start"),
        (("--seed", "4"), "--seed", "3", "4"),
        (("--steps", "12"), "--steps", "24", "12"),
        (("--series", "none"), "--series", "every=6", "none"),
    ],
)
def test_mismatched_resume_is_refused(stopped, change, named, then, now):
    args = list(CHUNKED)
    if change[0] in args:  # replace the option's value
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    saved = {p.name: p.read_bytes() for p in stopped.rglob("*") if p.is_file()}
    result = batch(stopped, *args, "--resume", stopped)
    assert result.code == 2
    assert len(result.err_lines) == 1, result.err
    assert "cannot resume" in result.err
    # the option that differs is named, with the folder's value and the command's
    assert f"{named} differs" in result.err
    this_folder, this_command = result.err.split("this folder's batch:")[1].split("this command:")
    assert then in this_folder and now in this_command
    assert f"patronage resume {stopped}" in result.err
    assert "Traceback" not in result.err
    assert {p.name: p.read_bytes() for p in stopped.rglob("*") if p.is_file()} == saved


def test_resume_of_a_changed_scenario_file_is_refused(stopped, tmp_path):
    edited = tmp_path / "edited.yaml"
    edited.write_text(SYRIA.read_text() + "\n# a comment changes the text and its sha256\n")
    result = batch(stopped, *CHUNKED, "--resume", stopped, scenario=edited)
    assert result.code == 2
    assert "cannot resume" in result.err
    assert manifest(stopped)["scenario"]["sha256"][:12] in result.err


def test_resume_of_a_complete_folder_does_nothing(ref, tmp_path):
    folder = copy_folder(ref, tmp_path / "done")
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = batch(folder, *REF, "--resume", folder, workers=2)
    assert result.code == 0, result.err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == saved
    # and it still refuses another design
    refused = batch(folder, *REF, "--replicates", "2", "--resume", folder)
    assert refused.code == 2
    assert "cannot resume" in refused.err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == saved


def test_resume_of_a_missing_or_foreign_folder(tmp_path):
    missing = batch(tmp_path / "nope", *FAST, "--replicates", "1", "--resume", tmp_path / "nope")
    assert missing.code == 2
    assert "no such result folder" in missing.err
    assert not (tmp_path / "nope").exists()
    (tmp_path / "empty").mkdir()
    empty = batch(tmp_path / "empty", *FAST, "--replicates", "1", "--resume", tmp_path / "empty")
    assert empty.code == 2
    assert "manifest.json" in empty.err
