"""Sobol' indices (Sobol' 1993) by Saltelli's scheme (Saltelli 2002; Saltelli et al. 2010;
Jansen's estimator for ST), sampled and analysed by SALib.

Per factor: S1 is the share of the output's variance due to the factor alone, ST its share
including every interaction, each with the half-width of a 95% bootstrap interval
(S1_conf, ST_conf). The design has base x (factors + 2) points from a scrambled Sobol'
sequence; `base` must be a power of 2. A constant output has no variance to share: its
indices are left empty (NaN) rather than divided by zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.analysis.factors import Factor
from patronage.analysis.morris import problem
from patronage.errors import InputError

COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
RESAMPLES = 1000  # bootstrap resamples behind the intervals


def n_points(n_factors: int, base: int) -> int:
    """How many points a Saltelli design of this size evaluates, to size a study beforehand."""
    return base * (n_factors + 2)


def sample(factors: list[Factor], base: int, seed: int) -> np.ndarray:
    """Saltelli's design from `base` points, without second-order terms."""
    from SALib.sample import sobol

    if base < 2 or base & (base - 1):
        raise InputError(f"must be a power of 2 (Sobol' sequence), got {base}", source="--base")
    return sobol.sample(problem(factors), base, calc_second_order=False, seed=seed)


def analyze(factors: list[Factor], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """One row per factor: S1, ST and the half-widths of their 95% intervals, for output y
    (one value per design point, in design order)."""
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    names = [f.path for f in factors]
    if np.ptp(y) == 0:
        return pd.DataFrame({"factor": names, **{c: np.nan for c in COLUMNS}})
    res = sobol.analyze(
        problem(factors),
        y,
        calc_second_order=False,
        num_resamples=RESAMPLES,
        conf_level=0.95,
        seed=seed,
    )
    return pd.DataFrame({"factor": names, **{c: np.asarray(res[c], dtype=float) for c in COLUMNS}})
