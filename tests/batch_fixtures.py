"""Helpers shared by the batch tests: run the CLI in-process or as a subprocess, reuse batches.

Not a conftest: the test modules import what they need from here. Batches that several tests
read (and never modify) are computed once per session and cached by their arguments; a test
that changes a folder works on a copy (`copy_folder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from patronage.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
SYRIA = ROOT / "scenarios" / "syria_withdrawal.yaml"
TABLES = ("runs", "outcomes", "events", "series")

# Keep batches small and short: 24 steps, the series every 6 steps, no progress bar.
FAST = ("--steps", "24", "--series", "every=6", "--no-progress")

# The reference batch most tests read: 3 withdrawal levels x 6 replicates = 18 runs.
LEVELS = ("0", "0.5", "1")
REPLICATES = 6
SEED = 3
REF = (
    "--replicates",
    str(REPLICATES),
    "--sweep",
    f"withdrawal.level={','.join(LEVELS)}",
    "--seed",
    str(SEED),
    *FAST,
)


def console_script() -> str:
    """The `patronage` console script of the environment running the tests."""
    here = Path(sys.executable).with_name("patronage")
    if here.exists():
        return str(here)
    found = shutil.which("patronage")
    assert found, "the patronage console script is not installed"
    return found


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(*args: Any) -> CliResult:
    """`patronage ARGS...` in this process (cli.main), capturing stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return CliResult(code, out.getvalue(), err.getvalue())


def batch(out: Path, *args: Any, workers: int = 1, scenario: Path = SYRIA) -> CliResult:
    """`patronage batch SCENARIO ARGS... --workers W --out OUT` in this process."""
    return run_cli("batch", scenario, *args, "--workers", workers, "--out", out)


def popen_batch(out: Path, *args: Any, workers: int = 2) -> subprocess.Popen:
    """The console script as a subprocess in its own session (so it can be killed whole)."""
    cmd = [console_script(), "batch", str(SYRIA), *map(str, args), "--workers", str(workers)]
    cmd += ["--out", str(out)]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


_CACHE: dict[tuple[str, ...], Path] = {}


def cached_batch(factory: pytest.TempPathFactory, *args: Any, workers: int = 1) -> Path:
    """A complete batch folder for these arguments, computed once per session. Read only."""
    key = (*map(str, args), f"workers={workers}")
    if key not in _CACHE:
        out = factory.mktemp("cached-batch") / "out"
        result = batch(out, *args, workers=workers)
        assert result.code == 0, result.err
        _CACHE[key] = out
    return _CACHE[key]


def reference_batch(factory: pytest.TempPathFactory) -> Path:
    """The reference batch (REF) run in-process with one worker."""
    return cached_batch(factory, *REF)


def copy_folder(folder: Path, dest: Path) -> Path:
    shutil.copytree(folder, dest)
    return dest


def table_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / f"{name}.parquet").read_bytes() for name in TABLES}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def wait_for_partial(
    folder: Path, proc: subprocess.Popen, min_chunks: int, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll a running batch until its manifest lists `min_chunks` chunks done (not complete)."""
    deadline = time.monotonic() + timeout
    path = folder / "manifest.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"the batch ended (exit {proc.returncode}) before it could be interrupted: "
                f"{proc.stderr.read() if proc.stderr else ''}"
            )
        if path.exists():
            m = json.loads(path.read_text())  # renamed into place: never half-written
            if m["status"] == "complete":
                raise AssertionError("the batch completed before it could be interrupted")
            if len(m["chunks_done"]) >= min_chunks:
                return m
        time.sleep(0.01)
    raise AssertionError("the batch made no progress in time")


def kill_group(proc: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process group of `proc` (started with start_new_session=True)."""
    os.killpg(proc.pid, sig)
