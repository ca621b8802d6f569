"""Runs that fail and workers that die, through real batches on both executors (issue 11,
classes 11 and 15). The faults come from test-only engines (tests/failing_engine.py,
tests/dying_engine.py) registered for the test: the workers import them by module name."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import dying_engine
import failing_engine
import pyarrow.parquet as pq
import pytest
from batch_fixtures import (
    FAST,
    SYRIA,
    manifest,
    popen_batch,
    run_cli,
    table_bytes,
    wait_for_partial,
)

from patronage.engines.base import ENGINES

ARGS = ("--replicates", "8", "--chunk-runs", "4", "--quiet", *FAST)


@pytest.fixture
def fault_engines(monkeypatch):
    monkeypatch.setitem(ENGINES, "failing", "failing_engine")
    monkeypatch.setitem(ENGINES, "dying", "dying_engine")


# --- 15. a run that raises --------------------------------------------------------------------


@pytest.mark.parametrize(
    "executor",
    ["local", pytest.param("dask", marks=[pytest.mark.distributed, pytest.mark.slow])],
)
def test_a_failed_run_is_recorded_and_the_rest_kept(tmp_path, fault_engines, executor):
    if executor == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "f"
    result = run_cli(
        "batch",
        SYRIA,
        *ARGS,
        "--engine",
        "failing",
        "--executor",
        executor,
        "--workers",
        "2",
        "--out",
        out,
    )
    assert result.code == 1
    assert result.err_lines == [
        f"wrote {out}/ (8 runs, 1 failed)",
        f"1 runs failed: their errors are in {out}/manifest.json (failed_runs)",
    ]
    assert manifest(out)["failed_runs"] == {"3": failing_engine.FAILURE}
    runs = pq.read_table(out / "runs.parquet").column("run_id").to_pylist()
    assert runs == [0, 1, 2, 4, 5, 6, 7]
    assert run_cli("verify", out, "--sample", "7").code == 0  # not "missing": it failed


# --- 11. a worker that dies -------------------------------------------------------------------


def test_a_killed_pool_worker_is_one_line_and_the_batch_resumes(tmp_path, fault_engines):
    reference = tmp_path / "ref"
    assert run_cli("batch", SYRIA, *ARGS, "--workers", "1", "--out", reference).code == 0
    seed = 4242
    dying_engine.marker(seed, once=True).touch()
    out = tmp_path / "d"
    args = (*ARGS, "--engine", "dying", "--workers", "2", "--seed", seed)
    result = run_cli("batch", SYRIA, *args, "--out", out)
    assert result.code == 1
    assert result.err_lines == [
        "a worker died (a local pool worker was killed, perhaps by the out-of-memory killer); "
        f"finish it with: patronage resume {out}"
    ]
    assert manifest(out)["status"] == "running"
    assert run_cli("batch", SYRIA, *args, "--resume", out).code == 0
    again = tmp_path / "ref2"
    assert run_cli("batch", SYRIA, *ARGS, "--seed", seed, "--out", again).code == 0
    assert table_bytes(out) == table_bytes(again)


@pytest.mark.distributed
@pytest.mark.slow
def test_lost_dask_workers_are_one_line(tmp_path, fault_engines):
    pytest.importorskip("distributed")
    seed = 4343
    marker = dying_engine.marker(seed, once=False)
    marker.touch()
    out = tmp_path / "d"
    args = (*ARGS, "--engine", "dying", "--workers", "2", "--seed", seed)
    try:
        result = run_cli("batch", SYRIA, *args, "--executor", "dask", "--out", out)
    finally:
        marker.unlink()
    assert result.code == 1
    assert result.err_lines[-1].startswith("a worker died (the Dask workers were lost: ")
    assert result.err_lines[-1].endswith(f"finish it with: patronage resume {out}")
    assert run_cli("batch", SYRIA, *args, "--resume", out).code == 0


def _children(pid: int) -> set[int]:
    """All descendants of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_batch_is_killed(tmp_path):
    out = tmp_path / "k"
    proc = popen_batch(out, "--replicates", "400", "--chunk-runs", "20", *FAST, workers=2)
    try:
        wait_for_partial(out, proc, min_chunks=1)
        children = _children(proc.pid)
        assert children, "a pool of workers was running"
        os.kill(proc.pid, signal.SIGKILL)  # the batch only, not its process group
        proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not [c for c in children if _alive(c)], "the forkserver or a worker outlived it"
    finally:
        for child in _children(proc.pid) if proc.poll() is None else ():
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
