"""Chunk files of a running batch, and the journal that vouches for them.

Each finished chunk is three parquet files, `chunks/NNNNNN-{runs,events,series}.parquet`,
renamed into place, then one journal line (`chunks/journal.jsonl`) recording its run ids
and the sha256 of each file. A chunk counts as done only if its journal line exists and its
files still hash to it and hold exactly its runs: a truncated, edited, swapped or missing
chunk is run again, never merged. `consolidate` merges the checked chunks, in chunk order
and in row groups of a fixed size, into the folder's tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from patronage.atomic import temporary_name
from patronage.experiments.chunks import ChunkOutput, ChunkTask
from patronage.results import store

__all__ = [
    "JOURNAL",
    "chunk_intact",
    "chunk_path",
    "consolidate",
    "journal_entry",
    "read_checked",
    "read_journal",
    "write_chunk",
]

JOURNAL = "journal.jsonl"
ROW_GROUP = 16_384  # rows per parquet row group: bounds consolidation memory
# The outcomes table's dictionaries (every partner id) are stored once per row group, so a
# group holds at least two rows per partner, up to this many: a 100,000-partner table stays
# small and quick to read, and a batch of a few partners keeps ROW_GROUP-row groups (and its
# consolidation memory flat in the number of runs).
MAX_OUTCOMES_ROW_GROUP = 131_072


def row_group_rows(name: str, n_partners: int) -> int:
    """Rows per row group of one table of a batch with `n_partners` partners."""
    if name != "outcomes":
        return ROW_GROUP
    return max(ROW_GROUP, min(MAX_OUTCOMES_ROW_GROUP, 2 * n_partners))


def chunk_path(chunks: Path, index: int, table: str) -> Path:
    """Where one chunk's table is written, numbered so chunks sort in order."""
    return chunks / f"{index:06d}-{table}.parquet"


def write_chunk(chunks: Path, output: ChunkOutput, task: ChunkTask) -> dict[str, Any]:
    """Write a chunk's three tables; return its journal entry (run ids, hashes, failures)."""
    sha256 = {}
    for name in store.TABLES:
        path = chunk_path(chunks, output.index, name)
        store.write_table(getattr(output, name), path)
        sha256[name] = store.file_sha256(path)
    return journal_entry(output, task, sha256)


def journal_entry(output: ChunkOutput, task: ChunkTask, sha256: dict[str, str]) -> dict[str, Any]:
    """The journal line for a finished chunk, so a resumed batch knows it is done."""
    return {
        "chunk": output.index,
        "run_ids": [task.run_ids[0], task.run_ids[-1] + 1],  # the half-open range it holds
        "seconds": round(output.seconds, 4),
        "failed": {str(k): v for k, v in output.failed.items()},
        "sha256": sha256,
    }


def read_journal(journal: Path) -> dict[int, dict[str, Any]]:
    """The last entry of each chunk (a torn or foreign line is ignored)."""
    entries: dict[int, dict[str, Any]] = {}
    try:
        if not stat.S_ISREG(journal.stat().st_mode):
            return entries
        text = journal.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return entries
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("chunk"), int):
            entries[entry["chunk"]] = entry
    return entries


def _entry_fits(task: ChunkTask, entry: dict[str, Any] | None) -> bool:
    if not entry or entry.get("run_ids") != [task.run_ids[0], task.run_ids[-1] + 1]:
        return False
    sha = entry.get("sha256")
    failed = entry.get("failed")
    return (
        isinstance(sha, dict)
        and all(isinstance(sha.get(t), str) for t in store.TABLES)
        and isinstance(failed, dict)
        and isinstance(entry.get("seconds"), int | float)
    )


def _file_bytes(path: Path) -> bytes | None:
    """A chunk file's bytes, or None if it is missing or not a regular file."""
    try:
        if path.is_symlink() or not stat.S_ISREG(path.stat().st_mode):
            return None
        return path.read_bytes()
    except OSError:
        return None


def chunk_intact(chunks: Path, task: ChunkTask, entry: dict[str, Any] | None) -> bool:
    """Whether a chunk's files exist and hash to what the journal recorded for it."""
    if not _entry_fits(task, entry):
        return False
    assert entry is not None
    for name in store.TABLES:
        data = _file_bytes(chunk_path(chunks, task.index, name))
        if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"][name]:
            return False
    return True


def read_checked(
    chunks: Path, task: ChunkTask, entry: dict[str, Any] | None, name: str
) -> pa.Table | None:
    """One table of a chunk, or None if it fails its checks: the sha256 in the journal, and
    the runs it holds (runs: exactly the chunk's runs that did not fail, in order; events
    and series: only the chunk's runs)."""
    if not _entry_fits(task, entry):
        return None
    assert entry is not None
    data = _file_bytes(chunk_path(chunks, task.index, name))
    if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"][name]:
        return None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError):
        return None
    ids = table.column("run_id") if "run_id" in table.column_names else None
    if ids is None:
        return None
    if name == "runs":
        failed = {int(k) for k in entry["failed"]}
        expected = [r for r in task.run_ids if r not in failed]
        return table if ids.to_pylist() == expected else None
    if table.num_rows:
        low, high = pc.min(ids).as_py(), pc.max(ids).as_py()
        if low < task.run_ids[0] or high > task.run_ids[-1]:
            return None
    return table


def consolidate(
    out: Path, tasks: list[ChunkTask], entries: dict[int, dict[str, Any]], n_partners: int
) -> list[int]:
    """Concatenate the chunks in chunk order into row groups of a fixed size per table,
    checking each chunk as it is read; returns the chunks that failed (nothing is written
    then)."""
    chunks = out / "chunks"
    bad: list[int] = []
    for name in store.TABLES:
        dest = out / f"{name}.parquet"
        tmp = temporary_name(dest)
        rows = row_group_rows(name, n_partners)
        writer: pq.ParquetWriter | None = None
        pending: list[pa.Table] = []
        pending_rows = 0
        try:
            for task in tasks:
                table = read_checked(chunks, task, entries.get(task.index), name)
                if table is None:
                    bad.append(task.index)
                    continue
                if bad:
                    continue  # keep checking, write nothing
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                pending.append(table)
                pending_rows += table.num_rows
                while pending_rows >= rows:
                    joined = pa.concat_tables(pending)
                    writer.write_table(joined.slice(0, rows), row_group_size=rows)
                    rest = joined.slice(rows)
                    pending, pending_rows = [rest], rest.num_rows
            if bad:
                return sorted(set(bad))
            assert writer is not None, "a batch has at least one chunk"
            if pending_rows:
                writer.write_table(pa.concat_tables(pending), row_group_size=rows)
            writer.close()
            writer = None
            os.replace(tmp, dest)
        finally:
            if writer is not None:
                writer.close()
            tmp.unlink(missing_ok=True)
    return []
