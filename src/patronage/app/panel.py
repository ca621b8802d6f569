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
from patronage.engines.ensemble import run_plan
from patronage.engines.plan import single_plan
from patronage.model.outcomes import STATUSES
from patronage.scenario.loader import LoadedScenario

DEFAULT_RUNS = 1000
BLOCK_RUNS = 250  # runs per block: the page can cancel a computation between blocks
MISSING = -2  # the status code of a (run, partner) whose run failed


class Cancelled(Exception):
    """A newer change made this computation obsolete."""


@dataclass(frozen=True)
class Proportion:
    """k successes of n runs, with the Wilson 95% interval (as `patronage summary`)."""

    k: np.ndarray
    n: int

    @property
    def p(self) -> np.ndarray:
        """The share of runs in each outcome (NaN before any run)."""
        return self.k / self.n if self.n else np.full(self.k.shape, np.nan)

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """Wilson interval of each share, so small ensembles show their uncertainty."""
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
    loaded: LoadedScenario,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    steps: int | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    block_runs: int = BLOCK_RUNS,
) -> PanelStats:
    """The panel's numbers for `runs` runs of a scenario (its ranged inputs drawn per run, as
    a batch draws them); raises Cancelled when told to stop."""
    started = time.perf_counter()
    scenario = loaded.scenario
    horizon = steps if steps is not None else scenario.steps
    partners = scenario.partner_ids()
    shape = (runs, len(partners))
    # per (run, partner): index of the final status in STATUSES, first realign/collapse step
    # (-1: none); rows of failed runs stay MISSING and are left out
    status = np.full(shape, MISSING, dtype=np.int64)
    realign = np.full(shape, -1, dtype=np.int64)
    collapse = np.full(shape, -1, dtype=np.int64)
    for start in range(0, runs, block_runs):
        if cancelled():
            raise Cancelled
        ids = list(range(start, min(runs, start + block_runs)))
        plan = single_plan(loaded, ids)
        outcomes = run_plan(plan, seed, steps=horizon, series_every=None).outcomes
        row = outcomes.column("run_id").to_numpy()
        col = label_codes(outcomes.column("partner"), partners)
        status[row, col] = label_codes(outcomes.column("status"), list(STATUSES))
        realign[row, col] = _steps(outcomes.column("realign_step"))
        collapse[row, col] = _steps(outcomes.column("collapse_step"))
    if cancelled():
        raise Cancelled
    done = ~(status == MISSING).any(axis=1)
    status, realign, collapse = status[done], realign[done], collapse[done]
    n = int(done.sum())
    return PanelStats(
        partners=partners,
        runs=n,
        seed=seed,
        horizon=horizon,
        realign=Proportion((realign >= 0).sum(axis=0), n),
        collapse=Proportion((collapse >= 0).sum(axis=0), n),
        shares={s: Proportion((status == k).sum(axis=0), n) for k, s in enumerate(STATUSES)},
        cumulative_realign=_cumulative(realign, horizon, n),
        cumulative_collapse=_cumulative(collapse, horizon, n),
        failed=runs - n,
        seconds=time.perf_counter() - started,
    )


def label_codes(column: pa.ChunkedArray, labels: list[str]) -> np.ndarray:
    """A text column (dictionary-encoded or not) as indices into `labels`."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    lookup = np.array([labels.index(v) for v in array.dictionary.to_pylist()], dtype=np.int64)
    return lookup[array.indices.to_numpy(zero_copy_only=False)]


def _steps(column: pa.ChunkedArray) -> np.ndarray:
    """First-event steps with -1 for none."""
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
