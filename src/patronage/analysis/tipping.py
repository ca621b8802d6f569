"""Tipping points: where a probability curve crosses a target, with a 95% interval.

The search (`find_crossings`) scans the field's range coarsely, then refines every bracket
in which the estimated probability passes the target, in rounds that zoom in on the
crossing. The outcomes come from an `evaluate(levels, replicates, stage)` callback that
returns one row of 0/1 outcomes per level and one column per replicate; with common random
numbers replicate k is the same random stream at every level, so the columns are paired.

The crossing level and its interval (the method, stated once):

* estimate: a binomial logistic fit, logit p(x) = a + b x, to the refined levels of the
  bracket (maximum likelihood by Newton's method); the crossing is (logit(target) - a) / b;
* 95% interval: a replicate bootstrap: whole columns (replicates) are resampled with
  replacement and the fit is repeated, so the pairing of common random numbers is kept
  (resampling each level on its own would treat paired outcomes as independent and give
  intervals that are too narrow); the interval is the 2.5% and 97.5% percentiles.

Where the fitted curve jumps from below to above the target between two neighbouring
levels (all replicates agree on each side, so the logistic slope is unbounded), the
interval is the gap between those levels: the data cannot place the crossing more finely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from patronage.analysis.stats import wilson_interval

UPWARD, DOWNWARD = "upward", "downward"
NEWTON_STEPS = 30
RIDGE = 1e-6  # keeps Newton's method finite when the levels separate the outcomes
SEPARATED = 30.0  # logit units across one refined step: a jump, not a slope


Evaluate = Callable[[np.ndarray, int, str], np.ndarray]


@dataclass(frozen=True)
class Crossing:
    """One crossing of the target by the probability curve."""

    direction: str  # UPWARD or DOWNWARD as the field grows
    level: float  # estimated crossing level of the field
    low: float  # 95% interval
    high: float
    bracket: tuple[float, float]  # the coarse levels between which it was found
    levels: tuple[float, ...]  # the refined levels of the last round
    replicates: int  # replicates per refined level


def brackets(levels: np.ndarray, p: np.ndarray, target: float) -> list[tuple[int, str]]:
    """Neighbouring levels (i, i + 1) between which p passes the target, with the direction.

    A level at which p equals the target counts as above it."""
    above = np.asarray(p) >= target
    return [
        (i, UPWARD if above[i + 1] else DOWNWARD)
        for i in range(len(levels) - 1)
        if above[i] != above[i + 1]
    ]


def fit_logistic(
    x: np.ndarray, successes: np.ndarray, trials: float
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Binomial maximum-likelihood logistic fits, one per row of `successes`.

    x: (m,) levels; successes: (B, m) counts out of `trials` each. Returns (a, b), each (B,),
    for logit p = a + b * u with u = (x - centre) / scale (returned too, as floats), which
    keeps Newton's method well conditioned.
    """
    centre = float(np.mean(x))
    scale = float(np.ptp(x)) / 2 or 1.0
    u = (np.asarray(x, dtype=float) - centre) / scale
    k = np.atleast_2d(np.asarray(successes, dtype=float))
    a = np.zeros(k.shape[0])
    b = np.zeros(k.shape[0])
    for _ in range(NEWTON_STEPS):
        eta = np.clip(a[:, None] + b[:, None] * u, -40, 40)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = trials * p * (1 - p)
        r = k - trials * p
        ga, gb = r.sum(1), (r * u).sum(1) - RIDGE * b
        haa, hab, hbb = w.sum(1) + RIDGE, (w * u).sum(1), (w * u * u).sum(1) + RIDGE
        det = haa * hbb - hab**2
        a = a + (hbb * ga - hab * gb) / det
        b = b + (haa * gb - hab * ga) / det
    return a, b, centre, scale


def logit(p: float) -> float:
    """Log-odds of `p`: the scale on which a tipping curve is close to straight."""
    return float(np.log(p / (1 - p)))


