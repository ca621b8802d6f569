"""The arrays of finished blocks of runs turned into the result tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from patronage.engines.ensemble.codes import (
    CAUSES,
)
from patronage.engines.ensemble.state import ChunkResult
from patronage.model.outcomes import EVENT_KINDS, FINAL_FIELDS, SERIES_FIELDS, STATUSES
from patronage.results import store
from patronage.results.store import GroupTables
from patronage.scenario.schema import NONE_PATRON, Scenario

# --- tables ---------------------------------------------------------------------------------


def _strings(values: Sequence[str | None], codes: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(codes.astype(np.int64, copy=False)))


def build_tables(
    scenario: Scenario,
    batch_seed: int,
    param_kinds: dict[str, Any],
    param_columns: dict[str, list[Any]],
    planned: list[int],
    chunks: list[ChunkResult],
    failed: dict[int, str],
) -> GroupTables:
    """The four tables of finished blocks. `param_columns` hold each recorded field's
    value for each run of `planned` (param_kinds: a value of each one's type)."""
    partner_ids = scenario.partner_ids()
    alternatives = [*scenario.patron_ids(), NONE_PATRON]
    n = len(partner_ids)
    run_ids = np.concatenate([ch.run_ids for ch in chunks]) if chunks else np.zeros(0, np.int64)
    runs = _runs_table(run_ids, batch_seed, param_kinds, param_columns, planned)
    # outcomes: the (runs, partners) arrays, run-major
    final = {
        f: (np.concatenate([ch.final[f] for ch in chunks]) if chunks else np.zeros((0, n)))
        for f in (*FINAL_FIELDS, "realign_step", "collapse_step")
    }
    outcomes = store.outcomes_table(run_ids, partner_ids, alternatives, final)
    events = _events_table(chunks, partner_ids, alternatives)
    series = _series_table(chunks, partner_ids, alternatives)
    return GroupTables(runs=runs, outcomes=outcomes, events=events, series=series, failed=failed)


def _runs_table(
    run_ids: np.ndarray,
    batch_seed: int,
    param_kinds: dict[str, Any],
    param_columns: dict[str, list[Any]],
    planned: list[int],
) -> pa.Table:
    """One row per finished run: its id, the batch seed and each recorded field's value."""
    schema = store.runs_schema(param_kinds)
    n_runs = run_ids.size
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(run_ids, type=pa.int64()),
        "seed": pa.array(np.full(n_runs, batch_seed, dtype=np.int64), type=pa.int64()),
    }
    position = {run_id: k for k, run_id in enumerate(planned)}
    at = [position[int(r)] for r in run_ids]
    for name, drawn in param_columns.items():
        column = f"param.{name}"
        columns[column] = pa.array([drawn[k] for k in at], type=schema.field(column).type)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def _events_table(
    chunks: list[ChunkResult], partner_ids: list[str], alternatives: list[str]
) -> pa.Table:
    """The events of all blocks, block by block, runs in the order given."""
    parts = [ch.events for ch in chunks if ch.events["run"].size]
    if not parts:
        return store.rows_table([], store.EVENTS_SCHEMA)
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    run_of_event = np.concatenate(
        [ch.run_ids[ch.events["run"]] for ch in chunks if ch.events["run"].size]
    )
    return pa.Table.from_arrays(
        [
            pa.array(run_of_event, type=pa.int64()),
            pa.array(cat["step"], type=pa.int32()),
            _strings(partner_ids, cat["partner"]),
            _strings(list(EVENT_KINDS), cat["kind"]),
            _strings(alternatives, cat["from"]),
            _strings([*alternatives, None], cat["to"]),
            _strings(list(CAUSES), cat["cause"]),
            _strings(list(CAUSES), cat["trigger"]),
        ],
        schema=store.EVENTS_SCHEMA,
    )


def _series_table(
    chunks: list[ChunkResult], partner_ids: list[str], alternatives: list[str]
) -> pa.Table:
    """The recorded steps of the blocks that kept series, run-major then step then partner."""
    with_series = [ch for ch in chunks if ch.series is not None]
    if not with_series:
        return store.rows_table([], store.SERIES_SCHEMA)
    n = len(partner_ids)
    arrays = []
    run_col, step_col = [], []
    for ch in with_series:
        recorded = np.asarray(ch.series_steps, dtype=np.int32)
        shape = (ch.run_ids.size, recorded.size, n)
        run_col.append(np.broadcast_to(ch.run_ids[:, None, None], shape).ravel())
        step_col.append(np.broadcast_to(recorded[None, :, None], shape).ravel())
    rows = sum(r.size for r in run_col)
    partner_col = np.resize(np.arange(n, dtype=np.int64), rows)
    arrays.append(pa.array(np.concatenate(run_col), type=pa.int64()))
    arrays.append(pa.array(np.concatenate(step_col), type=pa.int32()))
    arrays.append(_strings(partner_ids, partner_col))
    recorded_series = [ch.series for ch in with_series if ch.series is not None]
    for f in SERIES_FIELDS:
        values = np.concatenate([series[f] for series in recorded_series])
        arrays.append(pa.array(values, type=pa.float64()))
    status = np.concatenate([series["status"] for series in recorded_series])
    patron = np.concatenate([series["patron"] for series in recorded_series])
    arrays.append(_strings(list(STATUSES), status))
    arrays.append(_strings(alternatives, patron))
    return pa.Table.from_arrays(arrays, schema=store.SERIES_SCHEMA)
