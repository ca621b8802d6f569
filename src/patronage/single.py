"""`patronage run`: one seeded run of a scenario, written as a result folder of one row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import provenance, store
from .loader import LoadedScenario
from .runner import RunResult, simulate
from .seeds import run_seed_sequence


@dataclass
class SingleRun:
    loaded: LoadedScenario
    seed: int
    result: RunResult
    out: Path
    result_steps: int


def run_one(
    loaded: LoadedScenario,
    seed: int,
    out: Path,
    steps: int | None = None,
    series_every: int | None = 1,
    replace: bool = False,
) -> SingleRun:
    """Run once with the seed of run 0 of a batch with the same seed, and write the folder."""
    scenario = loaded.scenario
    started = provenance.now()
    result = simulate(
        scenario, run_seed_sequence(seed, 0), run_id=0, steps=steps, series_every=series_every
    )
    result.run["seed"] = seed
    partner_ids = scenario.partner_ids()
    with store.StagedFolder(out, replace=replace) as folder:
        store.write_table(
            store.dicts_table([result.run], store.runs_schema([], partner_ids)),
            folder / "runs.parquet",
        )
        store.write_table(
            store.rows_table(result.events, store.EVENTS_SCHEMA), folder / "events.parquet"
        )
        store.write_table(
            store.rows_table(result.series, store.SERIES_SCHEMA), folder / "series.parquet"
        )
        manifest = store.new_manifest(
            loaded,
            kind="run",
            seed=seed,
            steps=steps or scenario.steps,
            series_every=series_every,
            design={"sweeps": [], "samples": [], "n_samples": 0, "replicates": 1},
            n_runs=1,
            started=started,
        )
        manifest["runs"]["done"] = 1
        manifest["finished"] = provenance.now()
        manifest["status"] = "complete"
        store.write_json(manifest, folder / store.MANIFEST)
    return SingleRun(loaded, seed, result, out, steps or scenario.steps)
