"""One run of the Mesa engine, turned into the rows of the result tables.

A run is a pure function of (scenario, parameters, seed): it returns plain rows and never
touches the disk, so the same function serves `patronage run`, local process pools and
Dask workers alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patronage.engines.plan import RunPlan
from patronage.model.model import AllianceModel
from patronage.model.outcomes import FINAL_FIELDS, STATUSES
from patronage.results.store import GroupTables
from patronage.scenario.schema import NONE_PATRON, Scenario


@dataclass
class RunResult:
    """The rows one run contributes to runs, outcomes, events and series. `final` holds
    one list per outcome field, partner by partner in the scenario's order, with status
    and patron as codes (into STATUSES and the alternatives) and -1 for no first step."""

    run: dict[str, Any]
    final: dict[str, list] = field(default_factory=dict)
    events: list[tuple] = field(default_factory=list)
    series: list[tuple] = field(default_factory=list)


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence,
    run_id: int = 0,
    steps: int | None = None,
    series_every: int | None = 1,
    params: dict[str, Any] | None = None,
) -> RunResult:
    """Run the model once; `series_every=None` records no series."""
    rng = np.random.default_rng(seed)
    model = AllianceModel(scenario, rng=rng, steps=steps, series_every=series_every, collect=False)
    model.run()
    row: dict[str, Any] = {"run_id": run_id}
    row.update(params or {})
    first_step: dict[tuple[str, str], int] = {}
    for e in model.events:
        first_step.setdefault((e.partner, e.kind), e.step)
    codes = {
        "status": {s: i for i, s in enumerate(STATUSES)},
        "patron": {a: i for i, a in enumerate([*scenario.patron_ids(), NONE_PATRON])},
    }
    by_id = {p.partner_id: p for p in model.partners}
    final: dict[str, list] = {f: [] for f in (*FINAL_FIELDS, "realign_step", "collapse_step")}
    for pid in scenario.partner_ids():
        p = by_id[pid]
        for f in FINAL_FIELDS:
            value = getattr(p, f)
            final[f].append(codes[f][value] if f in codes else float(value))
        final["realign_step"].append(first_step.get((pid, "realign"), -1))
        final["collapse_step"].append(first_step.get((pid, "collapse"), -1))
    events = [
        (run_id, e.step, e.partner, e.kind, e.origin, e.target, e.cause, e.trigger)
        for e in model.events
    ]
    series = [(run_id, *r) for r in model.series] if series_every else []
    return RunResult(row, final, events, series)


def run_group(
    scenario: Scenario,
    batch_seed: int,
    run_ids: list[int],
    steps: int | None = None,
    series_every: int | None = 1,
    params: dict[str, float] | None = None,
) -> GroupTables:
    """Runs of one design point with the Mesa engine, as the result tables.

    Run k is seeded with child k of the batch seed (seeds.py). A run that raises is left
    out of the tables and reported in `failed`, so a batch records it and goes on.
    """
    params = params or {}
    recorded = {f"param.{k}": v for k, v in params.items()}
    runs = ((run_id, run_id, lambda: scenario, recorded) for run_id in run_ids)
    return group_tables(scenario, params, *_simulate_all(runs, batch_seed, steps, series_every))


def run_plan(
    plan: RunPlan, batch_seed: int, steps: int | None = None, series_every: int | None = 1
) -> GroupTables:
    """The runs of a plan, one model each: run k on its stream's seed (child `stream_ids[k]`
    of the batch seed), with its design point's values and the values it draws."""
    keys = plan.keys(batch_seed)
    draws = plan.draws(keys)
    columns = plan.param_columns(draws)
    by_point: dict[int, Scenario] = {}  # without ranges, one scenario per design point

    def scenario_of(k: int) -> Scenario:
        point = plan.point_of_run[k]
        if draws:
            return plan.scenario(k, draws)
        if point not in by_point:
            by_point[point] = plan.scenario(k, draws)
        return by_point[point]

    runs = (
        (
            run_id,
            plan.stream_ids[k],
            functools.partial(scenario_of, k),
            {f"param.{name}": values[k] for name, values in columns.items()},
        )
        for k, run_id in enumerate(plan.run_ids)
    )
    tables = _simulate_all(runs, batch_seed, steps, series_every)
    return group_tables(plan.loaded.scenario, plan.param_kinds(), *tables)


def _simulate_all(
    runs: Iterable[tuple[int, int, Callable[[], Scenario], dict[str, Any]]],
    batch_seed: int,
    steps: int | None,
    series_every: int | None,
) -> tuple[list, list, list, list, dict[int, str]]:
    """Each (run id, stream, its scenario, recorded values) run once: the rows of the runs
    that finished, and the error of each run that raised (the batch records it, goes on)."""
    from patronage.rng.seeds import run_seed_sequence

    rows, finals, events, series, failed = [], [], [], [], {}
    for run_id, stream, scenario_of, recorded in runs:
        try:
            result = simulate(
                scenario_of(),
                run_seed_sequence(batch_seed, stream),
                run_id=run_id,
                steps=steps,
                series_every=series_every,
                params=recorded,
            )
        except Exception as exc:
            failed[run_id] = f"{type(exc).__name__}: {exc}"
            continue
        result.run["seed"] = batch_seed
        rows.append(result.run)
        finals.append(result.final)
        events += result.events
        series += result.series
    return rows, finals, events, series, failed


def group_tables(
    scenario: Scenario,
    param_kinds: dict[str, Any],
    runs: list[dict[str, Any]],
    finals: list[dict[str, list]],
    events: list[tuple],
    series: list[tuple],
    failed: dict[int, str],
) -> GroupTables:
    """The result tables of finished runs (the rows of `simulate`, run by run)."""
    from patronage.results import store

    partner_ids = scenario.partner_ids()
    fields = (*FINAL_FIELDS, "realign_step", "collapse_step")
    final = {
        f: np.array([r[f] for r in finals]).reshape(len(finals), len(partner_ids)) for f in fields
    }
    return GroupTables(
        runs=store.dicts_table(runs, store.runs_schema(param_kinds)),
        outcomes=store.outcomes_table(
            np.array([r["run_id"] for r in runs], dtype=np.int64),
            partner_ids,
            [*scenario.patron_ids(), NONE_PATRON],
            final,
        ),
        events=store.rows_table(events, store.EVENTS_SCHEMA),
        series=store.rows_table(series, store.SERIES_SCHEMA),
        failed=failed,
    )
