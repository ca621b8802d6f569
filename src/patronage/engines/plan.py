"""What a group of runs is made of: ids, random streams, designed values and ranged inputs.

A batch hands an engine a RunPlan: any runs of any design points. Run k has its id, the
index of its random stream (its replicate under common random numbers, rng/seeds.py), the
values its design point assigns (dotted path -> value) and the ranged inputs it draws from
its own stream (rng/inputs.py). Both engines read a plan through the functions here, so
they give a run the same inputs: the Mesa engine as one validated Scenario per run, the
ensemble as per-run arrays of the fields that vary (engines/ensemble/inputs.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patronage.results.params import param_value
from patronage.rng.inputs import draw_inputs
from patronage.rng.pcg64 import run_keys
from patronage.scenario.loader import LoadedScenario, validate
from patronage.scenario.overrides import assign, locate
from patronage.scenario.ranges import PathKey, RangedInput, covers, with_value
from patronage.scenario.schema import Scenario


def is_number(value: Any) -> bool:
    """A number, numpy's included (not a bool)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


@dataclass(frozen=True)
class RunPlan:
    """Runs computed together. `points[point_of_run[k]]` are run k's designed values."""

    loaded: LoadedScenario
    run_ids: tuple[int, ...]
    stream_ids: tuple[int, ...]
    point_of_run: tuple[int, ...]
    points: tuple[dict[str, Any], ...] = ({},)
    numeric: dict[str, bool] = field(default_factory=dict)  # designed fields' column types

    @property
    def designed(self) -> list[str]:
        """The inputs the design sets, by dotted path."""
        return sorted({name for point in self.points for name in point})

    def designed_locs(self) -> dict[str, PathKey]:
        """Where each designed input sits in the scenario data."""
        return {name: locate(self.loaded.data, name) for name in self.designed}

    def ranges(self) -> tuple[RangedInput, ...]:
        """The ranged inputs the runs draw, by path (not file order: the order of partners in
        a file changes no table); a sweep or sample of a field takes over its range."""
        return self._ranges

    @functools.cached_property
    def _ranges(self) -> tuple[RangedInput, ...]:
        taken = list(self.designed_locs().values())
        kept = [r for r in self.loaded.ranges if not any(covers(loc, r.loc) for loc in taken)]
        return tuple(sorted(kept, key=lambda r: r.path))

    def keys(self, batch_seed: int) -> np.ndarray:
        """Each run's stream key (streams.py): the first output of its seed's PCG64."""
        return run_keys(batch_seed, list(self.stream_ids))

    def draws(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        """Each ranged input drawn per run from its key, so draws do not depend on chunking."""
        return draw_inputs(keys, self.ranges())

    def param_names(self) -> list[str]:
        """The names of the run table's param columns: designed inputs, then ranged ones."""
        return [*self.designed, *(r.path for r in self.ranges())]

    def param_kinds(self) -> dict[str, float | str]:
        """A value of each recorded field's type (store.runs_schema reads the types)."""
        kinds: dict[str, float | str] = {
            name: 0.0 if self.numeric.get(name, True) else "" for name in self.designed
        }
        kinds.update({r.path: 0.0 for r in self.ranges()})
        return kinds

    def param_columns(self, draws: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """Each recorded field's value in each run, in the order of run_ids."""
        columns: dict[str, list[Any]] = {}
        for name in self.designed:
            numeric = self.numeric.get(name)
            by_point = [param_value(p.get(name), numeric) for p in self.points]
            columns[name] = [by_point[p] for p in self.point_of_run]
        for path, values in draws.items():
            columns[path] = [float(v) for v in values]
        return columns

    def scenario(self, position: int, draws: dict[str, np.ndarray]) -> Scenario:
        """The concrete scenario of one run: its drawn values and its design point's."""
        assignments = self.points[self.point_of_run[position]]
        fixed = {r.loc: draws[r.path][position].item() for r in self.ranges()}
        return resolve(self.loaded, assignments, fixed)


def resolve(
    loaded: LoadedScenario, assignments: dict[str, Any], fixed: dict[PathKey, Any]
) -> Scenario:
    """`loaded` with values written at locations (`fixed`) and at dotted paths, validated."""
    data = loaded.data
    for loc, value in fixed.items():
        data = with_value(data, loc, value)
    if not fixed and not assignments:
        return loaded.scenario
    data, touched = assign(data, assignments)
    return validate(data, loaded.source, loaded.lines, touched)


def single_plan(
    loaded: LoadedScenario, run_ids: list[int], stream_ids: list[int] | None = None
) -> RunPlan:
    """Runs of one design point (no designed fields), each on its own stream by default."""
    ids = tuple(int(r) for r in run_ids)
    streams = tuple(int(s) for s in stream_ids) if stream_ids is not None else ids
    return RunPlan(loaded, ids, streams, (0,) * len(ids))
