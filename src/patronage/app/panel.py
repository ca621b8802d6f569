"""The computation behind the ensemble panel: outcome probabilities from N runs, cancellable.

N runs (default 1,000) of the ensemble engine, the same runs `patronage batch --engine
ensemble --replicates N --seed S` makes (run k seeded with child k of the batch seed), so
the panel's numbers are those of `patronage.run_batch(...).summary()` for the same settings.
Runs are computed in blocks; between blocks the computation asks whether a newer change has
made it obsolete and, if so, stops (the page cancels it that way). Each run depends only on
its own seed, so cutting the runs into blocks changes no number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from patronage.analysis.stats import wilson_interval
from patronage.engines.ensemble import run_group
from patronage.model.outcomes import STATUSES
from patronage.scenario.schema import Scenario

DEFAULT_RUNS = 1000
BLOCK_RUNS = 250  # runs per block: the page can cancel a computation between blocks


class Cancelled(Exception):
    """A newer change made this computation obsolete."""


@dataclass(frozen=True)
class Proportion:
    """k successes of n runs, with the Wilson 95% interval (as `patronage summary`)."""

    k: np.ndarray
    n: int

    @property
    def p(self) -> np.ndarray:
        return self.k / self.n if self.n else np.full(self.k.shape, np.nan)

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        return wilson_interval(self.k, self.n)


@dataclass(frozen=True)
class PanelStats:
    """Per partner (in canonical order): P(realign), P(collapse), final-state shares, curves."""

    partners: list[str]
    runs: int
    seed: int
    horizon: int
    realign: Proportion
    collapse: Proportion
    shares: dict[str, Proportion]  # final status -> runs ending in it
    cumulative_realign: np.ndarray  # (horizon + 1, partners): P(first realignment <= step)
    cumulative_collapse: np.ndarray
    failed: int
    seconds: float


def compute(
    scenario: Scenario,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    steps: int | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    block_runs: int = BLOCK_RUNS,
) -> PanelStats:
    """The panel's numbers for `runs` runs of `scenario`; raises Cancelled when told to stop."""
    started = time.perf_counter()
    horizon = steps if steps is not None else scenario.steps
    partners = scenario.partner_ids()
    fields = ("status", "realign_step", "collapse_step")
    parts: dict[str, list[np.ndarray]] = {f"{p}.{f}": [] for p in partners for f in fields}
    failed = 0
    for start in range(0, runs, block_runs):
        if cancelled():
            raise Cancelled
        ids = list(range(start, min(runs, start + block_runs)))
        tables = run_group(scenario, seed, ids, steps=horizon, series_every=None)
        failed += len(tables.failed)
        for name, chunks in parts.items():
            chunks.append(_column(tables.runs, name))
    if cancelled():
        raise Cancelled
    done = runs - failed
    status = np.stack([np.concatenate(parts[f"{p}.status"]) for p in partners], axis=1)
    realign = np.stack([np.concatenate(parts[f"{p}.realign_step"]) for p in partners], axis=1)
    collapse = np.stack([np.concatenate(parts[f"{p}.collapse_step"]) for p in partners], axis=1)
    shares = {s: Proportion((status == s).sum(axis=0), done) for s in STATUSES}
    return PanelStats(
        partners=partners,
        runs=done,
        seed=seed,
        horizon=horizon,
        realign=Proportion((realign >= 0).sum(axis=0), done),
        collapse=Proportion((collapse >= 0).sum(axis=0), done),
        shares=shares,
        cumulative_realign=_cumulative(realign, horizon, done),
        cumulative_collapse=_cumulative(collapse, horizon, done),
        failed=failed,
        seconds=time.perf_counter() - started,
    )


def _column(table: pa.Table, name: str) -> np.ndarray:
    """A runs-table column as numpy: status strings as objects, missing steps as -1."""
    column = table.column(name)
    if pa.types.is_string(column.type):
        return np.asarray(column.to_pylist(), dtype=object)
    return column.fill_null(-1).to_numpy().astype(np.int64)


def _cumulative(first_steps: np.ndarray, horizon: int, runs: int) -> np.ndarray:
    """(horizon + 1, partners): the share of runs whose first event came at or before step t."""
    out = np.zeros((horizon + 1, first_steps.shape[1]))
    if runs == 0:
        return out
    for j in range(first_steps.shape[1]):
        steps = first_steps[:, j]
        counts = np.bincount(steps[steps >= 0], minlength=horizon + 1)[: horizon + 1]
        out[:, j] = np.cumsum(counts) / runs
    return out