def crossing_levels(x: np.ndarray, successes: np.ndarray, trials: int, target: float):
    """The crossing level of each row's logistic fit (NaN where the fit is flat)."""
    a, b, centre, scale = fit_logistic(x, successes, trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (logit(target) - a) / b
    level = centre + scale * u
    return np.where(np.abs(b) > 1e-9, level, np.nan), b / scale


def estimate(
    levels: np.ndarray,
    outcomes: np.ndarray,
    target: float,
    direction: str,
    rng: np.random.Generator,
    n_boot: int = 1000,
) -> tuple[float, float, float]:
    """Crossing level and its 95% replicate-bootstrap interval from one bracket's outcomes.

    outcomes: (levels, replicates) of 0/1, columns paired across levels."""
    levels = np.asarray(levels, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    reps = y.shape[1]
    counts = y.sum(1)
    level, slope = crossing_levels(levels, counts[None, :], reps, target)
    jump = _jump(levels, counts / reps, target, direction)
    step = float(np.min(np.diff(levels))) if len(levels) > 1 else 0.0
    if jump is not None and abs(slope[0]) * step > SEPARATED:
        return float(np.mean(jump)), jump[0], jump[1]
    columns = rng.integers(0, reps, size=(n_boot, reps))
    resampled = np.asarray(outcomes, dtype=np.int8).T[columns].sum(axis=1, dtype=np.int64)
    boot, _ = crossing_levels(levels, resampled, reps, target)
    boot = np.where(np.isnan(boot), level[0], boot)
    low, high = np.percentile(boot, [2.5, 97.5])
    return float(level[0]), float(low), float(high)


def _jump(levels, p, target, direction) -> tuple[float, float] | None:
    """The two neighbouring levels between which p passes the target in `direction`."""
    for i, d in brackets(levels, p, target):
        if d == direction:
            return float(levels[i]), float(levels[i + 1])
    return None


@dataclass(frozen=True)
class Search:
    """How hard to look: a coarse scan, then rounds of refinement per bracket."""

    low: float
    high: float
    coarse_levels: int = 21
    coarse_replicates: int = 200
    refine_levels: int = 11
    refine_replicates: int = 1000
    rounds: int = 2
    boot: int = 1000


@dataclass(frozen=True)
class Scan:
    """The coarse scan: levels, the probability at each, the replicates behind each, and
    the levels where the target stays inside the 95% interval after a second look, away
    from any crossing found (a crossing there can be neither found nor ruled out)."""

    levels: np.ndarray
    p: np.ndarray
    replicates: np.ndarray
    unresolved: tuple[float, ...]


def find_crossings(
    evaluate: Evaluate, search: Search, target: float, seed: int
) -> tuple[Scan, list[Crossing]]:
    """Every crossing of `target` over the range, in order of level.

    Levels of the coarse scan whose Wilson 95% interval contains the target are looked at
    again with the refinement's replicates before brackets are drawn, so a curve that runs
    close to the target is not read from its noise alone.
    """
    coarse = np.linspace(search.low, search.high, search.coarse_levels)
    p = evaluate(coarse, search.coarse_replicates, "scan").mean(1)
    reps = np.full(len(coarse), search.coarse_replicates)
    unsure = _contains(p, reps, target)
    if unsure.any() and search.refine_replicates > search.coarse_replicates:
        p[unsure] = evaluate(coarse[unsure], search.refine_replicates, "scan-check").mean(1)
        reps[unsure] = search.refine_replicates
        unsure = _contains(p, reps, target)
    rng = np.random.default_rng(seed)
    found = []
    near = np.zeros(len(coarse), dtype=bool)
    for i, direction in brackets(coarse, p, target):
        window = (float(coarse[i]), float(coarse[i + 1]))
        found.append(_refine(evaluate, search, target, direction, window, i, rng))
        near[max(i - 1, 0) : i + 3] = True
    unresolved = tuple(float(x) for x in coarse[unsure & ~near])
    return Scan(coarse, p, reps, unresolved), found


def _contains(p: np.ndarray, n: np.ndarray, target: float) -> np.ndarray:
    low, high = wilson_interval(np.round(p * n), n)
    return (low <= target) & (target <= high)


def _refine(evaluate, search, target, direction, bracket, index, rng) -> Crossing:
    lo, hi = bracket
    step = (hi - lo) / (search.refine_levels - 1)
    for r in range(search.rounds):
        levels = np.linspace(lo, hi, search.refine_levels)
        y = evaluate(levels, search.refine_replicates, f"bracket{index}-round{r}")
        level, low, high = estimate(levels, y, target, direction, rng, search.boot)
        if not np.isfinite(level) or not lo <= level <= hi:
            # the fit is flat or places the crossing outside the levels it saw: say no more
            # than that the crossing lies in this window
            level, low, high = (lo + hi) / 2, lo, hi
            break
        # zoom: the next round spans the interval twice over, at least two steps either side
        half = max(high - low, 2 * step)
        lo, hi = max(bracket[0] - step, level - half), min(bracket[1] + step, level + half)
        lo, hi = max(lo, search.low), min(hi, search.high)
        step = (hi - lo) / (search.refine_levels - 1)
    low, high = max(low, search.low), min(high, search.high)
    return Crossing(direction, level, low, high, bracket, tuple(levels), search.refine_replicates)
