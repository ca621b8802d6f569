"""A test-only engine: the Mesa engine, except that a chunk kills its own worker process (as
the out-of-memory killer would) while a marker file for the batch seed exists.

`marker(seed, once=True)` is removed by the first chunk that sees it, so a resume succeeds;
`once=False` kills every worker that tries (Dask retries a task on new workers, then gives
up). The workers find this module by name: the tests folder is on sys.path under pytest.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from patronage.engines import mesa
from patronage.engines.plan import RunPlan
from patronage.results.store import GroupTables


def marker(seed: int, once: bool) -> Path:
    return Path(tempfile.gettempdir()) / f"patronage-test-die-{'once' if once else 'always'}-{seed}"


def _claim(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def run_plan(
    plan: RunPlan, batch_seed: int, steps: int | None = None, series_every: int | None = 1
) -> GroupTables:
    if marker(batch_seed, False).exists() or _claim(marker(batch_seed, True)):
        os.kill(os.getpid(), signal.SIGKILL)
    return mesa.run_plan(plan, batch_seed, steps, series_every)
