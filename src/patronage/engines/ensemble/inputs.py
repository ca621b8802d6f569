"""A plan's runs as groups the ensemble steps together, each with per-run input arrays.

Every numeric input the ensemble reads (partner scores, affinities, offers, watch weights,
the withdrawal and budget cut, event values and steps, coefficients) can differ from run
to run: Static takes them as arrays over the runs. Runs are grouped only by designed values
that cannot be arrays (a list, a word, a missing value): a Latin hypercube of 2,000 points
over numbers is one group, stepped together.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from patronage.engines.plan import RunPlan, is_number, resolve
from patronage.scenario.ranges import PathKey
from patronage.scenario.schema import Scenario

PARTNER_SCORES = (
    "loyalty",
    "dependence",
    "trust",
    "allocation",
    "strength",
    "threat",
    "pressure",
    "autonomy",
)
PARTNER_TABLES = ("affinity", "offers", "watches")
SCHEDULE = ("level", "start", "ramp")


def is_vectorised(loc: PathKey) -> bool:
    """Whether Static reads the field at `loc` as a per-run array."""
    match loc:
        case ("coefficients", str()):
            return True
        case ("partners", int(), field):
            return field in PARTNER_SCORES
        case ("partners", int(), table, str()):
            return table in PARTNER_TABLES
        case ("withdrawal", field) | ("budget_cut", field):
            return field in SCHEDULE
        case ("withdrawal", "targets", int(), field):
            return field in SCHEDULE
        case ("withdrawal", "redirect", str()):
            return True
        case ("events", int(), field):
            return field in ("value", "step")
    return False


Group = tuple[Scenario, list[int], dict[PathKey, np.ndarray]]


def input_groups(plan: RunPlan, draws: dict[str, np.ndarray]) -> list[Group]:
    """(base scenario, positions in the plan, per-run values by location) for each group.

    The base scenario holds the group's first design point; the arrays hold, for the
    group's runs in order, every designed number Static reads and every drawn value.
    """
    locs = plan.designed_locs()
    used = [plan.points[p] for p in sorted(set(plan.point_of_run))]
    arrays = [
        name
        for name in plan.designed
        if is_vectorised(locs[name]) and all(is_number(point.get(name)) for point in used)
    ]
    structural = [name for name in plan.designed if name not in arrays]
    members: dict[str, list[int]] = {}
    for position, p in enumerate(plan.point_of_run):
        key = json.dumps([plan.points[p].get(name) for name in structural], sort_keys=True)
        members.setdefault(key, []).append(position)
    ranges = plan.ranges()
    groups: list[Group] = []
    for positions in members.values():
        first = plan.points[plan.point_of_run[positions[0]]]
        base = resolve(plan.loaded, first, {})
        varying: dict[PathKey, np.ndarray] = {}
        for name in arrays:
            by_point = {p: float(plan.points[p][name]) for p in set(plan.point_of_run)}
            varying[locs[name]] = np.array([by_point[plan.point_of_run[k]] for k in positions])
        take = np.asarray(positions)
        for r in ranges:
            varying[r.loc] = draws[r.path][take].astype(np.float64)
        groups.append((base, positions, varying))
    return groups


Cells = tuple[np.ndarray, ...]  # (run indices, partner indices) of chosen cells


def at_cells(value: Any, where: Cells) -> Any:
    """A static input at cells (runs, partners): shared by runs, per partner, or per run."""
    if not isinstance(value, np.ndarray):
        return value
    if value.ndim == 1:
        return value[where[1]]
    return value[where[0], np.minimum(where[1], value.shape[1] - 1)]
