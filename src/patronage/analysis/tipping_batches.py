"""The tipping search run on the model: each stage of the search is a batch (a sweep of the
field) in a subfolder of the tipping folder, resumable like any batch.

The folder holds `scan/` (the coarse scan, shared by every partner), one folder per
refinement round (`<partner>-<outcome>-bracket<i>-round<r>/`), `tipping.json` (the settings,
the method and the crossings) and `crossings.csv`. A stage whose folder is complete is read,
not run again, so `--resume` finishes a stopped search and gives the same crossings.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from patronage.analysis.tipping import Crossing, Search, find_crossings
from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results import store
from patronage.results.folder import Results, open_results
from patronage.scenario.loader import LoadedScenario

OUTCOMES = ("realign", "collapse")
SETTINGS = "tipping.json"
CROSSINGS = "crossings.csv"
METHOD = (
    "coarse scan, then per bracket rounds of refinement that zoom in on the crossing; level "
    "from a binomial logistic fit to the last round's levels, 95% interval from a replicate "
    "bootstrap (whole replicates resampled, keeping common-random-number pairing), "
    "percentiles 2.5 and 97.5"
)


class StageRunner:
    """Runs (or reads) the batch of one stage and returns the 0/1 outcomes of a partner."""

    def __init__(
        self, loaded: LoadedScenario, field: str, seed: int, out: Path, **batch: Any
    ) -> None:
        self.loaded, self.field, self.seed, self.out = loaded, field, seed, out
        self.batch = batch
        self.opened: dict[str, Results] = {}
        self.runs = 0
        self.refined: list[dict[str, Any]] = []  # (partner, level, p) of refinement rounds

    def levels(self, levels: np.ndarray) -> list[float]:
        """The levels run, rounded as sweep values are (so they read back equal)."""
        return [round(float(x), 12) for x in levels]

    def results(self, stage: str, levels: list, replicates: int) -> Results:
        """The results of one search stage: its batch runs once (resumed if begun) and is reused."""
        if stage not in self.opened:
            folder = self.out / stage
            design = Design(sweeps={self.field: levels}, replicates=replicates, seed=self.seed)
            resume = (folder / store.MANIFEST).exists()
            manifest = run_batch(self.loaded, design, folder, resume=resume, **self.batch)
            if manifest.runs.failed:
                raise InputError(
                    f"{manifest.runs.failed} runs failed in {folder}; see its manifest "
                    "(failed_runs)",
                    source="tipping",
                )
            self.runs += manifest.runs.total
            self.opened[stage] = open_results(folder)
        return self.opened[stage]

    def evaluator(self, partner: str, outcome: str):
        """The `evaluate(levels, replicates, stage)` of analysis.tipping for one partner."""

        def evaluate(levels: np.ndarray, replicates: int, stage: str) -> np.ndarray:
            run = self.levels(levels)
            name = stage if stage == "scan" else f"{partner}-{outcome}-{stage}"
            if stage == "scan-check":  # which levels get a second look depends on the partner
                name = f"{partner}-{outcome}-scan-check"
            finals = self.results(name, run, replicates).finals()
            mine = finals[finals["partner"] == partner].sort_values("run_id")
            happened = mine[f"{outcome}_step"].notna().to_numpy(dtype=np.int8)
            outcomes = happened.reshape(len(run), replicates)
            if not stage.startswith("scan"):
                self.refined.extend(
                    {"partner": partner, "level": x, "p": p}
                    for x, p in zip(run, outcomes.mean(1), strict=True)
                )
            return outcomes

        return evaluate


def search_partner(
    stages: StageRunner, partner: str, outcome: str, search: Search, target: float, seed: int
) -> tuple[pd.DataFrame, list[Crossing]]:
    """The coarse curve of one partner and its crossings."""
    evaluate = stages.evaluator(partner, outcome)
    scan, found = find_crossings(evaluate, search, target, seed)
    curve = pd.DataFrame(
        {"partner": partner, "level": scan.levels, "p": scan.p, "runs": scan.replicates}
    )
    curve["unresolved"] = curve["level"].isin(scan.unresolved)
    return curve, found


def crossings_table(
    found: dict[str, list[Crossing]], field: str, outcome: str, target: float
) -> pd.DataFrame:
    """One row per crossing found, as the table `patronage tipping` writes and prints."""
    rows = [
        {
            "partner": partner,
            "outcome": outcome,
            "target": target,
            "field": field,
            **{k: v for k, v in asdict(c).items() if k not in ("bracket", "levels")},
            "bracket_low": c.bracket[0],
            "bracket_high": c.bracket[1],
        }
        for partner, crossings in found.items()
        for c in crossings
    ]
    columns = [
        "partner",
        "outcome",
        "target",
        "field",
        "direction",
        "level",
        "low",
        "high",
        "bracket_low",
        "bracket_high",
        "replicates",
    ]
    return pd.DataFrame(rows, columns=columns)


def write_outputs(out: Path, settings: dict[str, Any], table: pd.DataFrame) -> None:
    """Write the crossings table and the search settings that produced it."""
    store.write_text(out / CROSSINGS, table.to_csv(index=False, lineterminator="\n"))
    store.write_text(out / SETTINGS, json.dumps(settings, indent=2) + "\n")
