"""Provenance and trust: what the manifest records, opening a folder checks its tables, and
`patronage verify` re-runs a sample of runs."""

from __future__ import annotations

import hashlib
import json
import platform
import re
from importlib.metadata import version

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_fixtures import (
    FAST,
    LEVELS,
    REPLICATES,
    SEED,
    SYRIA,
    TABLES,
    batch,
    copy_folder,
    manifest,
    reference_batch,
    run_cli,
    sha256,
)

import patronage
from patronage.errors import InputError
from patronage.experiments.verify import verify
from patronage.results.folder import open_results
from patronage.rng.seeds import DERIVATIONS


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_batch(tmp_path_factory)


@pytest.fixture
def folder(ref, tmp_path):
    """A private copy of the reference batch, free to tamper with."""
    return copy_folder(ref, tmp_path / "copy")


# --- provenance -------------------------------------------------------------------------------


def test_manifest_provenance(ref):
    m = manifest(ref)
    text = SYRIA.read_text()
    assert m["scenario"]["text"] == text
    assert m["scenario"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert m["scenario"]["name"] == "syria_withdrawal"
    assert m["scenario"]["overrides"] == []
    assert "resolved" not in m["scenario"]  # the scenario is stored once, as its text
    assert open_results(ref).resolved["withdrawal"]["level"] is not None
    assert m["design"] == {
        "sweeps": {"withdrawal.level": [0, 0.5, 1]},
        "samples": {},
        "n_samples": 0,
        "replicates": REPLICATES,
        "seed": SEED,
        "run_layout": "run_id = point_index * replicates + replicate",
        "streams": "common",
    }
    assert m["points"] == [{"withdrawal.level": v} for v in (0, 0.5, 1)]
    assert m["seed"] == SEED
    assert m["streams"] == "common"  # common random numbers across points, by default
    assert m["seed_derivation"] == DERIVATIONS["common"]
    assert "SeedSequence(seed, spawn_key=(run_id % replicates,))" in m["seed_derivation"]
    assert m["chunking"] == "runs"
    assert m["engine"] == "mesa"
    versions = m["versions"]
    assert versions["patronage"] == patronage.__version__
    assert versions["python"] == platform.python_version()
    for package in ("mesa", "numpy", "pandas"):
        assert versions[package] == version(package), package
    # run from a checkout: the commit (and whether the tree was modified)
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", m["git_commit"] or ""), m["git_commit"]
    assert m["started"] <= m["finished"]
    for name in TABLES:
        assert m["tables"][name] == sha256(ref / f"{name}.parquet")


def test_manifest_records_overrides(tmp_path):
    out = tmp_path / "set"
    result = batch(out, "--replicates", "1", "--set", "withdrawal.start=5", *FAST, "--quiet")
    assert result.code == 0, result.err
    m = manifest(out)
    assert m["scenario"]["overrides"] == ["withdrawal.start=5"]
    assert open_results(out).resolved["withdrawal"]["start"] == 5
    assert m["scenario"]["text"] == SYRIA.read_text()  # the file as read, overrides apart


def test_manifest_records_run_times(ref):
    m = manifest(ref)

    def timed(node) -> bool:
        """Somewhere a mapping or list of times, one per chunk or run (not started/finished)."""
        if isinstance(node, list):
            return any(timed(v) for v in node)
        if not isinstance(node, dict):
            return False
        for key, value in node.items():
            named = key not in ("started", "finished") and re.search(
                r"second|time|duration|elapsed", key
            )
            if named and isinstance(value, dict | list) and len(value) >= len(m["chunks_done"]):
                return True
            if timed(value):
                return True
        return False

    assert timed({k: v for k, v in m.items() if k != "scenario"})


# --- opening checks the folder ----------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_open_refuses_a_modified_table(folder, table):
    path = folder / f"{table}.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as info:
        open_results(folder)
    message = str(info.value)
    assert f"{table}.parquet" in message
    assert "sha256" in message
    for command in (["summary", folder], ["verify", folder]):
        result = run_cli(*command)
        assert result.code == 2
        assert len(result.err_lines) == 1
        assert f"{table}.parquet" in result.err


def test_open_refuses_a_missing_table_or_manifest(folder, tmp_path):
    (folder / "events.parquet").unlink()
    with pytest.raises(InputError, match=r"events\.parquet is missing"):
        open_results(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        open_results(folder)
    with pytest.raises(InputError, match="no such result folder"):
        open_results(tmp_path / "nowhere")


# --- verify -----------------------------------------------------------------------------------


def test_verify_sample(ref):
    result = run_cli("verify", ref, "--sample", "5")
    assert result.code == 0, result.err
    assert "5 of 5 sampled runs re-ran identically" in result.out
    listed = re.search(r"\(runs ([\d, ]+)\)", result.out)
    assert listed
    ids = [int(x) for x in listed.group(1).split(", ")]
    assert len(set(ids)) == 5
    assert set(ids) <= set(range(len(LEVELS) * REPLICATES))


def test_verify_sample_larger_than_the_batch(ref):
    report = verify(open_results(ref), sample=100)
    assert report.ok
    assert report.checked == list(range(len(LEVELS) * REPLICATES))


def rewrite_outcomes(folder, run_id: int, partner: str, column: str, delta: float) -> None:
    """Change one value of outcomes.parquet and update the manifest so the folder still opens."""
    path = folder / "outcomes.parquet"
    table = pq.read_table(path)
    frame = table.to_pandas()
    row = frame.index[(frame["run_id"] == run_id) & (frame["partner"] == partner)][0]
    frame.loc[row, column] += delta
    pq.write_table(
        pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False),
        path,
        compression="zstd",
    )
    m = manifest(folder)
    m["tables"]["outcomes"] = sha256(path)
    (folder / "manifest.json").write_text(json.dumps(m, indent=2))


def test_verify_names_a_tampered_run(folder):
    rewrite_outcomes(folder, run_id=13, partner="hezbollah", column="loyalty", delta=1e-9)
    results = open_results(folder)  # the hashes agree: only a re-run can tell
    out = results.outcomes
    assert out.loc[(out["run_id"] == 13) & (out["partner"] == "hezbollah"), "loyalty"].notna().all()

    report = verify(results, sample=100)
    assert not report.ok
    assert list(report.mismatched) == [13]

    result = run_cli("verify", folder, "--sample", "100")
    assert result.code == 1
    assert "run 13 differs" in result.err
    assert "outcomes" in result.err
    assert "1 of 18 sampled runs differ" in result.err
    assert not re.search(r"run (?!13\b)\d+ differs", result.err)


def test_verify_names_a_tampered_event(folder):
    path = folder / "events.parquet"
    events = pq.read_table(path).to_pandas()
    victim = int(events["run_id"].iloc[0])
    events = events.drop(index=events.index[0])
    pq.write_table(
        pa.Table.from_pandas(events, schema=pq.read_schema(path), preserve_index=False),
        path,
        compression="zstd",
    )
    m = manifest(folder)
    m["tables"]["events"] = sha256(path)
    (folder / "manifest.json").write_text(json.dumps(m, indent=2))
    report = verify(open_results(folder), sample=100)
    assert list(report.mismatched) == [victim]
    assert report.mismatched[victim].startswith("events")


def test_verify_without_series(tmp_path):
    out = tmp_path / "no-series"
    result = batch(
        out, "--replicates", "3", "--sweep", "withdrawal.level=0.5,1", "--steps", "24",
        "--series", "none", "--no-progress", "--quiet", "--seed", "5",
    )  # fmt: skip
    assert result.code == 0, result.err
    results = open_results(out)
    assert len(results.series) == 0
    assert manifest(out)["series_every"] is None
    check = run_cli("verify", out, "--sample", "4", "--seed", "2")
    assert check.code == 0, check.err
    assert "4 of 4 sampled runs re-ran identically" in check.out


def test_verify_a_single_run_folder(tmp_path):
    out = tmp_path / "one"
    assert run_cli("run", SYRIA, "--seed", "4", "--steps", "12", "--out", out).code == 0
    check = run_cli("verify", out)
    assert check.code == 0, check.err
    assert "1 of 1 sampled runs re-ran identically" in check.out
