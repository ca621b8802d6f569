"""A test-only engine: the Mesa engine, except that run FAILING_RUN raises inside its run.

A real batch (any executor) must then record it in `failed_runs`, keep the other runs and
exit 1. Workers import this module by name (the batch passes the engine's module in its
job), so the tests folder must be on sys.path, as it is under pytest.
"""

from __future__ import annotations

from typing import Any

from patronage.engines import mesa
from patronage.engines.plan import RunPlan
from patronage.results.store import GroupTables
from patronage.scenario.schema import Scenario

FAILING_RUN = 3
FAILURE = f"RuntimeError: test-only failure inside run {FAILING_RUN}"


def run_plan(
    plan: RunPlan, batch_seed: int, steps: int | None = None, series_every: int | None = 1
) -> GroupTables:
    original = mesa.simulate

    def simulate(scenario: Scenario, seed: Any, run_id: int = 0, **options: Any) -> Any:
        if run_id == FAILING_RUN:
            raise RuntimeError(f"test-only failure inside run {FAILING_RUN}")
        return original(scenario, seed, run_id=run_id, **options)

    mesa.simulate = simulate  # type: ignore[assignment]
    try:
        return mesa.run_plan(plan, batch_seed, steps, series_every)
    finally:
        mesa.simulate = original  # type: ignore[assignment]
