"""Adaptive replication: add replicates in rounds until every reported probability is known
to a given precision.

After each round the summary's 95% Wilson intervals are read (P(realign) and P(collapse)
of every partner at every swept value); when the widest half-width exceeds the precision
asked for, the next round's replicates come from the normal approximation at the least
favourable row, n = z^2 p(1 - p) / h^2 with p the Agresti-Coull estimate (k + 2)/(n + 4)
(so that p = 0 still asks for enough runs), plus 10%. A round reruns the batch into the same
folder with the new replicate count; the manifest records every round, and `--resume`
continues from the round it stopped in.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from patronage.analysis.stats import Z95
from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results import store
from patronage.results.folder import open_results
from patronage.scenario.loader import LoadedScenario

PROBABILITIES = ("realign", "collapse")
COUNTS = {"realign": "realigned", "collapse": "collapsed"}  # summary columns of counts
MARGIN = 1.1  # the next round asks for 10% more than the approximation says


def half_widths(summary: pd.DataFrame) -> pd.DataFrame:
    """Per summary row and probability: its count, runs and the larger half of its interval."""
    frames = []
    for name in PROBABILITIES:
        p = summary[f"p_{name}"]
        frames.append(
            pd.DataFrame(
                {
                    "k": summary[COUNTS[name]],
                    "n": summary["runs"],
                    "half": np.maximum(p - summary[f"p_{name}_low"], summary[f"p_{name}_high"] - p),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def replicates_for(widths: pd.DataFrame, precision: float, replicates: int) -> int:
    """Replicates per point for the least favourable row to reach the precision."""
    p = (widths["k"] + 2) / (widths["n"] + 4)
    per_run = widths["n"] / replicates  # rows pool this many runs per replicate
    needed = Z95**2 * p * (1 - p) / precision**2 / per_run
    return max(replicates + 1, math.ceil(MARGIN * float(needed.max())))


def run_to_precision(
    loaded: LoadedScenario,
    design: Design,
    out: Path,
    precision: float,
    max_replicates: int,
    *,
    resume: bool = False,
    replace_folder: bool = False,
    **batch: Any,
) -> dict[str, Any]:
    """Run rounds of the batch into `out` until the precision or `max_replicates` is reached;
    returns the final manifest, whose `precision` entry lists the rounds."""
    if not 0 < precision < 0.5:
        raise InputError(f"must be between 0 and 0.5, got {precision}", source="--precision")
    rounds: list[dict[str, Any]] = []
    if resume:
        earlier = store.read_manifest(out)
        design = replace(design, replicates=int(earlier["design"]["replicates"]))
        rounds = list(earlier.get("precision", {}).get("rounds", []))
    while True:
        run_batch(loaded, design, out, resume=resume, replace=replace_folder, **batch)
        results = open_results(out)
        widths = half_widths(results.summary())
        widest = float(widths["half"].max())
        if not rounds or rounds[-1]["replicates"] != design.replicates:
            rounds.append({"replicates": design.replicates, "widest_half_width": widest})
        reached = widest <= precision
        if reached or design.replicates >= max_replicates:
            break
        more = min(max_replicates, replicates_for(widths, precision, design.replicates))
        _record(out, results.manifest, precision, max_replicates, rounds, False)
        design = replace(design, replicates=more)
        resume, replace_folder = False, True
    return _record(out, results.manifest, precision, max_replicates, rounds, reached)


def _record(out, manifest, precision, max_replicates, rounds, reached) -> dict[str, Any]:
    manifest["precision"] = {
        "asked": precision,
        "max_replicates": max_replicates,
        "reached": reached,
        "rounds": rounds,
    }
    store.write_json(manifest, out / store.MANIFEST)
    return manifest
