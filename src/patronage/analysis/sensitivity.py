"""Sensitivity studies: a SALib design run as a batch, and its indices per partner and output.

A study is a method (Morris or Sobol'), its factors and a size (Morris trajectories or the
Sobol' base sample), drawn from the batch seed. Its design points run as an ordinary batch
with explicit points (resumable, the same folder format), `replicates` runs each; the
outputs of a point are the fractions of its runs in which each partner realigned or
collapsed by the horizon and ended in each final state. Each output of each partner gets
its own indices over the factors (`indices.parquet` in the folder, described in the
manifest's `sensitivity` entry). Replicates average out the model's own noise: with common
random numbers they also pair the points, so effects are not swamped by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from patronage.analysis import morris, sobol
from patronage.analysis.factors import Factor
from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.model.outcomes import STATUSES
from patronage.results import store
from patronage.results.folder import Results, open_results
from patronage.results.manifest import Manifest, write_manifest
from patronage.scenario.loader import LoadedScenario

METHODS = {"morris": morris, "sobol": sobol}
OUTPUTS = ("p_realign", "p_collapse", *(f"share_{s}" for s in STATUSES))
INDICES = store.INDICES
RANKED_BY = {"morris": "mu_star", "sobol": "ST"}


@dataclass(frozen=True)
class Study:
    """A sensitivity design: `size` is Morris trajectories or the Sobol' base sample."""

    method: str
    factors: tuple[Factor, ...]
    size: int
    seed: int

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"must be one of {', '.join(METHODS)}, got '{self.method}'", source="--method"
            )

    def sample(self) -> np.ndarray:
        """SALib's design, (points, factors), a pure function of the study."""
        return METHODS[self.method].sample(list(self.factors), self.size, self.seed)

    def points(self) -> list[dict[str, Any]]:
        """The design points to run: one scenario override per factor for each sampled row."""
        return [
            {f.path: f.value(v) for f, v in zip(self.factors, row, strict=True)}
            for row in self.sample()
        ]

    @property
    def n_points(self) -> int:
        """How many design points the study needs, to report its cost before running."""
        return METHODS[self.method].n_points(len(self.factors), self.size)

    def to_dict(self) -> dict[str, Any]:
        """The study as plain data, saved beside its results so it can be resumed and cited."""
        return {
            "method": self.method,
            "size": self.size,
            "size_means": "trajectories" if self.method == "morris" else "base sample",
            "seed": self.seed,
            "factors": [f.to_dict() for f in self.factors],
        }


def point_outcomes(results: Results, replicates: int) -> pd.DataFrame:
    """One row per design point, one column per (partner, output): fractions of its runs."""
    finals = results.finals()
    finals["point"] = finals["run_id"] // replicates
    frame = pd.DataFrame(
        {
            "point": finals["point"],
            "partner": finals["partner"],
            "p_realign": finals["realign_step"].notna().astype(float),
            "p_collapse": finals["collapse_step"].notna().astype(float),
            **{f"share_{s}": (finals["status"] == s).astype(float) for s in STATUSES},
        }
    )
    means = pd.DataFrame(frame.groupby(["point", "partner"], sort=True).mean())
    wide = pd.DataFrame(means.unstack("partner"))
    return wide.swaplevel(0, 1, axis=1).sort_index(axis=1)


def indices_table(study: Study, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Indices per (partner, output, factor), ranked within each (partner, output) by mu*
    (Morris) or ST (Sobol'), rank 1 the most influential."""
    x = study.sample()
    if len(outcomes) != len(x):
        raise InputError(
            f"{len(x) - len(outcomes)} design points have no completed run; the indices need "
            "every point (see failed_runs in the manifest)",
            source="sensitivity",
        )
    module = METHODS[study.method]
    key = RANKED_BY[study.method]
    frames = []
    for partner in sorted(set(outcomes.columns.get_level_values(0))):
        for output in OUTPUTS:
            y = outcomes[(partner, output)].to_numpy()
            table = module.analyze(list(study.factors), x, y, study.seed)
            table.insert(0, "output", output)
            table.insert(0, "partner", partner)
            table["rank"] = table[key].rank(ascending=False, method="first").astype("Int64")
            frames.append(table.sort_values("rank", na_position="last"))
    return pd.concat(frames, ignore_index=True)


def run_study(
    loaded: LoadedScenario, study: Study, replicates: int, out: Path, **batch: Any
) -> tuple[Manifest, pd.DataFrame]:
    """Run (or resume) the study's batch into `out`, then write its indices; returns the
    manifest and the indices table. `batch`: keyword arguments of experiments.run_batch."""
    design = Design(replicates=replicates, seed=study.seed, explicit=study.points())
    run_batch(loaded, design, out, **batch)
    results = open_results(out)
    table = indices_table(study, point_outcomes(results, replicates))
    store.write_table(table_arrow(table), out / INDICES)
    manifest = results.manifest
    manifest.sensitivity = {
        **study.to_dict(),
        "replicates": replicates,
        "outputs": list(OUTPUTS),
        "indices": INDICES,
        "indices_sha256": store.file_sha256(out / INDICES),
    }
    write_manifest(manifest, out / store.MANIFEST)
    return manifest, table


def table_arrow(table: pd.DataFrame):
    """The indices table as Arrow, so it is written like the other result tables."""
    import pyarrow as pa

    return pa.Table.from_pandas(table, preserve_index=False)


def read_indices(results: Results) -> pd.DataFrame | None:
    """The indices of a sensitivity folder (None for another batch), checked against the
    manifest's sha256."""
    entry = results.manifest.sensitivity
    if not entry:
        return None
    path = results.path / entry["indices"]
    if not path.exists() or store.file_sha256(path) != entry["indices_sha256"]:
        raise InputError(
            f"{entry['indices']} is missing or does not match the manifest; rebuild it with "
            "`patronage sensitivity ... --resume` on this folder",
            source=str(results.path),
        )
    return pd.read_parquet(path)
