"""Re-run a sample of a folder's runs and confirm they give identical rows.

A reader who receives a result folder can check it without trusting its author: the
manifest holds the scenario text, the design and the seed, and a run depends on nothing
else (given the same package version and engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from patronage.experiments.chunks import ChunkOutput, ChunkTask, Job, run_chunk
from patronage.results.folder import Results
from patronage.results.params import numeric_fields
from patronage.rng.seeds import INDEPENDENT


@dataclass
class Verification:
    """What re-running sampled runs found: which matched and which did not."""

    checked: list[int]
    mismatched: dict[int, str]
    # run ids the runs table holds twice, or lacks (neither there nor recorded as failed)
    duplicated: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every checked run matched and none is missing or duplicated."""
        return not (self.mismatched or self.duplicated or self.missing)


def run_id_problems(results: Results) -> tuple[list[int], list[int]]:
    """Run ids the runs table holds more than once, and those it lacks that did not fail."""
    ids = results.runs["run_id"].to_numpy()
    values, counts = np.unique(ids, return_counts=True)
    duplicated = values[counts > 1].tolist()
    failed = np.array(sorted(int(k) for k in results.manifest.failed_runs), dtype=np.int64)
    expected = np.setdiff1d(np.arange(results.manifest.runs.total, dtype=np.int64), failed)
    missing = np.setdiff1d(expected, values).tolist()
    return duplicated, missing


def verify(results: Results, sample: int, seed: int = 0) -> Verification:
    """Re-run `sample` runs drawn at random (seeded) and compare all four tables' rows."""
    m = results.manifest
    design = m.design
    points = m.points
    job = Job(
        m.scenario.text,
        m.scenario.source,
        tuple(m.scenario.overrides),
        m.seed,
        m.steps,
        m.series_every,
        m.engine,
        replicates=design.replicates,
        streams=design.streams or INDEPENDENT,  # folders before common random numbers
        numeric=numeric_fields(points),
    )
    duplicated, missing = run_id_problems(results)
    run_ids = np.unique(results.runs["run_id"].to_numpy())
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(run_ids, size=min(sample, len(run_ids)), replace=False).tolist())
    spanned = {r // job.replicates for r in chosen}
    tables = run_chunk(job, ChunkTask(0, tuple(chosen), {p: points[p] for p in spanned}))
    mismatched = _compare(results, tables, chosen)
    return Verification(chosen, mismatched, duplicated, missing)


def _compare(results: Results, fresh: ChunkOutput, ids: list[int]) -> dict[int, str]:
    problems: dict[int, str] = {}
    for name in ("runs", "outcomes", "events", "series"):
        stored = _plain(getattr(results, name))
        stored = stored[stored["run_id"].isin(ids)].reset_index(drop=True)
        new = _plain(getattr(fresh, name).to_pandas())
        if name == "series" and results.manifest.series_every is None:
            continue
        for run_id in ids:
            a = stored[stored["run_id"] == run_id].reset_index(drop=True)
            b = new[new["run_id"] == run_id].reset_index(drop=True)
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=False)
            except AssertionError as exc:
                first = str(exc).strip().splitlines()[0]
                problems.setdefault(int(run_id), f"{name}: {first}")
    return problems


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as plain labels: a folder of format 1 stored them as strings."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: object for c in cats}) if cats else frame
