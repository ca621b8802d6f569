"""A whole tipping study: check the field and its range, claim the folder, search each
partner, and write the crossings and settings. One function serves `patronage tipping` and
the Python API, so both give the same folder for the same arguments."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from patronage.analysis.factors import whole_number_field
from patronage.analysis.tipping import Search
from patronage.analysis.tipping_batches import (
    CROSSINGS,
    METHOD,
    OUTCOMES,
    SETTINGS,
    StageRunner,
    crossings_table,
    search_partner,
    write_outputs,
)
from patronage.atomic import temporary_pattern
from patronage.errors import InputError
from patronage.results.claim import is_ours
from patronage.scenario.loader import LoadedScenario, override_scenario

FIGURE = "tipping.png"
OUTPUT_FILES = (SETTINGS, CROSSINGS, FIGURE)
# the temporary of an output file, left by a study that was killed while writing it
TEMPORARY = temporary_pattern("|".join(map(re.escape, OUTPUT_FILES)))


@dataclass(frozen=True)
class TippingStudy:
    """What a tipping search found: one row per crossing, the coarse curve of each partner
    (`unresolved` marks levels where the target stays inside the 95% interval), the refined
    levels, and the settings written to tipping.json."""

    folder: Path
    crossings: pd.DataFrame
    curves: pd.DataFrame
    refined: pd.DataFrame
    settings: dict[str, Any]


def field_range(
    loaded: LoadedScenario, field: str, span: tuple[float, float] | None
) -> tuple[float, float]:
    """The range searched: `span`, else 0:1 when both ends are valid values of the field.
    A whole-number field (a step) is refused: the search needs a continuous one."""
    if span is None:
        low, high = 0.0, 1.0
        try:
            for end in (low, high):
                override_scenario(loaded, {field: end})
        except InputError:
            raise InputError(
                "0 and 1 are not both valid values of this field: give --range LOW:HIGH",
                source="--range",
                field=field,
            ) from None
    else:
        low, high = span
    for end in (low, high):
        override_scenario(loaded, {field: end})
    if not low < high:
        raise InputError("LOW must be below HIGH", source="--range", field=field)
    if whole_number_field(loaded, field, low, high):
        raise InputError(
            "takes whole numbers; the tipping search needs a continuous field (sweep it with "
            "`patronage batch --sweep`)",
            source="--field",
            field=field,
        )
    return low, high


def checked_partners(loaded: LoadedScenario, partner: str) -> list[str]:
    """The partners searched: one id, or every partner for "all"."""
    ids = loaded.scenario.partner_ids()
    partners = ids if partner == "all" else [partner]
    if partners[0] not in ids:
        raise InputError(f"must be one of {', '.join(ids)} or all", source="--partner")
    return partners


def checked_target(target: float) -> float:
    """The probability whose crossings are sought, strictly between 0 and 1."""
    if not 0 < target < 1:
        raise InputError(f"must be between 0 and 1, got {target}", source="--target")
    return target


def is_tipping_folder(out: Path) -> bool:
    """Whether a folder holds only what a tipping study writes: its settings, crossings and
    figure, and one result folder per stage."""
    if not (out / SETTINGS).is_file():
        return False
    for entry in out.iterdir():
        if entry.is_symlink():
            return False
        if entry.is_dir():
            if not is_ours(entry):
                return False
        elif entry.name not in OUTPUT_FILES and not TEMPORARY.match(entry.name):
            return False
    return True


def claim_folder(out: Path, resume: bool, replace: bool) -> None:
    """A new tipping folder; `replace` replaces only a tipping folder that holds nothing else
    (tipping.json and what the study writes beside it)."""
    if not resume and out.exists():
        if not replace or not is_tipping_folder(out):
            raise InputError(
                "already exists; choose another --out, --resume it, or --force to replace a "
                "tipping folder that holds nothing else",
                source=str(out),
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def run_tipping(
    loaded: LoadedScenario,
    field: str,
    partners: list[str],
    outcome: str,
    target: float,
    search: Search,
    seed: int,
    out: Path,
    *,
    resume: bool = False,
    replace: bool = False,
    **batch: Any,
) -> TippingStudy:
    """Search every partner for the levels of `field` where P(outcome) crosses `target`,
    stage by stage in `out` (resumable), and write crossings.csv and tipping.json.
    `batch`: keyword arguments of experiments.run_batch (executor, engine, steps, ...)."""
    if outcome not in OUTCOMES:
        raise InputError(
            f"must be one of {', '.join(OUTCOMES)}, got '{outcome}'", source="--outcome"
        )
    checked_target(target)
    claim_folder(out, resume, replace)
    stages = StageRunner(loaded, field, seed, out, replace=False, **batch)
    curves, found = [], {}
    for i, partner in enumerate(partners):
        curve, found[partner] = search_partner(
            stages, partner, outcome, search, target, seed=seed + i
        )
        curves.append(curve)
    table = crossings_table(found, field, outcome, target)
    settings = {
        "scenario": loaded.source,
        "field": field,
        "partners": partners,
        "outcome": outcome,
        "target": target,
        "seed": seed,
        "engine": batch.get("engine", "mesa"),
        "search": search.__dict__,
        "method": METHOD,
        "runs": stages.runs,
        # common random numbers across levels (replicate k one stream) or a stream per run
        "streams": stages.opened["scan"].design.streams or "independent",
    }
    write_outputs(out, settings, table)
    refined = pd.DataFrame(stages.refined, columns=["partner", "level", "p"])
    return TippingStudy(out, table, pd.concat(curves, ignore_index=True), refined, settings)
