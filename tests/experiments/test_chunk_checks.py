"""Checked chunks (issue 11, classes 4 and 5): a chunk is merged only if its files match the
sha256 and run ids its journal line recorded; a bad one is run again. `verify` notices run
ids a table holds twice or lacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_fixtures import FAST, SYRIA, manifest, run_cli, stopped_batch, table_bytes

from patronage.experiments.chunkfiles import (
    ROW_GROUP,
    chunk_path,
    read_checked,
    read_journal,
    row_group_rows,
)
from patronage.experiments.chunks import ChunkTask
from patronage.results.store import TABLES, file_sha256

SMALL = ("--replicates", "40", "--engine", "ensemble", "--chunk-runs", "10", "--quiet", *FAST)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chunks") / "ref"
    assert run_cli("batch", SYRIA, *SMALL, "--out", out).code == 0
    return out


def resume(out: Path):
    return run_cli("batch", SYRIA, *SMALL, "--resume", out)


def test_a_chunk_copied_over_another_is_run_again(reference, tmp_path):
    """The repro: chunk 0's tables copied over chunk 1's before --resume."""
    out = stopped_batch(tmp_path / "b", chunks=3)
    chunks = out / "chunks"
    for name in TABLES:
        shutil.copyfile(chunk_path(chunks, 0, name), chunk_path(chunks, 1, name))
    result = resume(out)
    assert result.code == 0, result.err
    assert table_bytes(out) == table_bytes(reference)
    runs = pq.read_table(out / "runs.parquet").column("run_id").to_pylist()
    assert runs == list(range(40))


@pytest.mark.parametrize("name", TABLES)
def test_a_truncated_chunk_is_run_again(reference, tmp_path, name):
    out = stopped_batch(tmp_path / "b", chunks=3)
    path = chunk_path(out / "chunks", 0, name)
    with path.open("r+b") as f:
        f.truncate(100)
    result = resume(out)
    assert result.code == 0, result.err
    assert table_bytes(out) == table_bytes(reference)


def test_a_chunk_not_in_the_journal_is_run_again(reference, tmp_path):
    """Files in place but no journal line (killed between the two): not trusted."""
    out = stopped_batch(tmp_path / "b", chunks=3)
    journal = out / "chunks" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-1]) + "\n{torn")
    assert resume(out).code == 0
    assert table_bytes(out) == table_bytes(reference)


def test_the_journal_records_run_ids_and_hashes(tmp_path):
    out = stopped_batch(tmp_path / "b", chunks=2)
    entries = read_journal(out / "chunks" / "journal.jsonl")
    assert sorted(entries) == [0, 1]
    assert entries[1]["run_ids"] == [10, 20]
    for name in TABLES:
        assert entries[1]["sha256"][name] == file_sha256(chunk_path(out / "chunks", 1, name))


def test_consolidation_refuses_a_chunk_holding_other_runs(tmp_path):
    """Even with a journal line that matches its bytes, a chunk whose runs table holds other
    run ids than its own is not merged."""
    out = stopped_batch(tmp_path / "b", chunks=2)
    chunks = out / "chunks"
    entry = read_journal(chunks / "journal.jsonl")[1]
    task = ChunkTask(1, tuple(range(10, 20)), {})
    assert read_checked(chunks, task, entry, "runs") is not None
    table = pq.read_table(chunk_path(chunks, 0, "runs"))  # runs 0-9
    pq.write_table(table, chunk_path(chunks, 1, "runs"))
    entry = {
        **entry,
        "sha256": {**entry["sha256"], "runs": file_sha256(chunk_path(chunks, 1, "runs"))},
    }
    assert read_checked(chunks, task, entry, "runs") is None
    series = pq.read_table(chunk_path(chunks, 0, "series"))
    pq.write_table(series, chunk_path(chunks, 1, "series"))
    entry["sha256"]["series"] = file_sha256(chunk_path(chunks, 1, "series"))
    assert read_checked(chunks, task, entry, "series") is None


def _rewrite_runs(folder: Path, table: pa.Table) -> None:
    """Change runs.parquet and update the manifest's hash, so the folder still opens."""
    pq.write_table(table, folder / "runs.parquet")
    m = manifest(folder)
    m["tables"]["runs"] = file_sha256(folder / "runs.parquet")
    (folder / "manifest.json").write_text(json.dumps(m))


def test_verify_notices_duplicated_and_missing_run_ids(reference, tmp_path):
    folder = tmp_path / "v"
    shutil.copytree(reference, folder)
    runs = pq.read_table(folder / "runs.parquet")
    ids = runs.column("run_id").to_pylist()
    keep = [i for i, r in enumerate(ids) if r != 7] + [ids.index(20)]  # 7 gone, 20 twice
    _rewrite_runs(folder, runs.take(keep))
    result = run_cli("verify", folder, "--sample", "40")
    assert result.code == 1
    assert f"{folder}: runs.parquet holds run ids twice or more (1: 20)" in result.err_lines
    assert f"{folder}: runs.parquet lacks run ids that did not fail (1: 7)" in result.err_lines


def test_outcomes_row_groups_stay_small_for_few_partners_and_grow_for_many(tmp_path):
    # Consolidation holds one row group of a table at a time: with 7 partners the outcomes
    # table keeps ROW_GROUP-row groups, so memory does not grow with the number of runs
    # (benchmarks/run.py: peak memory 100,000 / 10,000 runs); with many partners a group
    # holds two rows per partner (up to 131,072), so the partner dictionary stored in each
    # group does not outweigh its rows.
    out = tmp_path / "b"
    result = run_cli(
        "batch",
        SYRIA,
        "--engine",
        "ensemble",
        "--replicates",
        3000,
        "--steps",
        12,
        "--series",
        "none",
        "--out",
        out,
        "--quiet",
    )
    assert result.code == 0, result.err
    meta = pq.ParquetFile(out / "outcomes.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [ROW_GROUP, 3000 * 7 - ROW_GROUP]
    assert row_group_rows("outcomes", 7) == ROW_GROUP == row_group_rows("runs", 100_000)
    assert row_group_rows("outcomes", 20_000) == 40_000
    assert row_group_rows("outcomes", 100_000) == 131_072
