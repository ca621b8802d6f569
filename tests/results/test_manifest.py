"""The typed manifest (issue 11, class 7): a damaged manifest is one line, never a traceback,
and the folder cannot switch off the sha256 check of its tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from batch_fixtures import FAST, copy_folder, manifest, run_cli

from patronage.results.folder import open_results
from patronage.results.manifest import Manifest, read_manifest


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("manifest") / "good"
    result = run_cli(
        "batch",
        "scenarios/syria_withdrawal.yaml",
        "--replicates",
        "4",
        "--engine",
        "ensemble",
        "--quiet",
        *FAST,
        "--out",
        out,
    )
    assert result.code == 0, result.err
    return out


def _damaged(good: Path, tmp_path: Path, change) -> Path:
    folder = copy_folder(good, tmp_path / "damaged")
    data: Any = manifest(folder)
    data = change(data) or data
    (folder / "manifest.json").write_text(json.dumps(data))
    return folder


DAMAGE = {
    "runs missing": (lambda m: m.pop("runs") and None, "runs: Field required"),
    "runs a word": (lambda m: m.update(runs="x"), "runs: Input should be a valid dictionary"),
    "partners a number": (lambda m: m.update(partners=5), "partners: Input should be a valid list"),
    "scenario null": (lambda m: m.update(scenario=None), "scenario: Input should be"),
    "zero replicates": (
        lambda m: m["design"].update(replicates=0),
        "design.replicates: Input should be greater than or equal to 1",
    ),
    "steps a word": (lambda m: m.update(steps="abc"), "steps: Input should be a valid integer"),
    "tables null": (
        lambda m: m.update(tables=None),
        "tables: a complete folder records the sha256 of runs",
    ),
    "tables removed": (
        lambda m: m.pop("tables") and None,
        "tables: a complete folder records the sha256 of runs",
    ),
    "a sha256 shortened": (
        lambda m: m["tables"].update(runs="abc"),
        "tables.runs: String should match pattern",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
@pytest.mark.parametrize("command", ["summary", "verify", "compare", "resume", "plot"])
def test_a_damaged_manifest_is_one_line(good, tmp_path, case, command):
    change, problem = DAMAGE[case]
    folder = _damaged(good, tmp_path, change)
    args = {
        "summary": ["summary", folder],
        "verify": ["verify", folder, "--sample", "2"],
        "compare": ["compare", good, folder],
        "resume": ["batch", "scenarios/syria_withdrawal.yaml", "--resume", folder],
        "plot": ["plot", folder, "--out", tmp_path / "figures"],
    }[command]
    result = run_cli(*args)
    assert result.code == 2
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(f"{folder}: manifest.json is damaged ({problem}")
    assert result.err_lines[0].endswith("; this is not a folder patronage can read")


def test_removing_the_hashes_cannot_hide_an_edited_table(good, tmp_path):
    """Before, deleting `tables` from the manifest switched the check off."""
    folder = _damaged(good, tmp_path, lambda m: m.pop("tables") and None)
    (folder / "events.parquet").write_bytes((folder / "events.parquet").read_bytes() + b"x")
    result = run_cli("summary", folder)
    assert result.code == 2 and "manifest.json is damaged" in result.err


def test_not_a_manifest_at_all(good, tmp_path):
    folder = _damaged(good, tmp_path, lambda m: [m])
    result = run_cli("summary", folder)
    assert result.err_lines == [
        f"{folder}: manifest.json is not a patronage result manifest (format 2)"
    ]


def test_fields_of_later_versions_are_kept_and_the_model_reads_by_attribute(good, tmp_path):
    """Easy to extend: an unknown field validates and survives a rewrite."""
    folder = _damaged(good, tmp_path, lambda m: m.update(later_field={"kind": "x"}))
    results = open_results(folder)
    assert isinstance(results.manifest, Manifest)
    assert results.manifest.model_extra == {"later_field": {"kind": "x"}}
    assert results.manifest.design.replicates == 4
    assert results.manifest.runs.done == 4 and results.manifest.runs.failed == 0
    assert read_manifest(folder).model_dump(mode="json", exclude_unset=True) == manifest(folder)
