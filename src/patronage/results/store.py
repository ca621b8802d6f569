"""Result folders: manifest.json and four parquet tables, written atomically.

Layout of a folder (the same for one run and for a batch of millions):

    manifest.json     what was run, how, by which versions, and which runs are done
    runs.parquet      one row per run: run_id, seed, param.<path> columns
    outcomes.parquet  one row per (run, partner): final status, patron, scores, first steps
    events.parquet    one row per event: run_id, step, partner, kind, from, to, cause, trigger
    series.parquet    one row per (run, recorded step, partner): the state variables

Every file is written to a temporary name and renamed into place, so a reader never sees a
half-written file; a single run's folder is built under a temporary name and renamed whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from patronage.atomic import write_atomic
from patronage.errors import InputError
from patronage.model.outcomes import FINAL_FIELDS, SERIES_FIELDS

MANIFEST = "manifest.json"
TABLES = ("runs", "outcomes", "events", "series")
INDICES = "indices.parquet"  # a sensitivity study's indices, beside its batch's tables
# Format 2: outcomes stored long in outcomes.parquet, the scenario stored once (its text).
# Format 1 (a runs table with <partner>.<field> columns) is still read, converted on read.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
TABLES_OF_FORMAT = {1: ("runs", "events", "series"), 2: TABLES}
OUTCOME_STEPS = ("realign_step", "collapse_step")
LABELS = pa.dictionary(pa.int32(), pa.string())  # a categorical column: codes into labels

EVENTS_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("step", pa.int32()),
        ("partner", pa.string()),
        ("kind", pa.string()),
        ("from", pa.string()),
        ("to", pa.string()),
        ("cause", pa.string()),
        ("trigger", pa.string()),
    ]
)
SERIES_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("step", pa.int32()),
        ("partner", pa.string()),
        *((f, pa.float64()) for f in SERIES_FIELDS),
        ("status", pa.string()),
        ("patron", pa.string()),
    ]
)


def runs_schema(params: Mapping[str, object]) -> pa.Schema:
    """Schema of the runs table: fixed so that empty and partial tables agree on types.

    `params` maps each design field to a value recorded for it: floats for numbers, strings
    (JSON) for anything else (batch.param_value decides).
    """
    fields = [("run_id", pa.int64()), ("seed", pa.int64())]
    fields += [
        (f"param.{name}", pa.string() if isinstance(value, str) else pa.float64())
        for name, value in params.items()
    ]
    return pa.schema(fields)


OUTCOMES_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("partner", LABELS),
        *((f, LABELS if f in ("status", "patron") else pa.float64()) for f in FINAL_FIELDS),
        *((f, pa.int32()) for f in OUTCOME_STEPS),
    ]
)


def outcomes_table(
    run_ids: np.ndarray,
    partner_ids: list[str],
    alternatives: list[str],
    final: dict[str, np.ndarray],
) -> pa.Table:
    """The outcomes table of some runs, from arrays of shape (runs, partners): run-major rows.

    `final` holds status codes (into STATUSES), patron codes (into `alternatives`), the
    scores, and first realign/collapse steps (-1 when none). Both engines build their table
    here, with every label of the scenario in each dictionary, so their bytes agree and every
    chunk of a batch shares one dictionary (a 100,000-partner table stores each id once per
    row group, not once per row).
    """
    from patronage.model.outcomes import STATUSES

    n_runs, n = len(run_ids), len(partner_ids)
    labels = {
        "partner": pa.array(partner_ids, type=pa.string()),
        "status": pa.array(list(STATUSES), type=pa.string()),
        "patron": pa.array(alternatives, type=pa.string()),
    }

    def coded(name: str, codes: np.ndarray) -> pa.Array:
        indices = pa.array(np.ascontiguousarray(codes, dtype=np.int32).ravel(), type=pa.int32())
        return pa.DictionaryArray.from_arrays(indices, labels[name])

    columns: dict[str, pa.Array] = {
        "run_id": pa.array(np.repeat(np.asarray(run_ids, dtype=np.int64), n), type=pa.int64()),
        "partner": coded("partner", np.tile(np.arange(n, dtype=np.int32), n_runs)),
    }
    for f in FINAL_FIELDS:
        values = np.asarray(final[f]).reshape(n_runs, n)
        if f in ("status", "patron"):
            columns[f] = coded(f, values)
        else:
            columns[f] = pa.array(values.astype(np.float64, copy=False).ravel(), type=pa.float64())
    for f in OUTCOME_STEPS:
        flat = np.asarray(final[f], dtype=np.int64).reshape(n_runs, n).ravel()
        columns[f] = pa.array(flat, mask=flat < 0, type=pa.int32())
    return pa.Table.from_arrays([columns[f.name] for f in OUTCOMES_SCHEMA], schema=OUTCOMES_SCHEMA)


def rows_table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    """An Arrow table from row tuples, typed by `schema` even when empty."""
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def dicts_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """An Arrow table from row dicts, typed by `schema`; missing keys are null."""
    return pa.Table.from_arrays(
        [pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema], schema=schema
    )


def write_table(table: pa.Table, path: Path) -> None:
    """Write a parquet file under a temporary name, then rename it into place."""
    write_atomic(
        path, lambda tmp: pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    )


def write_text(path: Path, text: str) -> None:
    """Write a text file under a temporary name, then rename it into place."""
    if path.is_dir():
        raise InputError("is a folder; give a file name", source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(obj: Any, path: Path) -> None:
    """Write `obj` as indented JSON, atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def default_out(scenario_name: str) -> Path:
    """results/<scenario>-<UTC timestamp>: a fresh folder name for each run or batch."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path("results") / f"{scenario_name}-{stamp}"
    n = 2
    while out.exists():  # two runs in the same second (a loop over seeds)
        out = Path("results") / f"{scenario_name}-{stamp}-{n}"
        n += 1
    return out


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks, for the journal and manifest."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class GroupTables:
    """What a group of runs contributes to a result folder, from either engine: pyarrow
    tables with the schemas above, and the runs that raised (run id -> error)."""

    runs: pa.Table
    outcomes: pa.Table
    events: pa.Table
    series: pa.Table
    failed: dict[int, str] = field(default_factory=dict)
