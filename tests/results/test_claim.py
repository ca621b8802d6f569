"""One writer at a time, `--force` replaces only our folders and only once the new one is
complete, half-started folders, and temporaries left behind (issue 11, classes 1-3, 6, 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from batch_fixtures import (
    FAST,
    SYRIA,
    StopAfter,
    dead_pid,
    kill_group,
    manifest,
    popen_batch,
    run_cli,
    stopped_batch,
    table_bytes,
    wait_for_partial,
)

from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results.claim import FolderLock
from patronage.scenario.loader import load

SMALL = ("--replicates", "40", "--engine", "ensemble", "--chunk-runs", "10", "--quiet", *FAST)


def batch(out: Path, *extra: object):
    return run_cli("batch", SYRIA, *SMALL, *extra, "--out", out)


# --- 1. one writer at a time -------------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    out = stopped_batch(tmp_path / "b")
    with FolderLock(out):
        result = run_cli("batch", SYRIA, *SMALL, "--resume", out)
    assert result.code == 2
    assert result.err_lines == [
        f"{out}: is being written by another patronage process (pid {os.getpid()}); wait for "
        "it to finish or stop it, then try again"
    ]
    assert manifest(out)["status"] == "stopped"  # untouched


def test_a_resume_while_the_batch_runs_is_refused(tmp_path):
    """The repro: a second --resume while a batch is running (a real second process)."""
    out = tmp_path / "live"
    proc = popen_batch(out, "--replicates", "400", "--chunk-runs", "20", *FAST, workers=1)
    try:
        wait_for_partial(out, proc, min_chunks=1)
        result = run_cli(
            "batch",
            SYRIA,
            "--replicates",
            "400",
            "--chunk-runs",
            "20",
            *FAST,
            "--workers",
            "1",
            "--resume",
            out,
        )
    finally:
        kill_group(proc, signal.SIGKILL)
        proc.wait()
    assert result.code == 2
    assert f"another patronage process (pid {proc.pid})" in result.err
    # the lock died with its process: the batch resumes and completes
    done = run_cli(
        "batch",
        SYRIA,
        "--replicates",
        "400",
        "--chunk-runs",
        "20",
        *FAST,
        "--workers",
        "1",
        "--quiet",
        "--resume",
        out,
    )
    assert done.code == 0, done.err
    assert not (out / ".lock").exists()


def test_the_lock_dies_with_its_process(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from patronage.results.claim import "
            "FolderLock; FolderLock(Path(sys.argv[1])).acquire(); print('held', flush=True); "
            "time.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(InputError, match=f"pid {holder.pid}"):
        FolderLock(folder).acquire()
    holder.kill()
    holder.wait()
    with FolderLock(folder):  # no stale lock after a SIGKILL
        assert (folder / ".lock").read_text().strip() == str(os.getpid())
    assert not (folder / ".lock").exists()


# --- 2. --force replaces only our folders ------------------------------------------------------


def test_force_keeps_a_hidden_folder_of_other_files(tmp_path):
    folder = tmp_path / ".k"
    folder.mkdir()
    (folder / "id_key").write_text("secret")
    result = batch(folder, "--force")
    assert result.code == 2
    assert result.err_lines == [
        f"{folder}: is not a patronage result folder (no manifest.json); --force only replaces "
        "those"
    ]
    assert (folder / "id_key").read_text() == "secret"


def test_force_keeps_a_folder_whose_manifest_is_not_ours(tmp_path):
    folder = tmp_path / "ext"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"manifest_version": 3}')
    (folder / "NOTES.md").write_text("notes")
    result = run_cli("run", SYRIA, "--steps", "3", "--out", folder, "--force")
    assert result.code == 2
    assert "is not a patronage result folder (manifest.json is not a patronage result" in (
        result.err
    )
    assert (folder / "NOTES.md").read_text() == "notes"


def test_force_keeps_a_result_folder_holding_other_files(tmp_path):
    out = tmp_path / "r"
    assert batch(out).code == 0
    (out / "NOTES.md").write_text("my notes")
    result = batch(out, "--force")
    assert result.err_lines == [
        f"{out}: holds files patronage did not write; --force only replaces result folders "
        "that hold nothing else (move those files, or choose another --out)"
    ]
    assert (out / "NOTES.md").exists()


# --- 3. batch --force keeps the old folder until the new one is complete -----------------------


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_force_keeps_the_old_folder_when_the_new_batch_fails(tmp_path, error):
    out = tmp_path / "old"
    assert batch(out).code == 0
    before = table_bytes(out), manifest(out)
    with pytest.raises(type(error)):
        run_batch(
            load(SYRIA),
            Design(replicates=40, seed=5),
            out,
            StopAfter(1, error),
            steps=24,
            series_every=6,
            engine="ensemble",
            chunk_runs=10,
            replace=True,
            progress=False,
        )
    assert (table_bytes(out), manifest(out)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"], "no staging folder left"


def test_force_replaces_once_complete_and_says_a_stop_leaves_the_old(tmp_path):
    out = tmp_path / "r"
    assert batch(out).code == 0
    assert batch(out, "--force", "--seed", "9").code == 0
    assert manifest(out)["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


# --- 6. half-started folders --------------------------------------------------------------------


def test_a_new_folder_appears_with_its_manifest(tmp_path):
    """The folder is created whole (renamed into place with its manifest): a SIGKILL in
    the first milliseconds leaves no folder, or a resumable one."""
    out = stopped_batch(tmp_path / "b", chunks=0)
    assert manifest(out)["status"] == "stopped"
    result = run_cli("batch", SYRIA, *SMALL, "--resume", out)
    assert result.code == 0, result.err


@pytest.mark.parametrize("remove", ["chunks", "chunks/journal.jsonl"])
def test_a_folder_without_chunks_or_journal_resumes(tmp_path, remove):
    reference = tmp_path / "ref"
    assert batch(reference).code == 0
    out = stopped_batch(tmp_path / "b")
    target = out / remove
    if target.is_dir():
        for p in target.iterdir():
            p.unlink()
        target.rmdir()
    else:
        target.unlink()
    result = run_cli("batch", SYRIA, *SMALL, "--resume", out)
    assert result.code == 0, result.err
    assert table_bytes(out) == table_bytes(reference)


def test_an_empty_folder_is_not_called_resumable(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    result = batch(out)
    assert result.err_lines == [
        f"{out}: already exists; choose another --out or add --force to replace it"
    ]
    assert batch(out, "--force").code == 0  # nothing in it to lose


# --- 14. leftovers -----------------------------------------------------------------------------


def test_stale_temporaries_of_dead_processes_are_swept(tmp_path):
    out = stopped_batch(tmp_path / "b")
    pid = dead_pid()
    staged = tmp_path / f".b.tmp-{pid}-abcd1234"
    staged.mkdir()
    (staged / "manifest.json").write_text("{}")
    stale = [out / f".series.parquet.tmp-{pid}", out / "chunks" / f".000003-runs.parquet.tmp-{pid}"]
    for path in stale:
        path.write_bytes(b"half")
    live = out / ".runs.parquet.tmp-1"  # a live process's (pid 1 always runs): kept
    live.write_bytes(b"x")
    assert run_cli("batch", SYRIA, *SMALL, "--resume", out).code == 0
    assert not staged.exists()
    assert not any(p.exists() for p in stale)
    assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_a_failed_consolidation_leaves_no_temporary(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    out = stopped_batch(tmp_path / "b")

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    result = run_cli("batch", SYRIA, *SMALL, "--resume", out)
    assert result.code == 2 and result.err_lines[-1].endswith("No space left on device")
    assert sorted(p.name for p in out.iterdir()) == ["chunks", "manifest.json"]
    monkeypatch.undo()
    assert run_cli("batch", SYRIA, *SMALL, "--resume", out).code == 0


def test_sigterm_stops_a_batch_as_ctrl_c_does(tmp_path):
    out = tmp_path / "t"
    proc = popen_batch(out, "--replicates", "400", "--chunk-runs", "20", *FAST, workers=1)
    wait_for_partial(out, proc, min_chunks=1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == (f"stopped; finish it with: patronage resume {out}")
    assert manifest(out)["status"] == "stopped"
    assert not [p for p in out.iterdir() if ".tmp" in p.name]


def test_run_cleans_up_when_stopped(tmp_path):
    out = tmp_path / "one"
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            load(SYRIA),
            Design(),
            out,
            StopAfter(0, KeyboardInterrupt()),
            steps=6,
            staged=True,
            progress=False,
        )
    assert list(tmp_path.iterdir()) == []


def test_a_name_too_long_for_the_temporary_is_one_line(tmp_path):
    out = tmp_path / ("a" * 250)
    result = run_cli("run", SYRIA, "--steps", "3", "--out", out)
    assert result.err_lines == ["--out: the folder name is too long (250 bytes; at most 200)"]
