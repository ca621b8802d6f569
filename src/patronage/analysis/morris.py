"""Morris elementary effects (Morris 1991; mu* from Campolongo, Cariboni & Saltelli 2007),
sampled and analysed by SALib.

Per factor: mu* is the mean absolute elementary effect, in output units per move of the
factor across its whole range (the effects are computed on the unit cube, where a move is
levels / (2 (levels - 1)) of the range); mu*_conf is the half-width of its 95% bootstrap
interval; sigma is the spread of the effects (interaction or non-linearity); mu their
signed mean. A screening method: it ranks the factors at (trajectories) x (factors + 1)
design points, far fewer than variance-based indices need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.analysis.factors import Factor

COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")
RESAMPLES = 1000  # bootstrap resamples behind mu*_conf
LEVELS = 4  # grid levels per factor (SALib's default; Saltelli et al. 2008 suggest 4)


def problem(factors: list[Factor]) -> dict:
    """SALib's description of the factors."""
    return {
        "num_vars": len(factors),
        "names": [f.path for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }


def n_points(n_factors: int, trajectories: int) -> int:
    """How many points a Morris design of this size evaluates, to size a study before running it."""
    return trajectories * (n_factors + 1)


def sample(factors: list[Factor], trajectories: int, seed: int) -> np.ndarray:
    """The design: `trajectories` one-at-a-time paths, (trajectories x (factors + 1), factors)."""
    from SALib.sample import morris

    return morris.sample(problem(factors), trajectories, num_levels=LEVELS, seed=seed)


def analyze(factors: list[Factor], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """One row per factor: mu*, its 95% interval half-width, sigma and mu, for output y (one
    value per design point, in design order)."""
    from SALib.analyze import morris

    res = morris.analyze(
        problem(factors),
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        num_resamples=RESAMPLES,
        conf_level=0.95,
        num_levels=LEVELS,
        seed=seed,
    )
    columns = {c: np.asarray(res[c], dtype=float) for c in COLUMNS}
    return pd.DataFrame({"factor": [f.path for f in factors], **columns})
