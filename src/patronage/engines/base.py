"""The one interface of an engine, and the registry of engines by name.

An engine computes the runs of a plan (engines/plan.py: run ids, their streams, their
design points and drawn inputs): a pure function of the plan, the batch seed, the horizon
and the series spacing, returning the rows of the result tables (`GroupTables`). Batches,
`verify` and the API call engines only through `get_plan_engine(name)`, so adding one means
adding a line to `ENGINES`.
Engines are imported on first use: the ensemble never imports Mesa.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from patronage.engines.plan import RunPlan
from patronage.errors import InputError
from patronage.results.store import GroupTables

__all__ = ["ENGINES", "PlanEngine", "get_plan_engine"]

# name -> module whose `run_plan` implements the engine (and `run_group`, one point)
ENGINES: dict[str, str] = {
    "mesa": "patronage.engines.mesa",
    "ensemble": "patronage.engines.ensemble",
}


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
