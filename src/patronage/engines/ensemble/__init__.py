"""The ensemble engine: every run of a design point stepped at once on numpy arrays.

The Mesa engine (model.py, agents.py) is the reference and the one to read; this module
steps the same model for many runs together, with one array of shape (runs, partners) per
state variable and the functions of rules.py applied to whole arrays. It gives the same
tables as `runner.run_group`, row for row and bit for bit: the same stream keys, the same
counter-based draws (streams.py), and every floating-point operation in the same order.

What makes it cheap is that most of the model does not depend on the run:

* the incumbent's allocation and the hard times follow from the schedule alone, so they
  are computed once per step for all runs (and kept once every ramp is complete);
* so is what each partner sees of its peers (the network-weighted abandonment), a product
  of the watch network (a sparse matrix) with one vector per step, except in the runs where
  a partner has collapsed while with the incumbent (it counts as fully abandoned there),
  which get a product of their own; it applies where a partner is with the incumbent;
* offers, threat and pressure change by scenario events only, so the best alternative to
  leave for (for each possible current patron other than the incumbent), its pull and its
  offer, and the support each patron gives, are tables of shape (alternatives, partners);
  a run picks its row with its current patron. The incumbent, once left, is remembered at
  a value of the run's own (its value at exit), so it is compared per cell (`_best`).

Only the partners' own state (loyalty, dependence, trust, the support the relationship
began with, strength, status, patron, the anchors and starting position of the current
relationship, the trust, loyalty and value left with the incumbent, the realignments made,
and the reference and recent terms of the utility gap) is per run. A step costs a few
dozen array operations on (runs, partners) plus work linear in the number of watch edges,
with no loop over partners or runs in Python.

Exactness rests on three details, each tested: the stream key is the output of the run's
PCG64 that AllianceModel draws (KEY_POSITION), computed on arrays of runs; what a partner
sees of its peers is summed in the order and rounding of Python's sum() (RowSums); and ties
between alternatives go to the first in canonical order, as in Partner._best_alternative.

Modules: codes (integer codes), static (Static), network (watch matrix, RowSums), state
(Ensemble, simulate_block), causes (event causes and triggers), tables (build_tables).
`run_group` has the signature and the result of `runner.run_group`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from patronage.engines.ensemble.codes import MAX_CELLS, SERIES_CELLS
from patronage.engines.ensemble.inputs import input_groups
from patronage.engines.ensemble.state import ChunkResult, simulate_block
from patronage.engines.ensemble.static import Static
from patronage.engines.ensemble.tables import build_tables
from patronage.engines.plan import RunPlan
from patronage.results.store import GroupTables
from patronage.rng.pcg64 import run_keys
from patronage.scenario.schema import Scenario

__all__ = ["Static", "run_group", "run_plan", "simulate_block"]


# --- the entry points ------------------------------------------------------------------------


def run_group(
    scenario: Scenario,
    batch_seed: int,
    run_ids: list[int],
    steps: int | None = None,
    series_every: int | None = 1,
    params: dict[str, float] | None = None,
) -> GroupTables:
    """Runs of one scenario, run k on child k of the batch seed: runner.run_group's tables.

    `params` are recorded as they are in every run's row (designed values of the point).
    """
    run_ids = [int(r) for r in run_ids]
    keys = run_keys(batch_seed, run_ids)
    horizon = steps if steps is not None else scenario.steps
    chunks, failed = _simulate(scenario, {}, keys, run_ids, horizon, series_every)
    columns = {name: [value] * len(run_ids) for name, value in (params or {}).items()}
    return build_tables(scenario, batch_seed, dict(params or {}), columns, run_ids, chunks, failed)


def run_plan(
    plan: RunPlan, batch_seed: int, steps: int | None = None, series_every: int | None = 1
) -> GroupTables:
    """The runs of a plan (any design points, ranged inputs drawn per run), stepped
    together wherever their inputs can be arrays over runs (engines/ensemble/inputs.py)."""
    scenario = plan.loaded.scenario
    keys = plan.keys(batch_seed)
    draws = plan.draws(keys)
    horizon = steps if steps is not None else scenario.steps
    chunks: list[ChunkResult] = []
    failed: dict[int, str] = {}
    run_ids = list(plan.run_ids)
    groups = input_groups(plan, draws)
    for base, positions, varying in groups:
        take = np.asarray(positions)
        done, lost = _simulate(
            base, varying, keys[take], [run_ids[k] for k in positions], horizon, series_every
        )
        chunks += done
        failed.update(lost)
    tables = build_tables(
        scenario,
        batch_seed,
        plan.param_kinds(),
        plan.param_columns(draws),
        run_ids,
        chunks,
        failed,
    )
    return _in_run_order(tables) if len(groups) > 1 else tables


def _simulate(
    scenario: Scenario,
    varying: dict,
    keys: np.ndarray,
    run_ids: list[int],
    horizon: int,
    series_every: int | None,
) -> tuple[list[ChunkResult], dict[int, str]]:
    """Blocks of at most MAX_CELLS run-partner cells (fewer when the series is kept); every
    draw is a pure function of the run's key, the step and the partner, so how runs are cut
    into blocks changes nothing. A block that raises is left out and its runs reported in
    `failed`, as runner.run_group does."""
    chunks: list[ChunkResult] = []
    failed: dict[int, str] = {}
    try:
        static = Static(scenario) if not varying else None
        n = len(scenario.partners)
    except Exception as exc:  # every run would raise the same
        return [], {run_id: f"{type(exc).__name__}: {exc}" for run_id in run_ids}
    per_block = max(1, MAX_CELLS // n)
    if series_every:
        records = horizon // series_every + 2
        per_block = max(1, min(per_block, SERIES_CELLS // (n * records)))
    for start in range(0, len(run_ids), per_block):
        ids = run_ids[start : start + per_block]
        try:
            block = static or Static(
                scenario, {loc: v[start : start + per_block] for loc, v in varying.items()}
            )
            chunks.append(
                simulate_block(block, keys[start : start + per_block], ids, horizon, series_every)
            )
        except Exception as exc:
            for run_id in ids:
                failed[run_id] = f"{type(exc).__name__}: {exc}"
    return chunks, failed


def _in_run_order(tables: GroupTables) -> GroupTables:
    """Rows sorted by run id, stably (each run's rows keep their order)."""

    def ordered(table: pa.Table) -> pa.Table:
        order = np.argsort(table.column("run_id").to_numpy(), kind="stable")
        return table.take(pa.array(order))

    return GroupTables(
        runs=ordered(tables.runs),
        outcomes=ordered(tables.outcomes),
        events=ordered(tables.events),
        series=ordered(tables.series),
        failed=tables.failed,
    )
