"""The computation behind the tipping panel: P(realign by the horizon) of each partner
against the withdrawal level, everything else as set on the page; cancellable.

These are the runs of `patronage batch SCENARIO --engine ensemble --sweep
withdrawal.level=0,0.1,...,1 --replicates R --seed S`: the batch's own Design (one point per
level, R replicates each) cut into the batch's chunks and run as the batch runs them, with
common random numbers (replicate r of every level on child r of the seed), so the counts
are `curve_points` of that batch and the curves are paired across levels: a difference
between two levels is the level's, not the noise's. Between blocks the computation asks
whether a newer change has made it obsolete, as the ensemble panel does.

The sweep takes over the page's own withdrawal level, so moving that slider changes no
number here (`sweep_key` leaves it out; the panel only marks the level).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from patronage.analysis.stats import wilson_interval
from patronage.app.panel import BLOCK_RUNS, Cancelled, label_codes
from patronage.engines.ensemble import run_plan
from patronage.experiments.chunks import plan_chunks, task_plan
from patronage.experiments.design import Design
from patronage.scenario.loader import LoadedScenario

FIELD = "withdrawal.level"
LEVELS = tuple(round(i / 10, 12) for i in range(11))  # 0, 0.1, ..., 1
DEFAULT_RUNS_PER_LEVEL = 200  # 2,200 runs: about 1 s (README, "An interactive page")


@dataclass(frozen=True, eq=False)  # compared by identity (holds arrays)
class TippingStats:
    """Runs and realignments by the horizon per (level, partner), partners in canonical order."""

    partners: list[str]
    levels: tuple[float, ...]
    runs_per_level: int
    seed: int
    horizon: int
    runs: np.ndarray  # (levels, partners): finished runs (failed runs are left out)
    realigned: np.ndarray  # (levels, partners): runs that realigned by the horizon
    failed: int
    seconds: float

    @property
    def p(self) -> np.ndarray:
        """P(realign by the horizon), (levels, partners); NaN where no run finished."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.runs > 0, self.realigned / np.maximum(self.runs, 1), np.nan)

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """The Wilson 95% interval of each probability (as the tipping curve's bands)."""
        return wilson_interval(self.realigned, self.runs)

    def points(self) -> pd.DataFrame:
        """The table `reporting.plots.tipping.curve_points` makes of the same batch: one row
        per (partner, x) with its runs and realignments, sorted by partner then level."""
        rows = [
            (pid, float(x), int(self.runs[i, j]), int(self.realigned[i, j]))
            for j, pid in enumerate(self.partners)
            for i, x in enumerate(self.levels)
        ]
        table = pd.DataFrame(rows, columns=["partner", "x", "runs", "k"])
        return table.sort_values(["partner", "x"], ignore_index=True)


def sweep_design(runs_per_level: int, seed: int) -> Design:
    """The design of the equivalent batch: the levels swept, R replicates, common streams."""
    return Design(sweeps={FIELD: list(LEVELS)}, replicates=runs_per_level, seed=seed)


def sweep_key(loaded: LoadedScenario) -> tuple:
    """What the panel's numbers depend on in a loaded scenario: its text and overrides, less
    those of the withdrawal level, which the sweep replaces."""
    kept = tuple(o for o in loaded.overrides if not sets_level(o.split("=", 1)[0].strip()))
    return (loaded.text, loaded.source, kept)


def page_level(loaded: LoadedScenario) -> float | None:
    """The withdrawal level the page runs, to mark on the curves (None: a range, drawn per
    run)."""
    if any(r.path == FIELD for r in loaded.ranges):
        return None
    return float(loaded.scenario.withdrawal.level)


def sets_level(path: str) -> bool:
    """Whether a dotted path writes the swept level (or, for a range, one of its ends)."""
    return path == FIELD or path.startswith(FIELD + ".")


def compute(
    loaded: LoadedScenario,
    runs_per_level: int = DEFAULT_RUNS_PER_LEVEL,
    seed: int = 0,
    cancelled: Callable[[], bool] = lambda: False,
    block_runs: int = BLOCK_RUNS,
) -> TippingStats:
    """The panel's counts for `runs_per_level` runs at each level; raises Cancelled when
    told to stop. Blocks are the batch's chunks: each run depends only on its own stream and
    level, so the block size changes no number."""
    started = time.perf_counter()
    design = sweep_design(runs_per_level, seed)
    points = design.points()
    partners = loaded.scenario.partner_ids()
    horizon = loaded.scenario.steps
    runs = np.zeros((len(points), len(partners)), dtype=np.int64)
    realigned = np.zeros_like(runs)
    finished = 0
    for task in plan_chunks(design, points, block_runs):
        if cancelled():
            raise Cancelled
        plan = task_plan(loaded, task, design.replicates, design.streams, {FIELD: True})
        outcomes = run_plan(plan, seed, steps=horizon, series_every=None).outcomes
        run_ids = outcomes.column("run_id").to_numpy()
        point = run_ids // runs_per_level
        col = label_codes(outcomes.column("partner"), partners)
        hit = outcomes.column("realign_step").is_valid().to_numpy()
        np.add.at(runs, (point, col), 1)
        np.add.at(realigned, (point, col), hit.astype(np.int64))
        finished += len(np.unique(run_ids))
    if cancelled():
        raise Cancelled
    return TippingStats(
        partners=partners,
        levels=LEVELS,
        runs_per_level=runs_per_level,
        seed=seed,
        horizon=horizon,
        runs=runs,
        realigned=realigned,
        failed=design.n_runs - finished,
        seconds=time.perf_counter() - started,
    )
