"""README cannot drift: its shell blocks run as written, in order, in a fresh copy of the
scenarios, and its Python blocks run as scripts.

Every ```bash and ```python block of README.md is preceded by a marker comment:
`<!-- readme-test: run -->` (run here) or `<!-- readme-test: skip (why) -->` (installs,
the test suite itself, a Dask cluster, the 100,000-partner example that benchmarks/run.py
times). A block without a marker fails the test, so a new block cannot escape it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- readme-test: (run|skip \(.+\)) -->")
FENCE = re.compile(r"^```(\w*)\s*$")


def readme_blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, marker, code) of every fenced block, in order; marker "" when missing."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if opened and opened.group(1):
            before = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
            marker = MARKER.fullmatch(before.strip())
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            code = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append((opened.group(1), marker.group(1) if marker else "", code))
            i = end
        i += 1
    return blocks


BLOCKS = readme_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
RUNNABLE = [(lang, code) for lang, marker, code in BLOCKS if lang in ("bash", "python")]


def test_every_shell_and_python_block_is_marked():
    unmarked = [
        code.splitlines()[0] for lang, m, code in BLOCKS if lang in ("bash", "python") and not m
    ]
    assert not unmarked, f"README blocks without a readme-test marker: {unmarked}"
    assert sum(m == "run" for _, m, _ in BLOCKS) >= 6


@pytest.mark.slow
def test_readme_runs_as_written(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(ROOT / "scenarios", clone / "scenarios")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    bin_dir = str(Path(sys.executable).parent)  # where `patronage` is installed
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    env["MPLBACKEND"] = "Agg"
    ran = 0
    for n, (lang, marker, code) in enumerate(BLOCKS):
        if marker != "run":
            continue
        if lang == "bash":
            cmd = ["bash", "-euo", "pipefail", "-c", code]
        else:
            script = scripts / f"readme_block_{n}.py"
            script.write_text(code, encoding="utf-8")
            cmd = [sys.executable, str(script)]
        result = subprocess.run(
            cmd, cwd=clone, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, f"README block {n} failed:\n{code}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        ran += 1
    assert ran >= 6
    # the tour writes under results/ only
    assert sorted(p.name for p in clone.iterdir()) == ["results", "scenarios"]
    for expected in ("syria", "cascade", "report.html", "diff.md", "figures", "notebook"):
        assert (clone / "results" / expected).exists(), expected
