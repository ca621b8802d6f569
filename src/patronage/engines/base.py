"""The one interface of an engine, and the registry of engines by name.

An engine computes the runs of one design point: a pure function of the scenario, the batch
seed, the run ids, the horizon, the series spacing and the designed parameter values,
returning the rows of the result tables (`GroupTables`). Batches, `verify` and the API call
engines only through `get_engine(name)`, so adding one means adding a line to `ENGINES`.
Engines are imported on first use: the ensemble never imports Mesa.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from patronage.engines.plan import RunPlan
from patronage.errors import InputError
from patronage.results.store import GroupTables
from patronage.scenario.schema import Scenario

__all__ = ["ENGINES", "Engine", "PlanEngine", "get_engine", "get_plan_engine"]

# name -> module whose `run_group` implements the engine
ENGINES: dict[str, str] = {
    "mesa": "patronage.engines.mesa",
    "ensemble": "patronage.engines.ensemble",
}


class Engine(Protocol):
    """`run_group` of an engine module: the runs `run_ids` of one design point."""

    def __call__(
        self,
        scenario: Scenario,
        batch_seed: int,
        run_ids: list[int],
        steps: int | None = None,
        series_every: int | None = 1,
        params: dict[str, Any] | None = None,
    ) -> GroupTables:
        """Run the given runs of one design point and return their tables."""
        ...


class PlanEngine(Protocol):
    """`run_plan` of an engine module: any runs of any design points (engines/plan.py)."""

    def __call__(
        self,
        plan: RunPlan,
        batch_seed: int,
        steps: int | None = None,
        series_every: int | None = 1,
    ) -> GroupTables:
        """Run the runs of a plan and return their tables."""
        ...


def get_plan_engine(name: str) -> PlanEngine:
    """The `run_plan` of the engine called `name`, imported on demand."""
    if name not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)}, got '{name}'", source="--engine")
    run_plan: PlanEngine = importlib.import_module(ENGINES[name]).run_plan
    return run_plan


def get_engine(name: str) -> Engine:
    """The engine called `name` (one of ENGINES), imported on demand."""
    if name not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)}, got '{name}'", source="--engine")
    run_group: Engine = importlib.import_module(ENGINES[name]).run_group
    return run_group
